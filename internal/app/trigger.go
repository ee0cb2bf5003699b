package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/schemas"
)

// detectTrigger lets HTTP callers start a detector run and wait for the first run that started
// after their request (so it sees all data stored before the request).
type detectTrigger struct {
	ch       chan struct{}
	events   chan struct{} // availability rows were stored (the sink's OnStored)
	mu       sync.Mutex
	started  uint64 // runs started
	finished map[uint64]chan result

	// While the sinks drain a backlog availability signals are held: one run after the drain, not
	// one per batch. pendingSince is when the first held signal came (zero: none); quiet fires them
	// when no batch behind followed within drainQuiet; maxHold bounds the wait.
	pendingSince time.Time
	quiet        *time.Timer
	drainQuiet   time.Duration
	maxHold      time.Duration
}

type result struct {
	sum detectors.RunSummary
	err error
}

func newDetectTrigger() *detectTrigger {
	return &detectTrigger{ch: make(chan struct{}, 1), events: make(chan struct{}, 1), finished: map[uint64]chan result{},
		drainQuiet: 2 * time.Second, maxHold: 30 * time.Second}
}

// eventDebounce is how long the detector loop waits after availability rows were stored before it
// runs the event detectors, so one burst of batches makes one run.
const eventDebounce = 100 * time.Millisecond

// eventDetectors run, then the alert evaluation, soon after availability rows are stored, instead of
// waiting for detectors.interval.
var eventDetectors = []string{detectors.NameAvailability, detectors.NameExposure}

// stored is the sinks' OnStored hook: it wakes the detector loop when availability rows landed.
// While the sink is behind (draining a backlog) the signal is held until a batch that is not behind
// (caught up), until drainQuiet passed without another batch behind, or for at most maxHold.
func (d *detectTrigger) stored(kinds []schemas.Kind, behind bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if slices.Contains(kinds, schemas.KindAvailability) && d.pendingSince.IsZero() {
		d.pendingSince = time.Now()
	}
	if d.pendingSince.IsZero() {
		return
	}
	if behind && time.Since(d.pendingSince) < d.maxHold {
		if d.quiet == nil {
			d.quiet = time.AfterFunc(d.drainQuiet, d.release)
		} else {
			d.quiet.Reset(d.drainQuiet)
		}
		return
	}
	d.signalLocked()
}

// release fires a held availability signal (the quiet timer).
func (d *detectTrigger) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pendingSince.IsZero() {
		d.signalLocked()
	}
}

func (d *detectTrigger) signalLocked() {
	d.pendingSince = time.Time{}
	if d.quiet != nil {
		d.quiet.Stop()
	}
	select {
	case d.events <- struct{}{}:
	default:
	}
}

// debounce waits eventDebounce after the last availability signal (at most 4 × eventDebounce in all).
func (d *detectTrigger) debounce(ctx context.Context) bool {
	deadline := time.NewTimer(4 * eventDebounce)
	defer deadline.Stop()
	for {
		t := time.NewTimer(eventDebounce)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-d.events:
			t.Stop()
		case <-t.C:
			return true
		case <-deadline.C:
			t.Stop()
			return true
		}
	}
}

func (d *detectTrigger) poke() {
	select {
	case d.ch <- struct{}{}:
	default:
	}
}

// begin is called by the loop when a run starts; end when it has finished.
func (d *detectTrigger) begin() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started++
	return d.started
}

func (d *detectTrigger) end(run uint64, sum detectors.RunSummary, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n, c := range d.finished {
		if n <= run {
			c <- result{sum, err}
			delete(d.finished, n)
		}
	}
}

// errLeaseLost answers the callers waiting for a run when this daemon stops leading (the run will
// not happen here; the new leader runs the next one).
var errLeaseLost = errors.New("this daemon lost the detector lease before the run finished; retry (the request goes to the new leader)")

// abort answers every caller waiting for a run with err.
func (d *detectTrigger) abort(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n, c := range d.finished {
		c <- result{err: err}
		delete(d.finished, n)
	}
}

// wait registers for the next run to start, pokes the loop and waits for that run's end.
func (d *detectTrigger) wait(ctx context.Context) (detectors.RunSummary, error) {
	d.mu.Lock()
	next := d.started + 1
	c, ok := d.finished[next]
	if !ok {
		c = make(chan result, 1)
		d.finished[next] = c
	}
	d.mu.Unlock()
	d.poke()
	select {
	case r := <-c:
		c <- r // others waiting on the same run
		return r.sum, r.err
	case <-ctx.Done():
		return detectors.RunSummary{}, ctx.Err()
	}
}

// serveHTTP: POST /-/detect starts a run; with ?wait=true it answers when the run (and the alert
// evaluation) has finished, with the per-detector finding counts.
func (d *detectTrigger) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("wait") != "true" {
		d.poke()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"started"}` + "\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute)
	defer cancel()
	sum, err := d.wait(ctx)
	type det struct {
		Detector string `json:"detector"`
		Findings int    `json:"findings"`
		Error    string `json:"error,omitempty"`
	}
	out := struct {
		RunID     string `json:"run_id"`
		Error     string `json:"error,omitempty"`
		Detectors []det  `json:"detectors"`
	}{RunID: sum.RunID}
	for _, s := range sum.Detectors {
		e := ""
		if s.Err != nil {
			e = s.Err.Error()
		}
		out.Detectors = append(out.Detectors, det{s.Detector, s.Findings, e})
	}
	switch {
	case errors.Is(err, errLeaseLost):
		out.Error = err.Error()
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusServiceUnavailable)
	case err != nil:
		out.Error = err.Error()
		w.WriteHeader(http.StatusInternalServerError)
	}
	_ = json.NewEncoder(w).Encode(out)
}
