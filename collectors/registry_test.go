package collectors

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
)

func TestImportRegistryKinds(t *testing.T) {
	r := NewImportRegistry()
	want := []string{"trade", "baci", "production", "procurement", "availability", "supplymap", "willems", "substitution"}
	if got := r.Names(); !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	for _, k := range r.Kinds() {
		if k.Usage == "" || k.New == nil {
			t.Errorf("kind %s: usage %q, constructor set %v", k.Name, k.Usage, k.New != nil)
		}
	}
	_, err := r.Lookup("widgets")
	if err == nil || !strings.Contains(err.Error(), `unknown kind "widgets"`) || !strings.Contains(err.Error(), strings.Join(want, ", ")) {
		t.Errorf("unknown kind: %v", err)
	}
	k, err := r.Lookup(ImportTrade)
	if err != nil {
		t.Fatal(err)
	}
	m := &collectorstest.Memory{}
	st, err := k.New(testOpts()).Import(context.Background(), "../testdata/trade/comtrade_csv/gallium_trade_data.csv", m)
	if err != nil || st.Emitted == 0 || st.Files != 1 {
		t.Fatalf("trade import through the registry: %+v %v", st, err)
	}
	checkStats(t, m, st)
}

func TestImportRegistryRegisterReplaces(t *testing.T) {
	r := &ImportRegistry{}
	r.Register(ImportKind{Name: "a", Usage: "one"})
	r.Register(ImportKind{Name: "b", Usage: "two"})
	r.Register(ImportKind{Name: "a", Usage: "three"})
	if got := r.Names(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("names %v", got)
	}
	if k, _ := r.Lookup("a"); k.Usage != "three" {
		t.Errorf("a = %+v", k)
	}
}
