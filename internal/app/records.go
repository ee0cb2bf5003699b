package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/schemas"
)

// deadLetterArg names the dead-letter topic among the kinds `records` takes.
const deadLetterArg = "deadletter"

// recordsUsage is the help text of `chainwatch records`.
func recordsUsage() string {
	var kinds []string
	for _, k := range schemas.Kinds() {
		kinds = append(kinds, string(k))
	}
	return `usage: chainwatch records [--tail N] [--max N] [--follow] [kind ...]

Prints the events on chainwatch's Kafka topics as JSON Lines, whatever their encoding (protobuf
packs, JSON Lines packs, JSON): one line per event, with its topic, partition, offset and place in
the record ("event", from 1 in a pack; 0 for a record of one JSON envelope), its format and its
envelope, the payload as JSON, as kafka.encoding json would write it. An event the sink would reject
is printed with the sink's reason, the error and its bytes (base64 "raw"); a dead-letter record as
"rejected". Reads without a consumer group: nothing is committed. Counts go to the log (stderr).

kinds: ` + strings.Join(kinds, ", ") + `, ` + deadLetterArg + ` (default: all of them)

flags:
  --tail N    start N records before the end of each partition (default: at its first record)
  --max N     stop after N lines
  --follow    keep printing new records until interrupted (otherwise stop at the ends found)`
}

// recordLine is one line of `chainwatch records`.
type recordLine struct {
	Topic     string            `json:"topic"`
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Event     int               `json:"event"`
	Format    string            `json:"format"`
	Envelope  *schemas.Envelope `json:"envelope,omitempty"`
	Rejected  *schemas.Rejected `json:"rejected,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Error     string            `json:"error,omitempty"`
	Raw       []byte            `json:"raw,omitempty"`
}

var errEnough = errors.New("records: --max reached")

func cmdRecords(ctx context.Context, in Invocation) error {
	fs := flag.NewFlagSet("records", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tail := fs.Int64("tail", 0, "")
	maxLines := fs.Int64("max", 0, "")
	follow := fs.Bool("follow", false, "")
	if err := fs.Parse(in.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := fmt.Fprintln(in.Stdout, recordsUsage())
			return err
		}
		return fmt.Errorf("records: %w\n%s", err, recordsUsage())
	}
	if *tail < 0 || *maxLines < 0 {
		return fmt.Errorf("records: --tail and --max must not be negative\n%s", recordsUsage())
	}
	prefix := in.Config.Kafka.TopicPrefix
	kinds := bus.TopicKinds(prefix)
	topics := append(bus.KindTopics(prefix), schemas.DeadLetterTopic(prefix))
	if fs.NArg() > 0 {
		topics = nil
		for _, a := range fs.Args() {
			t := schemas.DeadLetterTopic(prefix)
			if a != deadLetterArg {
				if _, ok := schemas.Lookup(schemas.Kind(a)); !ok {
					return fmt.Errorf("records: unknown kind %q\n%s", a, recordsUsage())
				}
				t = schemas.Kind(a).Topic(prefix)
			}
			if !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
	}
	enc := json.NewEncoder(in.Stdout)
	enc.SetEscapeHTML(false)
	var records, lines, bad int64
	emit := func(l *recordLine) error {
		if l.Reason != "" {
			bad++
		}
		lines++
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		if *maxLines > 0 && lines >= *maxLines {
			return errEnough
		}
		return nil
	}
	err := bus.Read(ctx, in.Config.Kafka, topics, bus.ReadOptions{Tail: *tail, Follow: *follow}, func(m kafka.Message) error {
		records++
		return recordLines(m, kinds[m.Topic], emit)
	})
	in.Log.Info("records read", "topics", len(topics), "records", records, "lines", lines, "not_stored", bad)
	if errors.Is(err, errEnough) || ctx.Err() != nil { // --max reached, or interrupted
		return nil
	}
	return err
}

// recordLines calls emit with the lines of one record: its events, or the dead-letter record
// (kind "").
func recordLines(m kafka.Message, kind schemas.Kind, emit func(*recordLine) error) error {
	l := recordLine{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	if kind == "" {
		l.Format = "json"
		r, err := schemas.DecodeDeadLetter(m.Value)
		if err != nil {
			l.Reason, l.Error, l.Raw = "bad_deadletter", err.Error(), m.Value
		} else {
			l.Rejected = &r
		}
		return emit(&l)
	}
	switch bus.RecordFormat(m.Headers) {
	case bus.FormatProtoPack:
		l.Format = "protobuf"
	case bus.FormatJSONLines:
		l.Format = "json_lines"
	default:
		l.Format = "json"
	}
	for e := range bus.RecordEvents(m, kind) {
		l.Event, l.Envelope, l.Reason, l.Error, l.Raw = e.N, nil, "", "", nil
		if e.Err != nil {
			l.Reason, l.Error, l.Raw = "invalid", e.Err.Error(), e.Raw
			var de *schemas.DecodeError
			if errors.As(e.Err, &de) {
				l.Reason, l.Error = de.Reason, de.Err.Error()
			}
		} else {
			env := e.Envelope
			p, err := json.Marshal(e.Record)
			if err != nil {
				return fmt.Errorf("records: %s/%d/%d: payload: %w", m.Topic, m.Partition, m.Offset, err)
			}
			env.Payload = p
			l.Envelope = &env
		}
		if err := emit(&l); err != nil {
			return err
		}
	}
	return nil
}
