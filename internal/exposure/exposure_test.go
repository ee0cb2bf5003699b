package exposure

import (
	"strings"
	"testing"
	"time"
)

func TestLiterals(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:            `'plain'`,
		`it's`:             `'it\'s'`,
		`back\slash`:       `'back\\slash'`,
		"nl\nnul\x00":      `'nl\nnul\0'`,
		`') OR 1=1 --`:     `'\') OR 1=1 --'`,
		"中文 卡点":            "'中文 卡点'",
		`x\'); DROP TABLE`: `'x\\\'); DROP TABLE'`,
	} {
		if got := Str(in); got != want {
			t.Errorf("Str(%q) = %s, want %s", in, got, want)
		}
	}
	if Strs(nil) != "('')" || Strs([]string{"a", "b'"}) != `('a', 'b\'')` {
		t.Errorf("Strs: %s", Strs([]string{"a", "b'"}))
	}
	if Time(time.Unix(1700000000, 0)) != "toDateTime(1700000000)" || Num(2.5) != "2.5" {
		t.Errorf("Time/Num")
	}
}

func TestOrderBy(t *testing.T) {
	if o, err := OrderBy(""); err != nil || o != "score DESC, detector ASC, subject ASC" {
		t.Errorf("default: %q %v", o, err)
	}
	if o, err := OrderBy("enterprise"); err != nil || !strings.HasPrefix(o, "enterprise_id ASC") {
		t.Errorf("enterprise: %q %v", o, err)
	}
	if _, err := OrderBy("score; DROP"); err == nil || !strings.Contains(err.Error(), "one of") {
		t.Errorf("bad sort accepted: %v", err)
	}
}

func TestFilterSQL(t *testing.T) {
	s := NewStore(nil, DefaultConfig())
	w := s.from(Filter{Region: "Jiangsu'", Severity: "high", Flag: "single_source", MinScore: 50, ChainLeader: true,
		AsOf: time.Unix(100, 0)})
	for _, want := range []string{"detector IN ('exposure')", `region = 'Jiangsu\''`, "score >= 60", "score < 80",
		"has(flags, 'single_source')", "chain_leader = 1", "status = 'ok' AND finished_at <= toDateTime(100)"} {
		if !strings.Contains(w, want) {
			t.Errorf("where lacks %q:\n%s", want, w)
		}
	}
}

// TestBound: industry and region label values are capped, the rest summed under "other", and
// empty values become "unknown"; totals are preserved.
func TestBound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLabelValues = 2
	c := &Collector{cfg: cfg}
	in := []Count{
		{"critical", "key_material", "semis", "Jiangsu", 5},
		{"critical", "key_material", "semis", "Anhui", 3},
		{"high", "key_material", "ev", "Guangdong", 2},
		{"high", "", "robots", "Shanghai", 1},
		{"low", "other", "", "", 4},
	}
	out := c.bound(in)
	var total uint64
	inds, regs := map[string]bool{}, map[string]bool{}
	for _, x := range out {
		total += x.N
		inds[x.Industry], regs[x.Region] = true, true
		if x.Category == "" || x.Industry == "" || x.Region == "" {
			t.Errorf("empty label: %+v", x)
		}
	}
	if total != 15 {
		t.Errorf("total %d, want 15", total)
	}
	if len(inds) > 3 || len(regs) > 3 || !inds[Other] || !regs[Other] {
		t.Errorf("not bounded: industries %v regions %v", inds, regs)
	}
}
