package collectors

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
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

func TestDrain(t *testing.T) {
	m := &collectorstest.Memory{}
	tg := target{ctx: context.Background(), em: m, now: testNow, size: 100}
	parse := func(o *out, r io.Reader) error {
		b, _ := io.ReadAll(r)
		o.read()
		return o.rejectKind(schemas.KindTrade, "x:1", "bad_row", string(b), b)
	}
	st, err := tg.drain("src", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("raw")), nil }, parse)
	if err != nil || st.Files != 1 || st.Read != 1 || st.Rejected["bad_row"] != 1 {
		t.Fatalf("drain: %+v %v", st, err)
	}
	if _, rejs := m.Snapshot(); len(rejs) != 1 || string(rejs[0].Raw) != "raw" {
		t.Fatalf("flushed rejects %+v", rejs)
	}
	openErr := errors.New("no such file")
	st, err = tg.drain("src", func() (io.ReadCloser, error) { return nil, openErr }, parse)
	if !errors.Is(err, openErr) || st.Files != 0 || st.Read != 0 {
		t.Errorf("open failure: %+v %v", st, err)
	}
	emitErr := errors.New("kafka down")
	tg.em = &collectorstest.Memory{Err: emitErr}
	if _, err := tg.drain("src", nil, func(o *out, _ io.Reader) error { return parse(o, strings.NewReader("r")) }); !errors.Is(err, emitErr) {
		t.Errorf("flush failure: %v", err)
	}
	parseErr := errors.New("truncated")
	if _, err := tg.drain("src", nil, func(o *out, r io.Reader) error { parse(o, strings.NewReader("r")); return parseErr }); !errors.Is(err, parseErr) {
		t.Errorf("parse error must win over the flush error: %v", err)
	}
}
