package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Routing POST /-/detect to the leader (docs/scaling.md). In cluster mode only the lease holder runs
// detectors, so a follower behind a load balancer cannot serve /-/detect itself: the leader writes
// its control URL (http.advertise_url) to cluster_leader when it acquires the lease, and a follower
// forwards the request there (query string and Authorization header included) and relays the answer.
// No leader known, or the leader not reachable: 503 with a JSON error and Retry-After, at once.

// forwardedHeader marks a request a follower forwarded; a daemon that is not the leader answers it
// with 503 instead of forwarding it again.
const forwardedHeader = "X-Chainwatch-Forwarded-By"

// leaderHeader names, on a relayed answer, the daemon that served it.
const leaderHeader = "X-Chainwatch-Leader"

// retryAfter is the Retry-After (seconds) of a 503: about the time a new leader takes to be elected.
const retryAfter = "5"

// leaderRoute serves /-/detect: locally on the leader (or on one server), forwarded on a follower.
type leaderRoute struct {
	self    string                                    // this daemon's advertise URL
	cluster bool                                      // cluster mode: only the lease holder runs detectors
	leading atomic.Bool                               // this daemon holds the lease
	lookup  func(ctx context.Context) (string, error) // the leader's advertised URL ("" none)
	local   http.Handler
	client  *http.Client
}

func newLeaderRoute(cluster bool, lookup func(context.Context) (string, error), local http.Handler) *leaderRoute {
	return &leaderRoute{cluster: cluster, lookup: lookup, local: local,
		client: &http.Client{Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
			ResponseHeaderTimeout: 11 * time.Minute, // a leader's wait=true waits up to 10 minutes
		}}}
}

func (l *leaderRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !l.cluster || l.leading.Load() {
		l.local.ServeHTTP(w, r)
		return
	}
	if by := r.Header.Get(forwardedHeader); by != "" {
		unavailable(w, "this daemon is not the leader (forwarded by "+by+"); the lease is changing hands")
		return
	}
	lctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	leader, err := l.lookup(lctx)
	cancel()
	switch {
	case err != nil:
		unavailable(w, "leader unknown: "+err.Error())
		return
	case leader == "" || leader == l.self:
		unavailable(w, "no leader known: no daemon holds the detector lease")
		return
	}
	l.forward(w, r, leader)
}

// forward sends r to the leader's same path and relays status, content type and body.
func (l *leaderRoute) forward(w http.ResponseWriter, r *http.Request, leader string) {
	target := strings.TrimSuffix(leader, "/") + r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, http.NoBody)
	if err != nil {
		unavailable(w, fmt.Sprintf("leader %s: %v", leader, err))
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set(forwardedHeader, l.self)
	resp, err := l.client.Do(req)
	if err != nil {
		unavailable(w, fmt.Sprintf("leader %s unreachable: %v", leader, err))
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Retry-After", "WWW-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set(leaderHeader, leader)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", retryAfter)
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "error": msg})
}

// advertiseURL is http.advertise_url, or http://<listen address> with the host name for an
// unspecified host (addr is the bound address, so port 0 is resolved).
func advertiseURL(configured string, addr net.Addr) string {
	if configured != "" {
		return strings.TrimSuffix(configured, "/")
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// advertiseLeader records url as the leader's in cluster_leader (retried while ctx lasts, the lease).
func advertiseLeader(ctx context.Context, conn driver.Conn, url string) error {
	host, _ := os.Hostname()
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = insertLeader(ctx, conn, url, host); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return err
}

func insertLeader(ctx context.Context, conn driver.Conn, url, host string) error {
	now := time.Now()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO cluster_leader (id, url, host, version, acquired_at)")
	if err != nil {
		return fmt.Errorf("cluster_leader: %w", err)
	}
	if err := b.Append(uint8(0), url, host, uint64(now.UnixNano()), now.UTC()); err != nil {
		_ = b.Abort()
		return fmt.Errorf("cluster_leader: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cluster_leader: %w", err)
	}
	return nil
}

// currentLeader reads the newest advertised leader URL ("" when none was written).
func currentLeader(conn driver.Conn) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		var url string
		if err := conn.QueryRow(ctx, "SELECT argMax(url, version) FROM cluster_leader").Scan(&url); err != nil {
			return "", fmt.Errorf("cluster_leader: %w", err)
		}
		return url, nil
	}
}
