package detectors

import "strings"

// countryISO3 maps a production-table country name to ISO alpha-3 when the row carries no code.
// Names are matched after trimming and dropping trailing footnote digits; a trailing footnote "e"
// (estimated, as in USGS "Japane") is dropped when that makes a known name. Unknown names are kept
// as they are (upper-cased), so they still count as distinct countries. A qualifier after a known
// name ("United States (extracted from natural gas)") is dropped.
func countryISO3(name string) string {
	n := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(name, "\u00a0", " ")))
	n = strings.TrimRight(n, "0123456789 ")
	if iso, ok := countryNames[n]; ok {
		return iso
	}
	if strings.HasSuffix(n, "e") {
		if iso, ok := countryNames[strings.TrimSuffix(n, "e")]; ok {
			return iso
		}
	}
	// a qualifier after the name: "United States (from Cliffside Field)", "Argentina, crude ore"
	// (whole names with parentheses or commas, "Congo (Kinshasa)", "Korea, Republic of", matched above)
	if i := strings.IndexAny(n, "(,"); i > 0 {
		if iso, ok := countryNames[strings.TrimSpace(n[:i])]; ok {
			return iso
		}
	}
	return strings.ToUpper(n)
}

var countryNames = map[string]string{
	"united states": "USA", "australia": "AUS", "canada": "CAN", "congo (kinshasa)": "COD", "cuba": "CUB",
	"indonesia": "IDN", "madagascar": "MDG", "new caledonia": "NCL", "papua new guinea": "PNG", "philippines": "PHL",
	"russia": "RUS", "turkey": "TUR", "china": "CHN", "japan": "JPN", "korea, republic of": "KOR", "brazil": "BRA",
	"burma": "MMR", "greenland": "GRL", "india": "IND", "malaysia": "MYS", "south africa": "ZAF", "tanzania": "TZA",
	"thailand": "THA", "vietnam": "VNM", "chile": "CHL", "argentina": "ARG", "peru": "PER", "mexico": "MEX",
	"germany": "DEU", "ukraine": "UKR", "zimbabwe": "ZWE", "rwanda": "RWA", "mozambique": "MOZ", "bolivia": "BOL",
	"tajikistan": "TJK", "mongolia": "MNG", "norway": "NOR", "finland": "FIN", "sweden": "SWE", "morocco": "MAR",
	"gabon": "GAB", "ghana": "GHA", "zambia": "ZMB", "kazakhstan": "KAZ", "portugal": "PRT", "spain": "ESP",
	"austria": "AUT", "france": "FRA", "united kingdom": "GBR", "namibia": "NAM", "nigeria": "NGA", "uzbekistan": "UZB",
	"north korea": "PRK", "korea, north": "PRK", "iran": "IRN", "pakistan": "PAK", "saudi arabia": "SAU",
	"colombia": "COL", "ecuador": "ECU", "guinea": "GIN", "sierra leone": "SLE", "taiwan": "TWN", "belgium": "BEL",
	"netherlands": "NLD", "poland": "POL", "slovakia": "SVK", "czechia": "CZE", "hungary": "HUN", "israel": "ISR",
	"egypt": "EGY", "ethiopia": "ETH", "kyrgyzstan": "KGZ", "laos": "LAO", "nigeria ": "NGA", "burundi": "BDI",
	"uganda": "UGA", "kenya": "KEN", "malawi": "MWI", "mali": "MLI", "niger": "NER", "senegal": "SEN",
	"congo (brazzaville)": "COG", "armenia": "ARM", "georgia": "GEO", "azerbaijan": "AZE", "belarus": "BLR",
	"new zealand": "NZL", "singapore": "SGP", "united arab emirates": "ARE", "oman": "OMN", "qatar": "QAT",
}
