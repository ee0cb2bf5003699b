package alerts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Files in the state directory.
const (
	alertsFile   = "alerts.json"   // snapshot of every alert (firing and recently resolved), with acks
	silencesFile = "silences.json" // snapshot of the silences
	nflogFile    = "nflog.jsonl"   // append-only notification log, compacted on start
	stateVersion = 1
)

// nflogEntry records the last successful notification of one group on one integration.
type nflogEntry struct {
	Group       string              `json:"group"`
	Integration string              `json:"integration"`
	SentAt      time.Time           `json:"sent_at"`
	Firing      map[string]Severity `json:"firing"`             // fingerprint → severity notified
	Resolved    []string            `json:"resolved,omitempty"` // resolutions sent by this notification
}

type nflogKey struct{ group, integration string }

func (e *nflogEntry) key() nflogKey { return nflogKey{e.Group, e.Integration} }

// store persists state: snapshots are written to a temp file, fsynced and renamed over the old
// one; the notification log is appended with an fsync per entry. Callers serialise access.
type store struct {
	dir      string
	nflog    *os.File
	appended int
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("alerts: state dir: %w", err)
	}
	return &store{dir: dir}, nil
}

type alertsSnapshot struct {
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	Alerts  []*Alert  `json:"alerts"`
}

type silencesSnapshot struct {
	Version  int        `json:"version"`
	SavedAt  time.Time  `json:"saved_at"`
	Silences []*Silence `json:"silences"`
}

func (s *store) loadAlerts() ([]*Alert, error) {
	var snap alertsSnapshot
	if err := s.readJSON(alertsFile, &snap); err != nil {
		return nil, err
	}
	return snap.Alerts, nil
}

func (s *store) saveAlerts(now time.Time, alerts map[string]*Alert) error {
	list := make([]*Alert, 0, len(alerts))
	for _, a := range alerts {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Fingerprint < list[j].Fingerprint })
	return s.writeJSON(alertsFile, alertsSnapshot{Version: stateVersion, SavedAt: now, Alerts: list})
}

func (s *store) loadSilences() ([]*Silence, error) {
	var snap silencesSnapshot
	if err := s.readJSON(silencesFile, &snap); err != nil {
		return nil, err
	}
	return snap.Silences, nil
}

func (s *store) saveSilences(now time.Time, sils map[string]*Silence) error {
	list := make([]*Silence, 0, len(sils))
	for _, x := range sils {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return s.writeJSON(silencesFile, silencesSnapshot{Version: stateVersion, SavedAt: now, Silences: list})
}

func (s *store) readJSON(name string, v any) error {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alerts: read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("alerts: parse %s: %w", filepath.Join(s.dir, name), err)
	}
	return nil
}

func (s *store) writeJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("alerts: encode %s: %w", name, err)
	}
	return writeAtomic(s.dir, name, b)
}

// writeAtomic writes dir/name through a synced temp file and a rename, then syncs the directory.
func writeAtomic(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("alerts: write %s: %w", name, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("alerts: write %s: %w", name, werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// loadNflog replays the log; the last entry per (group, integration) wins. A torn last line (a
// crash mid-append) is ignored.
func (s *store) loadNflog() (map[nflogKey]*nflogEntry, error) {
	out := map[nflogKey]*nflogEntry{}
	f, err := os.Open(filepath.Join(s.dir, nflogFile))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alerts: read %s: %w", nflogFile, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e nflogEntry
		if err := json.Unmarshal(line, &e); err != nil {
			continue // torn write
		}
		out[e.key()] = &e
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("alerts: read %s: %w", nflogFile, err)
	}
	return out, nil
}

func (s *store) appendNflog(e *nflogEntry) error {
	if s.nflog == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, nflogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("alerts: open %s: %w", nflogFile, err)
		}
		s.nflog = f
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("alerts: encode nflog: %w", err)
	}
	b = append(b, '\n')
	if _, err := s.nflog.Write(b); err != nil {
		return fmt.Errorf("alerts: append %s: %w", nflogFile, err)
	}
	if err := s.nflog.Sync(); err != nil {
		return fmt.Errorf("alerts: sync %s: %w", nflogFile, err)
	}
	s.appended++
	return nil
}

// compactNflog rewrites the log with one line per entry.
func (s *store) compactNflog(entries map[nflogKey]*nflogEntry) error {
	keys := make([]nflogKey, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].integration < keys[j].integration
	})
	var buf bytes.Buffer
	for _, k := range keys {
		b, err := json.Marshal(entries[k])
		if err != nil {
			return fmt.Errorf("alerts: encode nflog: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if s.nflog != nil {
		_ = s.nflog.Close()
		s.nflog = nil
	}
	if err := writeAtomic(s.dir, nflogFile, buf.Bytes()); err != nil {
		return err
	}
	s.appended = 0
	return nil
}

func (s *store) close() error {
	if s.nflog == nil {
		return nil
	}
	err := s.nflog.Close()
	s.nflog = nil
	return err
}
