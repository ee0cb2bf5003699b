package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

// Fuzz targets of every collectors input format. Each parses the fuzzed bytes as one file and
// checks what every import must keep: no panic, read = emitted + rejected + skipped + duplicates,
// every reject complete (reason, detail, raw bytes) and every event decodable. The seed corpora
// are checked in under testdata/fuzz/FuzzXxx (the bad-input corpus and the real samples); `make
// fuzz` runs each target for FUZZTIME.

// fuzzParse runs parse over data into a fresh batch and checks the invariants.
func fuzzParse(t *testing.T, data []byte, parse func(o *out, r io.Reader) error) {
	t.Helper()
	m := &collectorstest.Memory{}
	tg := target{ctx: context.Background(), em: m, now: testNow, size: 64, seen: newEventSet()}
	st, _ := tg.drain("fuzz", nil, func(o *out, _ io.Reader) error { return parse(o, bytes.NewReader(data)) })
	if st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Fatalf("read %d != emitted %d + rejected %d + skipped %d + duplicates %d",
			st.Read, st.Emitted, st.RejectedTotal(), st.Skipped, st.Duplicates)
	}
	if int64(len(m.Events)) != st.Emitted+st.Duplicates || int64(len(m.Rejects)) != st.RejectedTotal() {
		t.Fatalf("stats %+v, the emitter got %d events and %d rejects", st, len(m.Events), len(m.Rejects))
	}
	for _, r := range m.Rejects {
		if r.Reason == "" || r.Detail == "" || r.Location == "" || len(r.Raw) == 0 {
			t.Fatalf("incomplete reject %s %q %q (raw %d bytes)", r.Location, r.Reason, r.Detail, len(r.Raw))
		}
	}
	for _, e := range m.Events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := schemas.Decode(b, e.Kind); err != nil {
			t.Fatalf("event %s does not decode: %v\n%s", e.EventID, err, e.Payload)
		}
		if len(e.Payload) > MaxEventBytes {
			t.Fatalf("event of %d bytes", len(e.Payload))
		}
	}
}

func FuzzTrade(f *testing.F) {
	f.Add([]byte("reporterCode,partnerCode,flowCode,cmdCode,refYear,primaryValue\n842,156,M,811292,2023,5\n"))
	f.Add([]byte(`{"data":[{"reporterCode":842,"partnerCode":156,"flowCode":"M","cmdCode":"811292","refYear":2023,"primaryValue":5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error { return importTrade(o, r, "fuzz", testCountries) })
	})
}

func FuzzBACI(f *testing.F) {
	f.Add([]byte("t,i,j,k,v,q\n2022,156,842,811292,6549.29,40.8\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error { return importBACI(o, r, "BACI_HS17_Y2022.csv", "", testCountries) })
	})
}

func FuzzUSGS(f *testing.F) {
	f.Add([]byte("Source,Country,Type,Prod_t_2022,Prod_t_est_2023\nMCS2024,China,Mine production,600,750\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error { return importUSGS(o, r, "mcs2024-gallium_world.csv", testCountries) })
	})
}

func FuzzOCDS(f *testing.F) {
	f.Add([]byte(`{"ocid":"ocds-1","id":"r1","date":"2025-02-01T10:00:00Z","awards":[{"id":"a1","date":"2025-01-30","value":{"amount":5,"currency":"GBP"}}]}` + "\n"))
	f.Add([]byte(`{"uri":"x","releases":[{"ocid":"ocds-1","id":"r1","date":"2025-02-01","awards":[{"id":"a1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error { return importOCDSLimit(o, r, "fuzz.json", testCountries, 1<<20) })
	})
}

func FuzzAvailability(f *testing.F) {
	f.Add([]byte("mpn,manufacturer,distributor,stock,lifecycle,as_of\nP1,ST,X,5,Active,2025-05-01\n"))
	f.Add([]byte(`{"mpn":"P1","mfr":"ST","distributor":"X","stock":5,"as_of":"2025-05-01"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error {
			return importAvailability(o, r, "fuzz", availabilityConv{distributor: "D", asOf: testNow})
		})
	})
}

func FuzzSupplyMapCSV(f *testing.F) {
	f.Add([]byte("id,name,category,hs_code,chokepoint\nC1,IGBT,high_end_chip,854129,true\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error {
			// the fuzzed bytes are every section file in turn, so links can refer to the nodes
			open := func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
			_, err := importSupplyMapDir(newSupplyMapProc(o, testCountries, testNow, "CHN"), "fuzz", open)
			return err
		})
	})
}

func FuzzSupplyMapYAML(f *testing.F) {
	f.Add([]byte("enterprises:\n  - {id: E1, name: A, country: CHN}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error {
			return importSupplyMapYAML(newSupplyMapProc(o, testCountries, testNow, "CHN"), r, "fuzz.yaml")
		})
	})
}

func FuzzWillems(f *testing.F) {
	f.Add([]byte("/@from,/@to,/@stageName,/@stageClassification\nPart_1,Manuf_1,,\n,,Part_1,Part\n,,Manuf_1,Manuf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, func(o *out, r io.Reader) error {
			ch, err := ParseWillems(r, "willems_01.csv")
			if err != nil {
				return err
			}
			return ch.SupplyMap("fuzz").emit(newSupplyMapProc(o, testCountries, testNow, "CHN"), "willems_01.csv")
		})
	})
}

func FuzzSubstitution(f *testing.F) {
	f.Add([]byte("component_id,alt_component_id,qualification_days,as_of\nC1,C1-CN,90,2025-05-01\n"), false)
	f.Add([]byte("substitutions:\n  - {component_id: C1, alt_component_id: C1-CN, qualification_days: 90}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		fuzzParse(t, data, func(o *out, r io.Reader) error {
			c := &substitutionConv{o: o, countries: testCountries, asOf: testNow, homeCountry: "CHN"}
			if yaml {
				return importSubstitutionYAML(c, r, "fuzz.yaml")
			}
			return importSubstitutionCSV(c, r, "fuzz.csv")
		})
	})
}

// FuzzDupJSONKey checks dupJSONKey against a decoder that walks every object of valid JSON.
func FuzzDupJSONKey(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":2,"c":[{"d":1,"d":2}]}}`))
	f.Add([]byte(`{"a\"":1,"a\u0022":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		got := dupJSONKey(data)
		if want := hasDupKey(t, data); (got != "") != want {
			t.Fatalf("dupJSONKey(%s) = %q, the reference says duplicate=%v", data, got, want)
		}
	})
}

// hasDupKey is the reference: a token walk comparing raw (quoted) keys per object.
func hasDupKey(t *testing.T, data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj  bool
		seen map[string]bool
		key  bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Skip("reference decoder failed: ", err)
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true // the object was its parent's value
				}
				continue
			}
			k := tok.(string)
			if top.seen[k] {
				return true
			}
			top.seen[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, seen: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
