package i18n

import "github.com/chainwatch/chainwatch/schemas"

// Name is the display name of one vocabulary id in both languages.
type Name struct {
	ID string `json:"id"`
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// In returns the name in lang (English for anything but zh-CN).
func (n Name) In(lang string) string {
	if lang == ZH {
		return n.ZH
	}
	return n.EN
}

// Vocabulary kinds of the names table.
const (
	KindCategory = "category"       // component categories (schemas.Category*)
	KindIndustry = "industry"       // supply-map industries
	KindFlag     = "flag"           // detector flags (detectors.Flag*)
	KindSeverity = "severity"       // exposure severity bands (exposure.SeverityConfig)
	KindRoute    = "ledger_route"   // 卡点 ledger routes (detectors.Route*)
	KindStage    = "ledger_stage"   // 卡点 ledger stages (detectors.LedgerStages)
	KindBlocker  = "ledger_blocker" // why a breakthrough is not confirmed (detectors.Blocker*)
	KindTag      = "tag"            // supply-map node tags (detectors.regions.sme_tags, 链主)
	KindBasis    = "match_basis"    // demand-board match basis (detectors.Basis*)
)

// names is THE bilingual table (kinds in Kinds order, ids in display order). Nothing writes it.
var names = map[string][]Name{
	KindCategory: {
		{schemas.CategoryKeyMaterial, "关键材料", "Key materials"},
		{schemas.CategoryHighEndChip, "高端芯片", "High-end chips"},
		{schemas.CategoryIndustrialSoftware, "工业软件", "Industrial software"},
		{schemas.CategoryBaseComponent, "基础零部件", "Base components"},
		{schemas.CategoryMachineTool, "工业母机", "Machine tools"},
		{schemas.CategoryOther, "其他", "Other"},
	},
	KindIndustry: {
		{"semiconductors", "半导体", "Semiconductors"},
		{"semiconductor_equipment", "半导体装备", "Semiconductor equipment"},
		{"integrated_circuits", "集成电路", "Integrated circuits"},
		{"new_energy_vehicles", "新能源汽车", "New energy vehicles"},
		{"industrial_robots", "工业机器人", "Industrial robots"},
		{"industrial_automation", "工业自动化", "Industrial automation"},
		{"machine_tools", "工业母机", "Machine tools"},
		{"aerospace", "航空航天", "Aerospace"},
	},
	KindFlag: {
		{"single_source", "单一来源", "single source"},
		{"single_country", "单一国家", "single country"},
		{"highly_concentrated", "高度集中", "highly concentrated"},
		{"no_alternate", "无替代", "no alternate"},
		{"chokepoint_list", "卡点清单", "on the chokepoint list"},
		{"foreign_control", "卡脖子（境外控制）", "foreign-controlled"},
		{"dependency_rule", "依赖规则", "dependency rule"},
		{"tts_below_ttr", "TTS < TTR", "TTS < TTR"},
		{"lead_time_jump", "交期跳升", "lead-time jump"},
		{"stock_collapse", "库存骤降", "stock collapse"},
		{"lifecycle_change", "生命周期变化", "lifecycle change"},
		{"no_qualified_supplier", "无合格供应商", "no qualified supplier"},
		{"high_betweenness", "网络瓶颈节点", "network bottleneck"},
	},
	KindSeverity: {
		{"critical", "严重", "critical"},
		{"high", "高", "high"},
		{"medium", "中", "medium"},
		{"low", "低", "low"},
	},
	KindRoute: {
		{"揭榜挂帅", "揭榜挂帅", "open call"},
		{"赛马", "赛马", "horse race"},
	},
	KindStage: {
		{"梳理", "梳理", "mapping"},
		{"揭榜", "揭榜", "call taken"},
		{"攻关", "攻关", "R&D"},
		{"中试验证", "中试验证", "pilot verification"},
		{"首试首用", "首试首用", "first use"},
		{"批量入链", "批量入链", "volume supply"},
	},
	KindBlocker: {
		{"no_qualified_domestic_supplier", "无合格国产供应商", "no qualified domestic supplier"},
		{"domestic_share_below_threshold", "国产份额低于门槛", "domestic share below the threshold"},
		{"foreign_control", "仍受境外控制", "still foreign-controlled"},
		{"dependency_rule", "依赖规则仍触发", "dependency rule still fires"},
	},
	KindTag: {
		{"专精特新", "专精特新", "specialised SME"},
		{"小巨人", "小巨人", "little giant"},
		{"单项冠军", "单项冠军", "single-item champion"},
		{"链主", "链主", "chain leader"},
	},
	KindBasis: {
		{"component", "同一组件", "same component"},
		{"hs_code", "同一HS编码", "same HS code"},
		{"hs_heading", "同一HS品目", "same HS heading"},
	},
}

// Kinds returns the vocabulary kinds in table order.
func Kinds() []string {
	return []string{KindCategory, KindIndustry, KindFlag, KindSeverity, KindRoute, KindStage, KindBlocker, KindTag, KindBasis}
}

// Names returns a copy of the names of one kind, in display order (nil for an unknown kind).
func Names(kind string) []Name {
	return append([]Name(nil), names[kind]...)
}

// Lookup returns the name of id of kind.
func Lookup(kind, id string) (Name, bool) {
	for _, n := range names[kind] {
		if n.ID == id {
			return n, true
		}
	}
	return Name{}, false
}

// Display returns the display name of id of kind in lang; an id the table does not know is shown as
// it is.
func Display(kind, id, lang string) string {
	if n, ok := Lookup(kind, id); ok {
		return n.In(lang)
	}
	return id
}

// CategoryName is the display name of a component category ("" is unclassified).
func CategoryName(id, lang string) string {
	if id == "" {
		return Name{ZH: "未分类", EN: "Unclassified"}.In(lang)
	}
	return Display(KindCategory, id, lang)
}

// IndustryName is the display name of an industry.
func IndustryName(id, lang string) string { return Display(KindIndustry, id, lang) }

// FlagName is the display name of a detector flag.
func FlagName(id, lang string) string { return Display(KindFlag, id, lang) }

// SeverityName is the display name of an exposure severity band.
func SeverityName(id, lang string) string { return Display(KindSeverity, id, lang) }

// DisplayAll maps ids of kind to their display names in lang.
func DisplayAll(kind string, ids []string, lang string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Display(kind, id, lang)
	}
	return out
}
