// Package loadgen generates synthetic but well-formed chainwatch events, and malformed records of
// every rejection class, for integration tests, fault-injection runs and benchmarks.
package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// Event returns the i-th distinct valid event of a deterministic stream (kinds rotate: trade,
// availability, supply link).
func Event(i int, now time.Time) schemas.Envelope {
	var rec schemas.Record
	switch i % 3 {
	case 0:
		w := float64(i%977) * 13.5
		rec = &schemas.TradeFlow{ReporterM49: uint16(i % 900), PartnerM49: uint16((i / 900) % 900), Flow: "M",
			HSCode: fmt.Sprintf("%06d", 250000+i%500000), Classification: "H6", Year: uint16(2015 + i%10),
			CustomsCode: "C00", ValueUSD: float64(i) * 1.25, NetWeightKg: &w, QtyUnit: "kg"}
	case 1:
		lt := float64(7 + i%120)
		price := 0.5 + float64(i%1000)/100
		rec = &schemas.ComponentAvailability{PartNumber: fmt.Sprintf("PN-%d", i), Manufacturer: "Acme Semi",
			Distributor: "dist-" + fmt.Sprint(i%7), Stock: int64(i % 10000), LeadTimeDays: &lt,
			Lifecycle: schemas.Lifecycles[i%len(schemas.Lifecycles)], Price: &price, Currency: "USD",
			AsOf: time.Date(2026, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)}
	default:
		rec = &schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: fmt.Sprintf("E%d", i%5000),
			ComponentID: fmt.Sprintf("C%d", i), SupplierID: fmt.Sprintf("S%d", i%20000), Share: 1,
			Qualification: "qualified", AsOf: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
	}
	env, err := schemas.NewEnvelope("loadgen", rec, now)
	if err != nil {
		panic(fmt.Sprintf("loadgen: generated an invalid event %d: %v", i, err)) // a bug in this generator
	}
	return env
}

// Encode marshals an envelope as the sink reads it.
func Encode(env schemas.Envelope) []byte {
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// Malformed is a bad Kafka record for a kind topic and the reject reason the sink must give it.
type Malformed struct {
	Kind   schemas.Kind // topic to send it to
	Value  []byte
	Reason string
}

// MalformedCount is the number of distinct malformation classes Bad produces.
const MalformedCount = 8

// Bad returns the i-th malformed record; classes rotate over MalformedCount ways of being wrong.
func Bad(i int, now time.Time, r *rand.Rand) Malformed {
	good := Event(3*i, now) // a trade event to corrupt
	switch i % MalformedCount {
	case 0: // not JSON at all
		return Malformed{schemas.KindTrade, []byte(fmt.Sprintf("garbage %d \x00\xff", i)), "bad_json"}
	case 1: // truncated JSON
		b := Encode(good)
		return Malformed{schemas.KindTrade, b[:len(b)/2], "bad_json"}
	case 2: // envelope without event id
		g := good
		g.EventID = ""
		return Malformed{schemas.KindTrade, Encode(g), "bad_envelope"}
	case 3: // future schema version
		g := good
		g.SchemaVersion = 99
		return Malformed{schemas.KindTrade, Encode(g), "bad_envelope"}
	case 4: // kind does not match the topic
		return Malformed{schemas.KindAvailability, Encode(good), "kind_mismatch"}
	case 5: // payload with an unknown field
		g := good
		g.Payload = json.RawMessage(`{"reporter_m49":1,"flow":"M","hs_code":"811292","year":2023,"value_usd":1,"bogus":true}`)
		return Malformed{schemas.KindTrade, Encode(g), "bad_payload"}
	case 6: // payload that fails validation (bad flow and HS code)
		g := good
		g.Payload = json.RawMessage(fmt.Sprintf(`{"reporter_m49":%d,"partner_m49":0,"flow":"Z","hs_code":"81x","year":2023,"value_usd":-1}`, r.IntN(900)))
		return Malformed{schemas.KindTrade, Encode(g), "invalid"}
	default: // event id that does not match the natural key (tampered)
		g := good
		g.EventID = fmt.Sprintf("%032x", i)
		return Malformed{schemas.KindTrade, Encode(g), "invalid"}
	}
}
