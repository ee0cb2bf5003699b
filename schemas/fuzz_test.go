package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// FuzzDecode fuzzes the envelope decoder the sink runs on every Kafka record: it must not panic,
// the hand-written fast path must agree with the reflective decoder (same envelope, same record,
// same reject reason), DecodeShared must agree with both, and an accepted record must survive a
// re-encode. Seeds: one valid event of every kind, and the checked-in corpus in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	q := 5.0
	for _, rec := range []Record{
		&TradeFlow{ReporterM49: 842, ReporterISO3: "USA", PartnerM49: 156, PartnerISO3: "CHN", Flow: "M", HSCode: "811292", Year: 2023, ValueUSD: 5, Quantity: &q, QtyUnit: "kg"},
		&ProductionStat{Commodity: "gallium", Country: "China", CountryISO3: "CHN", Stage: "mine", Year: 2023, Unit: "t", Quantity: &q},
		&ProcurementAward{OCID: "ocds-1", AwardID: "a1", ReleaseID: "r1", Date: now, Value: &q, Currency: "GBP"},
		&ComponentAvailability{PartNumber: "P1", Manufacturer: "ST", Distributor: "X", Stock: 5, Lifecycle: "active", AsOf: now},
		&SupplyNode{NodeType: NodeComponent, NodeID: "C1", Category: "high_end_chip", HSCode: "854231", AsOf: now},
		&SupplyLink{LinkType: LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 0.5, Qualification: "qualified", AsOf: now},
		&Substitution{ComponentID: "C1", AltComponentID: "C1-CN", QualificationDays: 90, Country: "CHN", AsOf: now},
	} {
		env, err := NewEnvelope("fuzz", rec, now)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(env)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		fenv, frec, ferr := Decode(value, "")
		renv, rrec, rerr := decode(value, "", false, false)
		if (ferr == nil) != (rerr == nil) {
			t.Fatalf("fast path error %v, reflective error %v", ferr, rerr)
		}
		if ferr != nil {
			var fd, rd *DecodeError
			if !errors.As(ferr, &fd) || !errors.As(rerr, &rd) || fd.Reason != rd.Reason {
				t.Fatalf("reasons differ: fast %v, reflective %v", ferr, rerr)
			}
			return
		}
		if !reflect.DeepEqual(fenv, renv) || !reflect.DeepEqual(frec, rrec) {
			t.Fatalf("fast path and reflective decoder disagree:\n%+v %+v\n%+v %+v", fenv, frec, renv, rrec)
		}
		senv, srec, serr := DecodeShared(bytes.Clone(value), "")
		if serr != nil || !reflect.DeepEqual(senv, renv) || !reflect.DeepEqual(srec, rrec) {
			t.Fatalf("DecodeShared and the reflective decoder disagree (%v):\n%+v %+v\n%+v %+v", serr, senv, srec, renv, rrec)
		}
		again, err := NewEnvelope(fenv.Source, frec, fenv.IngestedAt)
		if err != nil {
			t.Fatalf("an accepted record does not re-encode: %v", err)
		}
		if again.EventID != fenv.EventID {
			t.Fatalf("event id %s, re-encoded %s", fenv.EventID, again.EventID)
		}
	})
}

// FuzzDecodeProto fuzzes the protobuf decoder the sink runs on every event of a protobuf pack: it
// must not panic, shared and copied strings must decode alike, a rejected event must carry a
// DecodeError with one of the documented reasons and no record, and an accepted event must be a
// valid record that the encoder writes back to an event decoding to the same envelope and record.
func FuzzDecodeProto(f *testing.F) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 123, time.UTC)
	q := 5.0
	for _, rec := range []Record{
		&TradeFlow{ReporterM49: 842, ReporterISO3: "USA", PartnerM49: 156, PartnerISO3: "CHN", Flow: "M", HSCode: "811292", Year: 2023, ValueUSD: 5, Quantity: &q, QtyUnit: "kg"},
		&ProcurementAward{OCID: "ocds-1", AwardID: "a1", ReleaseID: "r1", Date: now, Value: &q, Currency: "GBP", SupplierIDs: []string{"S1", ""}, SupplierNames: []string{"甲", ""}, SupplierCountries: []string{"CHN", ""}},
		&ComponentAvailability{PartNumber: "P1", Manufacturer: "ST", Distributor: "X", Stock: 5, Lifecycle: "active", AsOf: now},
		&SupplyNode{NodeType: NodeComponent, NodeID: "C1", Category: "high_end_chip", HSCode: "854231", Chokepoint: true, AsOf: now},
		&SupplyLink{LinkType: LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 0.5, Qualification: "qualified", AsOf: now},
	} {
		env, err := NewEnvelope("fuzz", rec, now)
		if err != nil {
			f.Fatal(err)
		}
		b, err := AppendProtoEvent(nil, &env, rec)
		if err != nil {
			f.Fatal(err)
		}
		ProtoPackEvents(b, func(_ int, ev []byte, _ error) bool { f.Add(bytes.Clone(ev)); return false })
	}
	reasons := []string{"bad_protobuf", "bad_envelope", "kind_mismatch", "bad_payload", "invalid"}
	f.Fuzz(func(t *testing.T, value []byte) {
		env, rec, err := DecodeProto(value, "", false)
		senv, srec, serr := DecodeProto(bytes.Clone(value), "", true)
		if (err == nil) != (serr == nil) || !reflect.DeepEqual(env, senv) || !reflect.DeepEqual(rec, srec) {
			t.Fatalf("shared and copied strings disagree: %v / %v", err, serr)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !slices.Contains(reasons, de.Reason) || rec != nil {
				t.Fatalf("a reject without a documented reason, or with a record: %v %v", err, rec)
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("accepted an invalid record: %v", err)
		}
		b, err := AppendProtoEvent(nil, &env, rec)
		if err != nil {
			t.Fatal(err)
		}
		var env2 Envelope
		var rec2 Record
		ProtoPackEvents(b, func(_ int, ev []byte, perr error) bool {
			if err = perr; err == nil {
				env2, rec2, err = DecodeProto(ev, "", false)
			}
			return false
		})
		if err != nil || !reflect.DeepEqual(env, env2) || !reflect.DeepEqual(rec, rec2) {
			t.Fatalf("re-encoded event decodes differently (%v):\n%+v %+v\n%+v %+v", err, env, rec, env2, rec2)
		}
	})
}
