package whatif

import (
	"fmt"
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

// Exposure holds the country-level statistics that carry an export restriction to suppliers
// outside the restricting country: import shares (UN Comtrade / BACI) and production shares (USGS).
type Exposure struct {
	imports map[impKey]*impVal  // (reporter ISO3, HS) → latest year's imports by partner
	prod    map[prodKey]prodVal // (commodity, stage) → latest year's production by country
}

type impKey struct{ reporter, hs string }

type impVal struct {
	year      uint16
	world     float64
	byPartner map[string]float64
}

type prodKey struct{ commodity, stage string }

type prodVal struct {
	year      uint16
	world     float64
	byCountry map[string]float64
}

// NewExposure builds the statistics from trade flows and production stats; other records are
// ignored. Imports (flow M) are kept for the latest year per reporter and HS code; production for
// the latest year per commodity and stage, with the "World" row as total (else the sum).
func NewExposure(recs []schemas.Record) *Exposure {
	x := &Exposure{imports: map[impKey]*impVal{}, prod: map[prodKey]prodVal{}}
	for _, r := range recs {
		switch t := r.(type) {
		case *schemas.TradeFlow:
			x.addTrade(t)
		case *schemas.ProductionStat:
			x.addProd(t)
		}
	}
	for k, v := range x.prod {
		if v.world == 0 {
			for _, q := range v.byCountry {
				v.world += q
			}
			x.prod[k] = v
		}
	}
	return x
}

func (x *Exposure) addTrade(t *schemas.TradeFlow) {
	if t.Flow != "M" || t.ReporterISO3 == "" || t.Month != 0 {
		return
	}
	k := impKey{t.ReporterISO3, t.HSCode}
	v := x.imports[k]
	if v == nil || t.Year > v.year {
		v = &impVal{year: t.Year, byPartner: map[string]float64{}}
		x.imports[k] = v
	}
	if t.Year < v.year {
		return
	}
	if t.PartnerM49 == 0 {
		v.world += t.ValueUSD
	} else if t.PartnerISO3 != "" {
		v.byPartner[t.PartnerISO3] += t.ValueUSD
	}
}

func (x *Exposure) addProd(p *schemas.ProductionStat) {
	if p.Quantity == nil {
		return
	}
	k := prodKey{strings.ToLower(strings.TrimSpace(p.Commodity)), p.Stage}
	v, ok := x.prod[k]
	if !ok || p.Year > v.year {
		v = prodVal{year: p.Year, byCountry: map[string]float64{}}
	}
	if p.Year < v.year {
		return
	}
	name := strings.ToLower(strings.TrimSpace(p.Country))
	switch {
	case strings.HasPrefix(name, "world"):
		v.world = *p.Quantity
	case p.CountryISO3 != "":
		v.byCountry[p.CountryISO3] += *p.Quantity
	}
	x.prod[k] = v
}

// Dependence is the share of reporter's supply of a material / HS code that comes from exporter,
// with the evidence: reporter's latest imports of one of hsCodes from exporter ÷ its imports from
// the world (the largest over the codes), else exporter's share of world production of material
// (stage "production", else "refinery", else "mine"), else 0.
func (x *Exposure) Dependence(reporter, exporter, material string, hsCodes []string) (float64, string) {
	best, why := -1.0, ""
	for _, h := range hsCodes {
		v := x.imports[impKey{reporter, h}]
		if v == nil || v.world <= 0 {
			continue
		}
		if s := v.byPartner[exporter] / v.world; s > best {
			best = s
			why = fmt.Sprintf("Comtrade %d: %s imports of HS%s from %s %.0f / world %.0f USD = %.1f%%",
				v.year, reporter, h, exporter, v.byPartner[exporter], v.world, 100*s)
		}
	}
	if best >= 0 {
		return best, why
	}
	if s, why, ok := x.ProductionShare(material, exporter); ok {
		return s, why
	}
	return 0, fmt.Sprintf("no trade or production data for %s from %s: dependence 0", reporter, exporter)
}

// ProductionShare is country's share of world production of material, with the evidence.
func (x *Exposure) ProductionShare(material, country string) (float64, string, bool) {
	for _, stage := range []string{"production", "refinery", "mine"} {
		v, ok := x.prod[prodKey{material, stage}]
		if !ok || v.world <= 0 {
			continue
		}
		s := min(1, v.byCountry[country]/v.world)
		return s, fmt.Sprintf("USGS %d: %s %s %s %.0f / world %.0f = %.1f%%", v.year, country, material, stage,
			v.byCountry[country], v.world, 100*s), true
	}
	return 0, "", false
}

// TopProducer is the country with the largest production share of material, if known.
func (x *Exposure) TopProducer(material string) (string, bool) {
	for _, stage := range []string{"production", "refinery", "mine"} {
		v, ok := x.prod[prodKey{material, stage}]
		if !ok {
			continue
		}
		best, top := -1.0, ""
		for c, q := range v.byCountry {
			if q > best || (q == best && c < top) {
				best, top = q, c
			}
		}
		return top, top != ""
	}
	return "", false
}
