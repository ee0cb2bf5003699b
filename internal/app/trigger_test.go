package app

import (
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

func signalled(d *detectTrigger, within time.Duration) bool {
	select {
	case <-d.events:
		return true
	case <-time.After(within):
		return false
	}
}

// Availability rows in a partial batch wake the detector loop at once; in full batches (a backlog
// being drained) the signal is held until a partial batch, until no full batch came for drainQuiet,
// or for at most maxHold; batches without availability rows alone never signal.
func TestTriggerHoldsAvailabilityDuringDrain(t *testing.T) {
	avail := []schemas.Kind{schemas.KindAvailability, schemas.KindTrade}
	trade := []schemas.Kind{schemas.KindTrade}

	d := newDetectTrigger()
	d.drainQuiet, d.maxHold = time.Hour, time.Hour
	d.stored(trade, false)
	if signalled(d, 20*time.Millisecond) {
		t.Fatal("trade rows alone woke the detector loop")
	}
	d.stored(avail, false)
	if !signalled(d, 20*time.Millisecond) {
		t.Fatal("availability rows in a partial batch: no signal")
	}
	d.stored(avail, true)
	d.stored(trade, true)
	if signalled(d, 20*time.Millisecond) {
		t.Fatal("signalled while full batches are being drained")
	}
	d.stored(nil, false) // caught up: a batch of rejects only, not full
	if !signalled(d, 20*time.Millisecond) {
		t.Fatal("held signal not released when the sink caught up")
	}

	d = newDetectTrigger()
	d.drainQuiet, d.maxHold = 50*time.Millisecond, time.Hour
	d.stored(avail, true) // the last batch of a drain is full: the quiet timer releases it
	if signalled(d, 10*time.Millisecond) {
		t.Fatal("signalled before drain_quiet")
	}
	if !signalled(d, time.Second) {
		t.Fatal("held signal not released after drainQuiet")
	}

	d = newDetectTrigger()
	d.drainQuiet, d.maxHold = time.Hour, 30*time.Millisecond
	d.stored(avail, true)
	time.Sleep(40 * time.Millisecond)
	d.stored(trade, true) // still draining, but held for longer than maxHold
	if !signalled(d, 20*time.Millisecond) {
		t.Fatal("held signal not released after maxHold")
	}
}
