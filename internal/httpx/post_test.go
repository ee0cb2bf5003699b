package httpx

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPostJSONReplaysBodyOnRetry: every attempt (after 503, 429 and a dropped connection) carries
// the same body and headers.
func TestPostJSONReplaysBodyOnRetry(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var ctypes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		ctypes = append(ctypes, r.Header.Get("Content-Type")+"|"+r.Header.Get("X-Test")+"|"+r.Method)
		n := len(bodies)
		mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		default:
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer srv.Close()
	in := map[string]any{"SearchByPartRequest": map[string]string{"mouserPartNumber": "NE555P|LM358", "partSearchOptions": "Exact"}}
	resp, err := PostJSON(context.Background(), New(fastOpts()), srv.URL+"/search?apiKey=secret", in, http.Header{"X-Test": {"t"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want, _ := json.Marshal(in)
	if len(bodies) != 4 {
		t.Fatalf("%d attempts, want 4", len(bodies))
	}
	for i, b := range bodies {
		if b != string(want) || ctypes[i] != "application/json|t|POST" {
			t.Errorf("attempt %d: body %q headers %q", i+1, b, ctypes[i])
		}
	}
}

func TestPostErrorRedactsQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	o := fastOpts()
	o.RetryMax = 1
	_, err := PostJSON(context.Background(), New(o), srv.URL+"/x?apiKey=secret", map[string]int{"a": 1}, nil)
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err %v", err)
	}
}

func TestClientCredentialsCachesAndRefreshes(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		n := len(forms)
		mu.Unlock()
		if r.PostForm.Get("client_secret") != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok" + string(rune('0'+n)), "token_type": "Bearer", "expires_in": 600})
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cc := &ClientCredentials{TokenURL: srv.URL + "/connect/token", ClientID: "id", ClientSecret: "s3cret", Scope: "supply.domain",
		Client: New(fastOpts()), Now: func() time.Time { return now }}
	ctx := context.Background()
	tok, err := cc.Token(ctx)
	if err != nil || tok != "tok1" {
		t.Fatalf("first token %q %v", tok, err)
	}
	now = now.Add(8 * time.Minute) // 600 s life, renewed 60 s early: still valid at 8 min
	if tok, _ = cc.Token(ctx); tok != "tok1" || cc.Fetches() != 1 {
		t.Fatalf("cached token %q, %d fetches", tok, cc.Fetches())
	}
	now = now.Add(90 * time.Second) // 9.5 min: inside the refresh margin
	if tok, _ = cc.Token(ctx); tok != "tok2" || cc.Fetches() != 2 {
		t.Fatalf("refreshed token %q, %d fetches", tok, cc.Fetches())
	}
	cc.Invalidate()
	if tok, _ = cc.Token(ctx); tok != "tok3" {
		t.Fatalf("after Invalidate %q", tok)
	}
	f := forms[0]
	if f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "id" || f.Get("scope") != "supply.domain" {
		t.Errorf("form %v", f)
	}
	bad := &ClientCredentials{TokenURL: srv.URL, ClientID: "id", ClientSecret: "wrong", Client: New(fastOpts())}
	if _, err := bad.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad secret: %v", err)
	}
}
