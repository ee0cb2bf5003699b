package alerts

import (
	"slices"
	"time"
)

// notificationLog is what was last sent to each (group, integration) and which of those have a
// notification in flight (Alertmanager's nflog). The dedup stage reads it before a notification
// is queued; the set-notifies stage writes it after a successful send, so a restart never
// re-sends what was delivered. The Manager's mutex guards it; the store persists it.
type notificationLog struct {
	nflog    map[nflogKey]*nflogEntry
	inflight map[nflogKey]bool
}

// owedFingerprints returns every alert some integration last saw firing: its resolution may
// still be owed, so the alert is kept until it is sent.
func (l *notificationLog) owedFingerprints() map[string]bool {
	owed := map[string]bool{}
	for _, e := range l.nflog {
		for fp := range e.Firing {
			owed[fp] = true
		}
	}
	return owed
}

// dedup is the dedup stage for one integration of a group: it returns the resolved alerts whose
// resolution this integration is owed, and whether a notification is needed at all — a firing
// alert it has not seen or has seen at a lower severity, a firing alert with an alternate it was
// not notified with (a B计划 email sent before the substitution list landed is followed by one that
// names the alternates), a resolution owed, or repeat elapsed since the last send of a still-firing
// group. A group with a notification in flight waits.
func (l *notificationLog) dedup(k nflogKey, firing map[string]Severity, alternates map[string][]string, resolved []*Alert,
	sendResolved bool, now time.Time, repeat time.Duration) (owed []*Alert, needed bool) {
	if l.inflight[k] {
		return nil, false
	}
	e := l.nflog[k]
	if e != nil && sendResolved {
		for _, a := range resolved {
			if _, was := e.Firing[a.Fingerprint]; was {
				owed = append(owed, a)
			}
		}
	}
	if len(owed) > 0 {
		return owed, true
	}
	if len(firing) == 0 {
		return nil, false
	}
	if e == nil || now.Sub(e.SentAt) >= repeat {
		return owed, true
	}
	for fp, sev := range firing {
		if prev, ok := e.Firing[fp]; !ok || sev > prev {
			return owed, true
		}
	}
	return owed, newAlternates(e, alternates)
}

// newAlternates reports whether a firing alert has an alternate that the integration's
// notifications have not named since the alert started firing (the entry keeps them all, see
// record). Fewer alternates, the same ones ranked anew, or one named before coming back are no
// news. An entry from a log written before alternates were logged (Alternates nil) has no record to
// compare with: false.
func newAlternates(e *nflogEntry, alternates map[string][]string) bool {
	if e.Alternates == nil {
		return false
	}
	for fp, keys := range alternates {
		sent := e.Alternates[fp]
		for _, k := range keys {
			if !slices.Contains(sent, k) {
				return true
			}
		}
	}
	return false
}

// mergeKeys is the sorted union of two sorted key lists.
func mergeKeys(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// alternateKeys names an alert's alternates ("supplier|component"), sorted, for the notification log.
func alternateKeys(a *Alert) []string {
	if len(a.Alternates) == 0 {
		return nil
	}
	keys := make([]string, len(a.Alternates))
	for i, alt := range a.Alternates {
		keys[i] = alt.SupplierID + "|" + alt.ComponentID
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// record is the set-notifies stage: the entry replaces the group's previous one and is
// appended to the store (compacted now and then). The in-flight mark is cleared either way.
func (l *notificationLog) record(e *nflogEntry, st *store) (appendErr, compactErr error) {
	k := e.key()
	if prev := l.nflog[k]; prev != nil && len(prev.Alternates) > 0 { // keep what was named while still firing
		merged := make(map[string][]string, len(e.Alternates))
		for fp := range e.Firing {
			if keys := mergeKeys(e.Alternates[fp], prev.Alternates[fp]); len(keys) > 0 {
				merged[fp] = keys
			}
		}
		e.Alternates = merged
	}
	delete(l.inflight, k)
	l.nflog[k] = e
	appendErr = st.appendNflog(e)
	if st.appended > 1000+4*len(l.nflog) {
		compactErr = st.compactNflog(l.nflog)
	}
	return appendErr, compactErr
}
