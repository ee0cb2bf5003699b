package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

func postDetect(t *testing.T, h http.Handler, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestFollowerDetectWithoutLeader: a follower that knows no leader (none advertised, only itself,
// the lookup failing, the leader unreachable, or a request already forwarded) answers 503 with a
// JSON error and Retry-After at once instead of waiting for a run that never comes.
func TestFollowerDetectWithoutLeader(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	local := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a follower served /-/detect itself") })
	cases := []struct {
		name, leader string
		lookupErr    error
		hdr          map[string]string
		want         string
	}{
		{name: "none advertised", want: "no leader known"},
		{name: "only itself", leader: "http://self:9464", want: "no leader known"},
		{name: "lookup fails", lookupErr: errors.New("clickhouse down"), want: "clickhouse down"},
		{name: "leader unreachable", leader: deadURL, want: "unreachable"},
		{name: "already forwarded", leader: "http://other:9464", hdr: map[string]string{forwardedHeader: "http://x:1"}, want: "not the leader"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newLeaderRoute(true, func(context.Context) (string, error) { return c.leader, c.lookupErr }, local)
			r.self = "http://self:9464"
			start := time.Now()
			rec := postDetect(t, r, "/-/detect?wait=true", c.hdr)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("status %d, Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			var body struct{ Status, Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != "unavailable" || !strings.Contains(body.Error, c.want) {
				t.Errorf("body %q (%v), want status unavailable and an error with %q", rec.Body.String(), err, c.want)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("answered after %s", d)
			}
		})
	}
}

// TestFollowerDetectForwardsToLeader: a follower forwards POST /-/detect?wait=true with the caller's
// Authorization to the advertised leader, whose detector loop runs; the follower relays the run's
// answer. The leader itself serves the request locally and waits for the run.
func TestFollowerDetectForwardsToLeader(t *testing.T) {
	trig := newDetectTrigger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	go func() { // the leader's detector loop: one run per trigger
		for {
			select {
			case <-ctx.Done():
				return
			case <-trig.ch:
				runs.Add(1)
				run := trig.begin()
				time.Sleep(50 * time.Millisecond)
				trig.end(run, detectors.RunSummary{RunID: "run-leader", Detectors: []detectors.DetectorSummary{{Detector: "exposure", Findings: 7}}}, nil)
			}
		}
	}()
	var gotAuth, gotBy, gotQuery string
	leader := newLeaderRoute(true, func(context.Context) (string, error) { t.Error("the leader looked up a leader"); return "", nil },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotAuth, gotBy, gotQuery = r.Header.Get("Authorization"), r.Header.Get(forwardedHeader), r.URL.RawQuery
			trig.serveHTTP(w, r)
		}))
	leader.leading.Store(true)
	srv := httptest.NewServer(leader)
	defer srv.Close()
	leader.self = srv.URL

	follower := newLeaderRoute(true, func(context.Context) (string, error) { return srv.URL + "/", nil }, http.NotFoundHandler())
	follower.self = "http://follower:9464"
	rec := postDetect(t, follower, "/-/detect?wait=true", map[string]string{"Authorization": "Bearer op-token"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out struct {
		RunID     string `json:"run_id"`
		Detectors []struct {
			Detector string `json:"detector"`
			Findings int    `json:"findings"`
		} `json:"detectors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.RunID != "run-leader" || len(out.Detectors) != 1 || out.Detectors[0].Findings != 7 || runs.Load() != 1 {
		t.Errorf("relayed %+v after %d runs, want the leader's run-leader with 7 exposure findings after 1 run", out, runs.Load())
	}
	if gotAuth != "Bearer op-token" || gotBy != "http://follower:9464" || gotQuery != "wait=true" {
		t.Errorf("leader got Authorization %q, %s %q, query %q", gotAuth, forwardedHeader, gotBy, gotQuery)
	}
	if rec.Header().Get(leaderHeader) != srv.URL+"/" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", rec.Header())
	}
	// Not waiting: the follower relays the leader's 202.
	if rec := postDetect(t, follower, "/-/detect", nil); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "started") {
		t.Errorf("without wait: %d %s", rec.Code, rec.Body)
	}
	// One server (no cluster): served locally whatever the lookup says.
	single := newLeaderRoute(false, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	if rec := postDetect(t, single, "/-/detect?wait=true", nil); rec.Code != http.StatusTeapot {
		t.Errorf("one server: %d", rec.Code)
	}
}

func TestAdvertiseURL(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	cases := []struct {
		configured string
		addr       string
		want       string
	}{
		{"https://cw-0.cw:9464/", "0.0.0.0:9464", "https://cw-0.cw:9464"},
		{"", "127.0.0.1:40123", "http://127.0.0.1:40123"},
		{"", "[::1]:9464", "http://[::1]:9464"},
		{"", "0.0.0.0:9464", "http://" + net.JoinHostPort(host, "9464")},
		{"", "[::]:9464", "http://" + net.JoinHostPort(host, "9464")},
	}
	for _, c := range cases {
		addr, err := net.ResolveTCPAddr("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertiseURL(c.configured, addr); got != c.want {
			t.Errorf("advertiseURL(%q, %s) = %q, want %q", c.configured, c.addr, got, c.want)
		}
	}
}

// TestDetectWaitLeaseLost: a caller waiting on the leader for a run gets 503 with Retry-After when the
// daemon loses the lease before the run, instead of waiting for a run that will not happen there.
func TestDetectWaitLeaseLost(t *testing.T) {
	trig := newDetectTrigger()
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- postDetect(t, http.HandlerFunc(trig.serveHTTP), "/-/detect?wait=true", nil) }()
	waitRegistered(trig)
	trig.abort(errLeaseLost)
	select {
	case rec := <-done:
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "lost the detector lease") {
			t.Errorf("%d %v %s, want 503 with Retry-After and the lease error", rec.Code, rec.Header(), rec.Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting caller was not answered")
	}
}

// TestDetectWaitRunCutShort: when the lease ends during a run (the run fails because its context
// ended), the caller waiting for that run gets 503 with Retry-After, not a 500 carrying the
// cancellation errors of the detectors; a run that fails while the lease holds stays a 500.
func TestDetectWaitRunCutShort(t *testing.T) {
	cause := errors.New("detector single_source: findings: send 12 rows: consumer group generation has ended")
	for _, c := range []struct {
		name     string
		leaseEnd bool
		want     int
	}{
		{"lease ended during the run", true, http.StatusServiceUnavailable},
		{"run failed while leading", false, http.StatusInternalServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			trig := newDetectTrigger()
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- postDetect(t, http.HandlerFunc(trig.serveHTTP), "/-/detect?wait=true", nil) }()
			waitRegistered(trig)
			lctx, lose := context.WithCancel(context.Background())
			if c.leaseEnd {
				lose()
			}
			defer lose()
			run := trig.begin()
			trig.end(run, detectors.RunSummary{RunID: "r1"}, leaseRunErr(lctx, "r1", cause))
			select {
			case rec := <-done:
				if rec.Code != c.want {
					t.Errorf("status %d (%s), want %d", rec.Code, rec.Body, c.want)
				}
				if c.leaseEnd && (rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "run r1 was cut short")) {
					t.Errorf("%v %s, want Retry-After and the cut-short run named", rec.Header(), rec.Body)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the waiting caller was not answered")
			}
		})
	}
	if err := leaseRunErr(context.Background(), "r2", nil); err != nil {
		t.Errorf("a run without error: %v", err)
	}
}

// waitRegistered returns once a caller waits on trig for a run.
func waitRegistered(trig *detectTrigger) {
	for {
		trig.mu.Lock()
		n := len(trig.finished)
		trig.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSlotDoneIntegration: a slot counts as done only when a run started in it completed (no
// detector failed); a run cut short by the end of the lease writes error rows and is run again.
func TestSlotDoneIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	slot := time.Now().UTC().Truncate(time.Hour)
	write := func(runID string, at time.Time, statuses ...string) {
		t.Helper()
		for i, st := range statuses {
			rec := detectors.RunRecord{RunID: runID, Detector: fmt.Sprintf("d%d", i), StartedAt: at, FinishedAt: at.Add(time.Second),
				Status: st, WindowFrom: at, WindowTo: at}
			if err := detectors.WriteRuns(ctx, conn, []detectors.RunRecord{rec}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := func() bool {
		t.Helper()
		d, err := slotDone(ctx, conn, slot)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	write("before", slot.Add(-time.Minute), detectors.StatusOK, detectors.StatusOK)
	if done() {
		t.Fatal("a run of the previous slot made this one done")
	}
	write("cut-short", slot.Add(time.Second), detectors.StatusOK, detectors.StatusError, detectors.StatusError)
	if done() {
		t.Fatal("a run cut short (error rows) made the slot done")
	}
	write("completed", slot.Add(2*time.Second), detectors.StatusOK, detectors.StatusOK)
	if !done() {
		t.Fatal("a completed run did not make the slot done")
	}
}
