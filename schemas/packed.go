package schemas

import (
	"bytes"
	"iter"
	"strconv"
)

// A packed Kafka record carries several envelopes of one kind topic: its value is JSON Lines (one
// compact envelope per line, "\n" between them) and its header ContentTypeHeader is
// PackedContentType. A record without that header carries one envelope, as JSON. The sink reads
// both; chainwatch's producer packs up to kafka.events_per_record envelopes per record, so the
// per-record costs of Kafka (the broker's, the consumer's) are paid once per pack, not per event.
const (
	ContentTypeHeader = "content-type"
	PackedContentType = "application/x-ndjson"
)

// PackedLines yields the envelopes of a packed record's value, numbered from 1 by their line in
// the value. Lines of only white space (a trailing newline, a "\r\n" line end's blank rest) hold
// no event and are skipped; every other line is yielded, whatever it holds, for the decoder to
// accept or reject. The yielded slices share value's memory.
func PackedLines(value []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		line := 0
		for len(value) > 0 {
			line++
			var l []byte
			if i := bytes.IndexByte(value, '\n'); i >= 0 {
				l, value = value[:i], value[i+1:]
			} else {
				l, value = value, nil
			}
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			if !yield(line, l) {
				return
			}
		}
	}
}

// PackedRejectID is the reject id of the event on line of a packed record that failed in the sink:
// SinkRejectID's "topic/partition/offset" and "/line", so each rejected event of a pack is a row
// of its own.
func PackedRejectID(topic string, partition int32, offset int64, line int) string {
	return SinkRejectID(topic, partition, offset) + "/" + strconv.Itoa(line)
}
