package alerts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Alternates are, per firing fingerprint, the alternates (alternateKeys) this integration's
	// notifications have named since the alert started firing (record merges them with the previous
	// entry's); alerts never sent with any are absent. Never nil in an entry written since it was
	// added: an entry read from an older log has none, and its alerts are not re-sent for
	// alternates (newAlternates).
	Alternates map[string][]string `json:"alternates"`
}

type nflogKey struct{ group, integration string }

func (e *nflogEntry) key() nflogKey { return nflogKey{e.Group, e.Integration} }

// store persists state: snapshots are written to a temp file, fsynced and renamed over the old
// one; the notification log is appended with an fsync per entry. Callers serialise access.
//
// A failed append (a full disk) is undone (the file is cut back, so no torn line is left for the
// next entry to be glued to) and the entry is kept in unsaved: every later write of the store
// (the next append, or a snapshot) first appends what is unsaved, in order, so once space returns
// the log catches up by itself and a restart does not re-send what was delivered.
type store struct {
	dir      string
	nflog    *os.File
	appended int
	unsaved  []*nflogEntry // delivered notifications not yet in the log on disk, oldest first
	needNL   bool          // a torn line could not be cut off: start the next entry on a new line
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
	nferr := s.flushNflog()
	list := make([]*Alert, 0, len(alerts))
	for _, a := range alerts {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Fingerprint < list[j].Fingerprint })
	return errors.Join(nferr, s.writeJSON(alertsFile, alertsSnapshot{Version: stateVersion, SavedAt: now, Alerts: list}))
}

func (s *store) loadSilences() ([]*Silence, error) {
	var snap silencesSnapshot
	if err := s.readJSON(silencesFile, &snap); err != nil {
		return nil, err
	}
	return snap.Silences, nil
}

func (s *store) saveSilences(now time.Time, sils map[string]*Silence) error {
	nferr := s.flushNflog()
	list := make([]*Silence, 0, len(sils))
	for _, x := range sils {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return errors.Join(nferr, s.writeJSON(silencesFile, silencesSnapshot{Version: stateVersion, SavedAt: now, Silences: list}))
}

func (s *store) readJSON(name string, v any) error {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alerts: read %s: %w", filepath.Join(s.dir, name), err)
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
		return fmt.Errorf("alerts: write %s (state dir): %w", filepath.Join(dir, name), err)
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
		return fmt.Errorf("alerts: write %s (state dir): %w", filepath.Join(dir, name), werr)
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
	s.unsaved = append(s.unsaved, e)
	return s.flushNflog()
}

// flushNflog appends the unsaved entries, oldest first, each synced. On an error the file is cut
// back to its last complete line and the entries stay unsaved for the next write.
func (s *store) flushNflog() error {
	if len(s.unsaved) == 0 {
		return nil
	}
	path := filepath.Join(s.dir, nflogFile)
	if s.nflog == nil {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("alerts: open %s (state dir): %w", path, err)
		}
		s.nflog = f
	}
	for len(s.unsaved) > 0 {
		b, err := json.Marshal(s.unsaved[0])
		if err != nil {
			return fmt.Errorf("alerts: encode nflog: %w", err)
		}
		if s.needNL {
			b = append([]byte{'\n'}, b...)
		}
		b = append(b, '\n')
		if err := s.appendLine(b); err != nil {
			return fmt.Errorf("alerts: append %s (state dir; %d notification(s) not yet persisted): %w", path, len(s.unsaved), err)
		}
		s.needNL = false
		s.unsaved = s.unsaved[1:]
		s.appended++
	}
	s.unsaved = nil
	return nil
}

// appendLine writes and syncs one line; when that fails, the part written is cut off again.
func (s *store) appendLine(b []byte) error {
	off, err := s.nflog.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	_, err = s.nflog.Write(b)
	if err == nil {
		err = s.nflog.Sync()
	}
	if err != nil && s.nflog.Truncate(off) != nil {
		s.needNL = true
	}
	return err
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
	s.appended, s.unsaved, s.needNL = 0, nil, false
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
