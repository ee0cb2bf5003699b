package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Rejection stages.
const (
	StageCollect = "collect" // a collector could not turn a source record into a valid event
	StageSink    = "sink"    // the sink could not decode or validate a Kafka record
)

// Rejected is a record that did not become an event: it goes to the dead-letter topic as JSON and
// from there into the ClickHouse `rejected` table. Nothing is dropped: in = stored + rejected.
//
// RejectID is stable for the same input, so a redelivered reject collapses in ClickHouse:
// for the sink it is "topic/partition/offset" of the original record; for a collector it is a hash
// of source, location and raw bytes (see CollectRejectID).
type Rejected struct {
	RejectID   string    `json:"reject_id"`
	Stage      string    `json:"stage"`
	Source     string    `json:"source"`
	Kind       Kind      `json:"kind,omitempty"`
	Topic      string    `json:"topic,omitempty"`
	Partition  int32     `json:"partition,omitempty"`
	Offset     int64     `json:"offset,omitempty"`
	Location   string    `json:"location,omitempty"` // file:line, URL, ...
	Key        string    `json:"key,omitempty"`
	Reason     string    `json:"reason"` // short class, e.g. "invalid", "bad_json", "unknown_lifecycle"
	Detail     string    `json:"detail"` // the full error, naming the field
	Raw        []byte    `json:"raw"`
	ReceivedAt time.Time `json:"received_at"`
}

// DecodeDeadLetter reads a dead-letter record's value: a Rejected in JSON with its reject id and
// reason. Any other value is an error, the sink's "bad_deadletter" detail.
func DecodeDeadLetter(value []byte) (Rejected, error) {
	var r Rejected
	if err := json.Unmarshal(value, &r); err != nil {
		return r, err
	}
	if r.RejectID == "" || r.Reason == "" {
		return r, errors.New("dead-letter record without reject_id or reason")
	}
	return r, nil
}

// SinkRejectID is the reject id of a Kafka record that failed in the sink.
func SinkRejectID(topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d/%d", topic, partition, offset)
}

// CollectRejectID is the reject id of a source record a collector rejected.
func CollectRejectID(source, location string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0x1f})
	h.Write([]byte(location))
	h.Write([]byte{0x1f})
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// RejectedTable and RejectedColumns describe the ClickHouse `rejected` table.
const RejectedTable = "rejected"

var RejectedColumns = []string{"reject_id", "received_at", "stage", "source", "kind", "topic", "partition",
	"offset", "location", "record_key", "reason", "detail", "raw"}

// RejectedInsertSQL is the PrepareBatch statement for the rejected table.
func RejectedInsertSQL() string {
	return "INSERT INTO " + RejectedTable + " (" + joinCols(RejectedColumns) + ")"
}

// AppendValues appends the row in RejectedColumns order.
func (r *Rejected) AppendValues(dst []any) []any {
	return append(dst, r.RejectID, r.ReceivedAt.UTC(), r.Stage, r.Source, string(r.Kind), r.Topic, r.Partition,
		r.Offset, r.Location, r.Key, r.Reason, r.Detail, string(r.Raw))
}
