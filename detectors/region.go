package detectors

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Region is a normalised supply-map region: a province-level division of China by its short
// Chinese name (北京, 河北, 广东, 香港, …) and optionally a city (保定, 深圳). Values the table
// does not know keep their text in Province with Known false (a foreign state, a typo).
type Region struct {
	Province string
	City     string
	Known    bool
}

// String renders "河北/保定", "北京" or "" for an empty region.
func (r Region) String() string {
	if r.City == "" {
		return r.Province
	}
	return r.Province + "/" + r.City
}

// provinces lists China's province-level divisions: the short Chinese name, then the accepted
// Latin spellings (compared case-insensitively without spaces, hyphens and apostrophes).
var provinces = [][]string{
	{"北京", "beijing", "peking"}, {"天津", "tianjin"}, {"河北", "hebei"}, {"山西", "shanxi"},
	{"内蒙古", "innermongolia", "neimongol", "neimenggu"}, {"辽宁", "liaoning"}, {"吉林", "jilin"},
	{"黑龙江", "heilongjiang"}, {"上海", "shanghai"}, {"江苏", "jiangsu"}, {"浙江", "zhejiang"},
	{"安徽", "anhui"}, {"福建", "fujian"}, {"江西", "jiangxi"}, {"山东", "shandong"}, {"河南", "henan"},
	{"湖北", "hubei"}, {"湖南", "hunan"}, {"广东", "guangdong"}, {"广西", "guangxi"}, {"海南", "hainan"},
	{"重庆", "chongqing"}, {"四川", "sichuan"}, {"贵州", "guizhou"}, {"云南", "yunnan"},
	{"西藏", "tibet", "xizang"}, {"陕西", "shaanxi"}, {"甘肃", "gansu"}, {"青海", "qinghai"},
	{"宁夏", "ningxia"}, {"新疆", "xinjiang"}, {"香港", "hongkong", "hk"}, {"澳门", "macao", "macau"},
	{"台湾", "taiwan"},
}

// cities maps the cities a region value may name without its province: city, province, Latin
// spellings. The region groups of the defaults (粤港澳大湾区 by city) need the Greater Bay Area ones.
var cities = [][]string{
	{"广州", "广东", "guangzhou", "canton"}, {"深圳", "广东", "shenzhen"}, {"珠海", "广东", "zhuhai"},
	{"佛山", "广东", "foshan"}, {"惠州", "广东", "huizhou"}, {"东莞", "广东", "dongguan"},
	{"中山", "广东", "zhongshan"}, {"江门", "广东", "jiangmen"}, {"肇庆", "广东", "zhaoqing"},
	{"保定", "河北", "baoding"}, {"石家庄", "河北", "shijiazhuang"}, {"唐山", "河北", "tangshan"},
	{"廊坊", "河北", "langfang"}, {"雄安", "河北", "xiongan"}, {"苏州", "江苏", "suzhou"},
	{"南京", "江苏", "nanjing"}, {"无锡", "江苏", "wuxi"}, {"常州", "江苏", "changzhou"},
	{"杭州", "浙江", "hangzhou"}, {"宁波", "浙江", "ningbo"}, {"嘉兴", "浙江", "jiaxing"},
	{"合肥", "安徽", "hefei"}, {"大连", "辽宁", "dalian"}, {"沈阳", "辽宁", "shenyang"},
	{"瓦房店", "辽宁", "wafangdian"}, {"武汉", "湖北", "wuhan"}, {"成都", "四川", "chengdu"},
	{"西安", "陕西", "xian"}, {"青岛", "山东", "qingdao"}, {"济南", "山东", "jinan"},
	{"厦门", "福建", "xiamen"}, {"长沙", "湖南", "changsha"}, {"郑州", "河南", "zhengzhou"},
}

// latinKey folds a Latin spelling: lower case without spaces, hyphens, dots and apostrophes.
func latinKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// trimSuffixes drops administrative suffixes: 省, 市, 自治区, 特别行政区, "Province", "City", "Shi", "SAR".
func trimSuffixes(s string) string {
	s = strings.TrimSpace(s)
	for _, suf := range []string{"壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市"} {
		if t := strings.TrimSuffix(s, suf); t != s && t != "" {
			return t
		}
	}
	for _, suf := range []string{" province", " city", " shi", " sar", " municipality"} {
		if len(s) > len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf) {
			return strings.TrimSpace(s[:len(s)-len(suf)])
		}
	}
	return s
}

func lookupProvince(s string) (string, bool) {
	s = trimSuffixes(s)
	k := latinKey(s)
	for _, p := range provinces {
		if s == p[0] {
			return p[0], true
		}
		for _, en := range p[1:] {
			if k == en {
				return p[0], true
			}
		}
	}
	return "", false
}

func lookupCity(s string) (city, province string, ok bool) {
	s = trimSuffixes(s)
	k := latinKey(s)
	for _, c := range cities {
		if s == c[0] {
			return c[0], c[1], true
		}
		for _, en := range c[2:] {
			if k == en {
				return c[0], c[1], true
			}
		}
	}
	return "", "", false
}

// NormalizeRegion maps a supply-map region value to a Region: "北京", "Beijing", "北京市" → 北京;
// "河北/保定", "Hebei/Baoding", "河北省·保定市" → 河北/保定; a known city alone ("Shenzhen") → 广东/深圳.
// Parts are separated by '/', '·', ',', '，', '|' or '>'.
func NormalizeRegion(s string) Region {
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("/·,，|>", r) })
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	parts = nonEmpty(parts)
	if len(parts) == 0 {
		return Region{}
	}
	var r Region
	if p, ok := lookupProvince(parts[0]); ok {
		r = Region{Province: p, Known: true}
	} else if c, p, ok := lookupCity(parts[0]); ok {
		return Region{Province: p, City: c, Known: true}
	} else {
		return Region{Province: parts[0]}
	}
	if len(parts) > 1 {
		if c, p, ok := lookupCity(parts[1]); ok && p == r.Province {
			r.City = c
		} else {
			r.City = trimSuffixes(parts[1])
		}
	}
	return r
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// RegionGroup is a configured group of regions (京津冀 = 北京, 天津, 河北). A member is a province
// ("河北": every city of it) or a province/city ("广东/深圳": that city only).
type RegionGroup struct {
	Name    string   `koanf:"name" json:"name"`
	Members []string `koanf:"members" json:"members"`
}

// RegionsConfig is "detectors.regions": the region groups used for regional matching (alternates
// in the same group as the enterprise rank first among domestic ones; the local-sourcing index),
// and the supplier tags that mark an SME (专精特新, 小巨人, 单项冠军).
type RegionsConfig struct {
	Groups []RegionGroup `koanf:"groups"`
	// SMETags: tags of a supplier node that rank it after same-group suppliers and before the rest.
	SMETags []string `koanf:"sme_tags"`
	// RankAlternates applies the region-group and SME-tag keys to the alternates ranking.
	RankAlternates bool `koanf:"rank_alternates"`
}

// DefaultRegions are the default region groups: 京津冀, 长三角 and 粤港澳大湾区 (its nine Guangdong
// cities with Hong Kong and Macao).
func DefaultRegions() RegionsConfig {
	return RegionsConfig{
		Groups: []RegionGroup{
			{Name: "京津冀", Members: []string{"北京", "天津", "河北"}},
			{Name: "长三角", Members: []string{"上海", "江苏", "浙江", "安徽"}},
			{Name: "粤港澳大湾区", Members: []string{"香港", "澳门", "广东/广州", "广东/深圳", "广东/珠海", "广东/佛山",
				"广东/惠州", "广东/东莞", "广东/中山", "广东/江门", "广东/肇庆"}},
		},
		SMETags:        []string{"专精特新", "小巨人", "单项冠军"},
		RankAlternates: true,
	}
}

// GroupOf returns the name of the first group containing region (raw supply-map value), or "".
func (c RegionsConfig) GroupOf(region string) string {
	r := NormalizeRegion(region)
	if r.Province == "" {
		return ""
	}
	for _, g := range c.Groups {
		for _, m := range g.Members {
			mr := NormalizeRegion(m)
			if mr.Province == r.Province && (mr.City == "" || mr.City == r.City) {
				return g.Name
			}
		}
	}
	return ""
}

// SMETagsOf returns the tags of tags that are SME tags, in the configured order.
func (c RegionsConfig) SMETagsOf(tags []string) []string {
	var out []string
	for _, want := range c.SMETags {
		for _, t := range tags {
			if strings.TrimSpace(t) == want {
				out = append(out, want)
				break
			}
		}
	}
	return out
}

func (c RegionsConfig) validate(p *confkit.Problems, pre string) {
	seen := map[string]bool{}
	for i, g := range c.Groups {
		k := pre + "groups[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(g.Name) == "" {
			p.Add(k+".name", "required")
		}
		if seen[g.Name] {
			p.Add(k+".name", "duplicate group %q", g.Name)
		}
		seen[g.Name] = true
		if len(g.Members) == 0 {
			p.Add(k+".members", "at least one region is required")
		}
		for j, m := range g.Members {
			if r := NormalizeRegion(m); !r.Known {
				p.Add(k+".members["+strconv.Itoa(j)+"]", "%q is not a province-level region of China (北京, Hebei, 广东/深圳, …)", m)
			}
		}
	}
	for i, t := range c.SMETags {
		if strings.TrimSpace(t) == "" {
			p.Add(pre+"sme_tags["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
}
