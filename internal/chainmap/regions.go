package chainmap

import (
	"slices"
	"strings"

	"github.com/chainwatch/chainwatch/detectors"
)

// GroupRegions places and matches regions with the detectors' region table and groups
// (detectors.regions): members group by province (北京, 辽宁, 广东, …) whatever the spelling
// ("Beijing", "北京市", "辽宁/瓦房店"), and a region view may name a configured group (京津冀), one
// region or a comma-separated list of regions ("河北/保定,天津").
type GroupRegions struct{ Config detectors.RegionsConfig }

// Place returns the province of region when the table knows it, else region as is.
func (g GroupRegions) Place(region string) string {
	if r := detectors.NormalizeRegion(region); r.Known {
		return r.Province
	}
	return strings.TrimSpace(region)
}

// Match reports whether region lies in want: a group's members, or one of the listed regions
// (a province matches its every city; a province/city only that city).
func (g GroupRegions) Match(want, region string) bool {
	r := detectors.NormalizeRegion(region)
	if r.Province == "" {
		return false
	}
	members := strings.Split(want, ",")
	if i := slices.IndexFunc(g.Config.Groups, func(gr detectors.RegionGroup) bool { return gr.Name == strings.TrimSpace(want) }); i >= 0 {
		members = g.Config.Groups[i].Members
	}
	for _, m := range members {
		w := detectors.NormalizeRegion(m)
		if w.Province != "" && strings.EqualFold(w.Province, r.Province) && (w.City == "" || strings.EqualFold(w.City, r.City)) {
			return true
		}
	}
	return false
}
