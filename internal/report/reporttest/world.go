package reporttest

// The demo supply map: a small but realistic picture of three industrial chains in five Chinese
// provinces. Enterprises, suppliers and products are invented; component categories, HS codes and
// supplier countries reflect the real dependencies of each chain (photoresist and lithography from
// Japan and the Netherlands, FPGAs and EDA from the US, automotive MCUs and IGBTs from Germany, RV
// reducers from Japan). Material production shares come from USGS MCS 2024 (testdata/report/usgs_mcs2024).

type enterprise struct {
	id, name, region, industry string
	leader                     bool
}

var enterprises = []enterprise{
	{"ENT-SZME", "Suzhou Microelectronics", "Jiangsu", "semiconductors", true},
	{"ENT-WXPK", "Wuxi Advanced Packaging", "Jiangsu", "semiconductors", false},
	{"ENT-HFDG", "Hefei Display Driver IC", "Anhui", "semiconductors", false},
	{"ENT-SZEV", "Shenzhen EV Drive Systems", "Guangdong", "new_energy_vehicles", true},
	{"ENT-GZBM", "Guangzhou Battery Materials", "Guangdong", "new_energy_vehicles", false},
	{"ENT-CZMW", "Changzhou Motor Works", "Jiangsu", "new_energy_vehicles", false},
	{"ENT-SHRB", "Shanghai Robotics Integration", "Shanghai", "industrial_robots", true},
	{"ENT-NBPB", "Ningbo Precision Spindles", "Zhejiang", "industrial_robots", false},
}

type component struct {
	id, name, category, hs string
	list                   bool // on the 卡点 list
	ttr                    float64
}

var components = []component{
	{"CMP-ARF-PR", "ArF immersion photoresist", "key_material", "370790", true, 180},
	{"CMP-GA-HP", "High-purity gallium (7N)", "key_material", "811292", true, 120},
	{"CMP-NDFEB", "Sintered NdFeB magnet", "key_material", "850511", false, 120},
	{"CMP-GRAPH", "Spherical graphite anode material", "key_material", "250490", false, 90},
	{"CMP-FPGA", "High-end FPGA (16 nm)", "high_end_chip", "854231", true, 270},
	{"CMP-MCU", "Automotive 32-bit MCU", "high_end_chip", "854231", false, 240},
	{"CMP-IGBT", "IGBT power module", "high_end_chip", "854129", false, 180},
	{"CMP-EDA", "EDA tool suite (sign-off)", "industrial_software", "", true, 365},
	{"CMP-PLC", "PLC runtime and engineering software", "industrial_software", "", false, 240},
	{"CMP-RV", "RV precision reducer", "base_component", "848340", false, 150},
	{"CMP-BRG", "High-precision spindle bearing", "base_component", "848220", false, 120},
	{"CMP-MLCC", "MLCC capacitor (automotive grade)", "base_component", "853224", false, 90},
	{"CMP-CNC5", "5-axis CNC machining centre", "machine_tool", "845710", true, 365},
	{"CMP-LITHO", "DUV lithography scanner", "machine_tool", "848620", true, 540},
}

type supplier struct {
	id, name, country string
}

var suppliers = []supplier{
	{"SUP-JP-RES", "Tokyo Resist Materials KK", "JPN"},
	{"SUP-CN-RES", "Xuzhou Photoresist Co.", "CHN"},
	{"SUP-CN-GA", "Zhuzhou Gallium Refining", "CHN"},
	{"SUP-CN-MAG", "Ganzhou Rare Earth Magnets", "CHN"},
	{"SUP-CN-GRA", "Jixi Graphite Processing", "CHN"},
	{"SUP-US-FPGA", "Pacific Programmable Logic Inc.", "USA"},
	{"SUP-DE-MCU", "Rhein Automotive Semiconductors GmbH", "DEU"},
	{"SUP-CN-MCU", "Shanghai Auto Chip Co.", "CHN"},
	{"SUP-DE-IGBT", "Bavaria Power Devices AG", "DEU"},
	{"SUP-CN-IGBT", "Zhuzhou Power Semiconductor", "CHN"},
	{"SUP-US-EDA", "Silicon Design Automation Inc.", "USA"},
	{"SUP-DE-PLC", "Franken Automation Software GmbH", "DEU"},
	{"SUP-JP-RV", "Kansai Precision Reducers KK", "JPN"},
	{"SUP-CN-RV", "Zhejiang Harmonic Drives", "CHN"},
	{"SUP-DE-BRG", "Schwaben Spindle Bearings GmbH", "DEU"},
	{"SUP-JP-MLCC", "Kyoto Ceramic Capacitors KK", "JPN"},
	{"SUP-DE-CNC", "Baden Machine Tools AG", "DEU"},
	{"SUP-NL-LITHO", "Veldhoven Lithography BV", "NLD"},
}

type product struct {
	id, name, enterprise string
	bom                  []string
}

var products = []product{
	{"PRD-SOC", "Mobile SoC", "ENT-SZME", []string{"CMP-ARF-PR", "CMP-GA-HP", "CMP-FPGA", "CMP-EDA", "CMP-LITHO"}},
	{"PRD-SIP", "System-in-package module", "ENT-WXPK", []string{"CMP-FPGA", "CMP-MLCC", "CMP-EDA"}},
	{"PRD-DDIC", "Display driver IC", "ENT-HFDG", []string{"CMP-ARF-PR", "CMP-GA-HP", "CMP-LITHO", "CMP-MLCC"}},
	{"PRD-EDU", "Electric drive unit", "ENT-SZEV", []string{"CMP-MCU", "CMP-IGBT", "CMP-NDFEB", "CMP-MLCC"}},
	{"PRD-ANODE", "Battery anode sheet", "ENT-GZBM", []string{"CMP-GRAPH"}},
	{"PRD-MOTOR", "Traction motor", "ENT-CZMW", []string{"CMP-NDFEB", "CMP-BRG", "CMP-MCU"}},
	{"PRD-ARM", "6-axis industrial robot arm", "ENT-SHRB", []string{"CMP-RV", "CMP-PLC", "CMP-MCU", "CMP-CNC5"}},
	{"PRD-SPINDLE", "Motorised machine-tool spindle", "ENT-NBPB", []string{"CMP-BRG", "CMP-CNC5"}},
}

type supply struct {
	ent, comp, sup string
	share          float64
	qual           string
}

var supplies = []supply{
	{"ENT-SZME", "CMP-ARF-PR", "SUP-JP-RES", 1, "qualified"},
	{"ENT-SZME", "CMP-ARF-PR", "SUP-CN-RES", 0, "in_progress"},
	{"ENT-SZME", "CMP-GA-HP", "SUP-CN-GA", 1, "qualified"},
	{"ENT-SZME", "CMP-FPGA", "SUP-US-FPGA", 1, "qualified"},
	{"ENT-SZME", "CMP-EDA", "SUP-US-EDA", 1, "qualified"},
	{"ENT-SZME", "CMP-LITHO", "SUP-NL-LITHO", 1, "qualified"},
	{"ENT-WXPK", "CMP-FPGA", "SUP-US-FPGA", 1, "qualified"},
	{"ENT-WXPK", "CMP-MLCC", "SUP-JP-MLCC", 1, "qualified"},
	{"ENT-WXPK", "CMP-EDA", "SUP-US-EDA", 1, "qualified"},
	{"ENT-HFDG", "CMP-ARF-PR", "SUP-JP-RES", 0.9, "qualified"},
	{"ENT-HFDG", "CMP-ARF-PR", "SUP-CN-RES", 0.1, "qualified"},
	{"ENT-HFDG", "CMP-GA-HP", "SUP-CN-GA", 1, "qualified"},
	{"ENT-HFDG", "CMP-LITHO", "SUP-NL-LITHO", 1, "qualified"},
	{"ENT-HFDG", "CMP-MLCC", "SUP-JP-MLCC", 1, "qualified"},
	{"ENT-SZEV", "CMP-MCU", "SUP-DE-MCU", 1, "qualified"},
	{"ENT-SZEV", "CMP-MCU", "SUP-CN-MCU", 0, "in_progress"},
	{"ENT-SZEV", "CMP-IGBT", "SUP-DE-IGBT", 0.6, "qualified"},
	{"ENT-SZEV", "CMP-IGBT", "SUP-CN-IGBT", 0.4, "qualified"},
	{"ENT-SZEV", "CMP-NDFEB", "SUP-CN-MAG", 1, "qualified"},
	{"ENT-SZEV", "CMP-MLCC", "SUP-JP-MLCC", 1, "qualified"},
	{"ENT-GZBM", "CMP-GRAPH", "SUP-CN-GRA", 1, "qualified"},
	{"ENT-CZMW", "CMP-NDFEB", "SUP-CN-MAG", 1, "qualified"},
	{"ENT-CZMW", "CMP-BRG", "SUP-DE-BRG", 1, "qualified"},
	{"ENT-CZMW", "CMP-MCU", "SUP-DE-MCU", 1, "qualified"},
	{"ENT-SHRB", "CMP-RV", "SUP-JP-RV", 0.85, "qualified"},
	{"ENT-SHRB", "CMP-RV", "SUP-CN-RV", 0.15, "qualified"},
	{"ENT-SHRB", "CMP-PLC", "SUP-DE-PLC", 1, "qualified"},
	{"ENT-SHRB", "CMP-MCU", "SUP-DE-MCU", 1, "qualified"},
	{"ENT-SHRB", "CMP-CNC5", "SUP-DE-CNC", 1, "qualified"},
	{"ENT-NBPB", "CMP-CNC5", "SUP-DE-CNC", 1, "qualified"},
	{"ENT-NBPB", "CMP-BRG", "SUP-DE-BRG", 1, "qualified"},
}

// exposurePair scripts one enterprise × component exposure: its score five weeks before the anchor
// (s0), at the end of the week before the report week (s1) and at the end of the report week (s2);
// its flags, inventory (days of cover) and an alternate if one is being qualified.
type exposurePair struct {
	ent, comp  string
	s0, s1, s2 float64
	flags      []string
	ttsDays    float64
	alt        string // supplier id of a domestic alternate in qualification
	altDays    float64
	newInWeek  bool // first reported in the report week
}

var pairs = []exposurePair{
	{"ENT-SZME", "CMP-ARF-PR", 84, 86, 91, []string{"single_source", "foreign_control", "chokepoint_list", "tts_below_ttr"}, 45, "SUP-CN-RES", 240, false},
	{"ENT-SZME", "CMP-EDA", 88, 88, 88, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 0, "", 0, false},
	{"ENT-SZME", "CMP-LITHO", 90, 90, 92, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 120, "", 0, false},
	{"ENT-SZME", "CMP-FPGA", 70, 72, 81, []string{"single_source", "foreign_control", "chokepoint_list", "tts_below_ttr", "lead_time_jump"}, 60, "", 0, false},
	{"ENT-SZME", "CMP-GA-HP", 30, 30, 31, []string{"single_source", "chokepoint_list"}, 150, "", 0, false},
	{"ENT-WXPK", "CMP-FPGA", 68, 70, 78, []string{"single_source", "foreign_control", "chokepoint_list", "tts_below_ttr", "lead_time_jump"}, 40, "", 0, false},
	{"ENT-WXPK", "CMP-MLCC", 45, 46, 47, []string{"single_source"}, 75, "", 0, false},
	{"ENT-WXPK", "CMP-EDA", 80, 82, 82, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 0, "", 0, false},
	{"ENT-HFDG", "CMP-ARF-PR", 60, 62, 63, []string{"highly_concentrated", "foreign_control", "chokepoint_list", "tts_below_ttr"}, 55, "SUP-CN-RES", 60, false},
	{"ENT-HFDG", "CMP-LITHO", 85, 85, 85, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 150, "", 0, false},
	{"ENT-HFDG", "CMP-GA-HP", 25, 25, 25, []string{"single_source", "chokepoint_list"}, 200, "", 0, false},
	{"ENT-HFDG", "CMP-MLCC", 0, 0, 55, []string{"single_source", "foreign_control", "stock_collapse"}, 35, "", 0, true},
	{"ENT-SZEV", "CMP-MCU", 55, 58, 76, []string{"single_source", "foreign_control", "tts_below_ttr", "lead_time_jump"}, 30, "SUP-CN-MCU", 180, false},
	{"ENT-SZEV", "CMP-IGBT", 42, 41, 40, []string{"highly_concentrated"}, 90, "", 0, false},
	{"ENT-SZEV", "CMP-NDFEB", 35, 35, 36, []string{"single_source"}, 110, "", 0, false},
	{"ENT-SZEV", "CMP-MLCC", 52, 54, 61, []string{"single_source", "foreign_control", "stock_collapse"}, 28, "", 0, false},
	{"ENT-GZBM", "CMP-GRAPH", 38, 38, 38, []string{"single_source"}, 60, "", 0, false},
	{"ENT-CZMW", "CMP-NDFEB", 33, 33, 33, []string{"single_source"}, 120, "", 0, false},
	{"ENT-CZMW", "CMP-BRG", 64, 66, 72, []string{"single_source", "foreign_control", "tts_below_ttr"}, 40, "", 0, false},
	{"ENT-CZMW", "CMP-MCU", 50, 53, 69, []string{"single_source", "foreign_control", "tts_below_ttr", "lead_time_jump"}, 35, "", 0, false},
	{"ENT-SHRB", "CMP-RV", 71, 73, 74, []string{"highly_concentrated", "foreign_control", "tts_below_ttr"}, 50, "SUP-CN-RV", 120, false},
	{"ENT-SHRB", "CMP-PLC", 66, 66, 58, []string{"single_source", "foreign_control"}, 365, "", 0, false},
	{"ENT-SHRB", "CMP-MCU", 49, 52, 66, []string{"single_source", "foreign_control", "tts_below_ttr", "lead_time_jump"}, 40, "", 0, false},
	{"ENT-SHRB", "CMP-CNC5", 77, 79, 83, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 200, "", 0, false},
	{"ENT-NBPB", "CMP-CNC5", 74, 75, 76, []string{"single_source", "foreign_control", "no_alternate", "chokepoint_list", "tts_below_ttr"}, 220, "", 0, false},
	{"ENT-NBPB", "CMP-BRG", 58, 59, 60, []string{"single_source", "foreign_control"}, 80, "", 0, false},
}

// chokeSubject scripts one chokepoint finding (component, HS code or material).
type chokeSubject struct {
	subjectType, subject, category, name string
	s0, s1, s2                           float64
	flags                                []string
}

var chokes = []chokeSubject{
	{"component", "CMP-LITHO", "machine_tool", "", 94, 95, 95, []string{"chokepoint_list", "foreign_control", "single_country", "high_betweenness"}},
	{"component", "CMP-EDA", "industrial_software", "", 92, 92, 92, []string{"chokepoint_list", "foreign_control", "no_alternate"}},
	{"component", "CMP-ARF-PR", "key_material", "", 86, 88, 90, []string{"chokepoint_list", "foreign_control", "dependency_rule"}},
	{"component", "CMP-FPGA", "high_end_chip", "", 76, 78, 84, []string{"chokepoint_list", "foreign_control", "dependency_rule", "lead_time_jump"}},
	{"component", "CMP-CNC5", "machine_tool", "", 75, 76, 79, []string{"chokepoint_list", "foreign_control"}},
	{"component", "CMP-MCU", "high_end_chip", "", 52, 55, 68, []string{"foreign_control", "lead_time_jump", "high_betweenness"}},
	{"component", "CMP-RV", "base_component", "", 61, 62, 62, []string{"foreign_control", "highly_concentrated"}},
	{"component", "CMP-GA-HP", "key_material", "", 58, 58, 58, []string{"chokepoint_list", "single_country"}},
	{"component", "CMP-BRG", "base_component", "", 55, 56, 57, []string{"foreign_control"}},
	{"component", "CMP-MLCC", "base_component", "", 47, 48, 53, []string{"foreign_control", "stock_collapse"}},
	{"component", "CMP-PLC", "industrial_software", "", 54, 54, 50, []string{"foreign_control"}},
	{"component", "CMP-IGBT", "high_end_chip", "", 45, 44, 44, []string{"highly_concentrated"}},
	{"component", "CMP-NDFEB", "key_material", "", 42, 42, 43, nil},
	{"component", "CMP-GRAPH", "key_material", "", 40, 40, 40, nil},
	{"hs", "370790", "key_material", "HS 370790 photoresists and photographic preparations", 83, 84, 86, []string{"dependency_rule", "foreign_control"}},
	{"hs", "854231", "high_end_chip", "HS 854231 processors and controllers (ICs)", 74, 75, 79, []string{"dependency_rule", "foreign_control"}},
	{"hs", "848620", "machine_tool", "HS 848620 machines for semiconductor devices", 90, 90, 91, []string{"dependency_rule", "foreign_control", "single_country"}},
	{"material", "cobalt", "key_material", "Cobalt (mine production)", 70, 71, 72, []string{"foreign_control", "highly_concentrated"}},
	{"material", "tungsten", "key_material", "Tungsten (mine production)", 36, 36, 36, []string{"highly_concentrated"}},
	{"material", "gallium", "key_material", "Gallium (primary production)", 33, 33, 33, []string{"highly_concentrated", "single_country"}},
	{"material", "rare earths", "key_material", "Rare earths (mine production, REO)", 31, 31, 31, []string{"highly_concentrated"}},
	{"material", "graphite", "key_material", "Natural graphite (mine production)", 34, 34, 35, []string{"highly_concentrated"}},
}

// usgsFiles maps a production_stats commodity to its USGS MCS 2024 world file.
var usgsFiles = map[string]string{
	"gallium":     "mcs2024-galli_world.csv",
	"graphite":    "mcs2024-graph_world.csv",
	"rare earths": "mcs2024-raree_world.csv",
	"tungsten":    "mcs2024-tungs_world.csv",
	"cobalt":      "mcs2024-cobal_world.csv",
}

// usgsISO3 maps the USGS country names (footnote markers removed) of those files to ISO alpha-3.
var usgsISO3 = map[string]string{
	"Australia": "AUS", "Austria": "AUT", "Bolivia": "BOL", "Brazil": "BRA", "Burma": "MMR", "Canada": "CAN",
	"China": "CHN", "Congo (Kinshasa)": "COD", "Cuba": "CUB", "Germany": "DEU", "Greenland": "GRL", "India": "IND",
	"Indonesia": "IDN", "Japan": "JPN", "Korea, North": "PRK", "Korea, Republic of": "KOR", "Madagascar": "MDG",
	"Malaysia": "MYS", "Mexico": "MEX", "Mozambique": "MOZ", "New Caledonia": "NCL", "Norway": "NOR",
	"Papua New Guinea": "PNG", "Philippines": "PHL", "Portugal": "PRT", "Russia": "RUS", "Rwanda": "RWA",
	"South Africa": "ZAF", "Spain": "ESP", "Sri Lanka": "LKA", "Tanzania": "TZA", "Thailand": "THA",
	"Turkey": "TUR", "Ukraine": "UKR", "United States": "USA", "Vietnam": "VNM",
}

// tradePartners: China's imports (reporter 156) by HS code and partner, USD per year (demo figures
// shaped like the real 2022-2024 pattern: one or two partners dominate).
var tradePartners = []struct {
	hs      string
	partner uint16
	iso3    string
	usd     float64
}{
	{"370790", 392, "JPN", 410e6}, {"370790", 410, "KOR", 85e6}, {"370790", 842, "USA", 40e6},
	{"854231", 490, "", 52e9}, {"854231", 410, "KOR", 31e9}, {"854231", 842, "USA", 6e9}, {"854231", 458, "MYS", 9e9},
	{"848620", 528, "NLD", 8.4e9}, {"848620", 392, "JPN", 4.1e9}, {"848620", 842, "USA", 0.9e9},
	{"845710", 276, "DEU", 1.1e9}, {"845710", 392, "JPN", 0.9e9}, {"845710", 756, "CHE", 0.3e9},
	{"848340", 392, "JPN", 0.6e9}, {"848340", 276, "DEU", 0.25e9},
}
