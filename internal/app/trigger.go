package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// detectTrigger lets HTTP callers start a detector run and wait for the first run that started
// after their request (so it sees all data stored before the request).
type detectTrigger struct {
	ch       chan struct{}
	mu       sync.Mutex
	started  uint64 // runs started
	finished map[uint64]chan result
}

type result struct {
	sum detectors.RunSummary
	err error
}

func newDetectTrigger() *detectTrigger {
	return &detectTrigger{ch: make(chan struct{}, 1), finished: map[uint64]chan result{}}
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
	if err != nil {
		out.Error = err.Error()
		w.WriteHeader(http.StatusInternalServerError)
	}
	_ = json.NewEncoder(w).Encode(out)
}
