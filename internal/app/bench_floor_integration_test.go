package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// sinkFloor is what a sink that decodes nothing costs: the records read through the sink's
// kafka-go reader, each record's rows (decoded and checked beforehand, untimed) appended to the
// columns, and the columns sent through the sink's own insert path (chstore.InsertStreams: blocks of
// sink.batch_rows events, INSERTs of sink.insert_rows, the offsets committed as each ends). What is
// left out is everything the daemon does per event between those two libraries: the decoding, the
// checks (the event id's sha256, UTF-8, the envelope and payload rules), the dead letters and
// the metrics; and, while timed, the garbage collector (off: the floor's process holds every
// decoded event, a heap the sink does not have). Its rate against the ceiling is about what a sink
// on kafka-go and clickhouse-go reaches on this machine at best.
type sinkFloor struct {
	Records          int64   `json:"records"`
	Events           int64   `json:"events"`
	Rows             int64   `json:"rows"`
	Seconds          float64 `json:"seconds"`
	CPUSeconds       float64 `json:"cpu_s"`
	ServerCPUSeconds float64 `json:"server_cpu_s"` // -1: no local server
	BrokerCPUSeconds float64 `json:"broker_cpu_s"` // -1: no local broker
	Inserts          int     `json:"inserts"`

	rate, cpuMicros, serverMicros, brokerMicros float64
}

// benchSinkFloor runs the floor in a child process (TestBenchFloorChild) into a database of its
// own, and checks that it stored every event.
func benchSinkFloor(t *testing.T, kcfg bus.Config, db string, n int, records int64) sinkFloor {
	t.Helper()
	floorDB := db + "_floor"
	t.Cleanup(func() { // the child creates it
		leftovers.db(floorDB, func() { _ = clickhouseClient("", "DROP DATABASE IF EXISTS "+floorDB).Run() })
	})
	var f sinkFloor
	benchChild(t, "TestBenchFloorChild", "BENCHFLOOR", &f, "CHAINWATCH_BENCH_FLOOR_PREFIX="+kcfg.TopicPrefix,
		"CHAINWATCH_BENCH_FLOOR_BROKERS="+strings.Join(kcfg.Brokers, ","),
		"CHAINWATCH_BENCH_FLOOR_RECORDS="+strconv.FormatInt(records, 10),
		"CHAINWATCH_BENCH_FLOOR_DB="+floorDB)
	if f.Records != records || f.Events != int64(n) || f.Rows != int64(n) {
		t.Fatalf("sink floor: %d records, %d events, %d rows; want %d records and %d events", f.Records, f.Events, f.Rows, records, n)
	}
	f.rate = float64(f.Rows) / f.Seconds
	f.cpuMicros = microsEach(f.CPUSeconds, f.Rows)
	f.serverMicros = microsEach(f.ServerCPUSeconds, f.Rows)
	f.brokerMicros = microsEach(f.BrokerCPUSeconds, f.Rows)
	return f
}

// microsEach is seconds spread over n, in µs each; 0 for a CPU time that could not be read (-1).
func microsEach(seconds float64, n int64) float64 {
	if seconds < 0 || n == 0 {
		return 0
	}
	return seconds / float64(n) * 1e6
}

// TestBenchFloorChild is benchSinkFloor's sink, in its own process (started by the bench).
func TestBenchFloorChild(t *testing.T) {
	kcfg, want := benchChildKafka(t, "CHAINWATCH_BENCH_FLOOR")
	prefix := kcfg.TopicPrefix
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kinds := bus.TopicKinds(prefix)

	// Untimed: every record's events, decoded and checked as the sink does.
	type pre struct {
		kind schemas.Kind
		env  schemas.Envelope
		rec  schemas.Record
	}
	type at struct {
		topic     string
		partition int
		offset    int64
	}
	decoded := map[at][]pre{}
	if err := bus.Read(ctx, kcfg, bus.KindTopics(prefix), bus.ReadOptions{}, func(m kafka.Message) error {
		k := kinds[m.Topic]
		var evs []pre
		for e := range bus.RecordEvents(m, k) {
			if e.Err != nil {
				return fmt.Errorf("%s/%d/%d event %d: %w", m.Topic, m.Partition, m.Offset, e.N, e.Err)
			}
			evs = append(evs, pre{k, e.Envelope, e.Record})
		}
		decoded[at{m.Topic, m.Partition, m.Offset}] = evs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if int64(len(decoded)) != want {
		t.Fatalf("read %d records before the floor, want %d", len(decoded), want)
	}

	ch := testenv.ClickHouseConfig(t)
	ch.Database = os.Getenv("CHAINWATCH_BENCH_FLOOR_DB")
	ch.MaxOpenConns = sinkPoolSize(1) // the daemon's sink pool, one worker (sink.DefaultConfig)
	conn, err := chstore.Open(ctx, ch, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := chstore.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	sc := sink.DefaultConfig()
	kcfg.GroupID = "bench-floor-" + testenv.Suffix()
	r := sink.NewReader(kcfg, sc, bus.KindTopics(prefix), nil)
	defer r.Close()
	streams := chstore.NewInsertStreams(conn)
	cols := map[schemas.Kind]*schemas.Columns{}
	for _, k := range kinds {
		spec, _ := schemas.Lookup(k)
		cols[k] = schemas.NewColumns(len(schemas.EnvelopeColumns) + len(spec.Columns))
	}
	var res sinkFloor
	var batch, open int
	var uncommitted []kafka.Message
	send := func() {
		for k, c := range cols {
			if c.Len() == 0 {
				continue
			}
			spec, _ := schemas.Lookup(k)
			if err := streams.Write(ctx, spec.InsertSQL(), c); err != nil {
				t.Fatal(err)
			}
			c.Reset()
		}
		open += batch
		batch = 0
	}
	// A full INSERT group ends beside the next one, as the sink's does (InsertStreams.Detach),
	// and its records are committed when it has ended.
	var ending sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	end := func() {
		finish, msgs := streams.Detach(), slices.Clone(uncommitted)
		uncommitted, open = uncommitted[:0], 0
		ending.Go(func() {
			stored, err := finish()
			if err == nil {
				err = r.CommitMessages(ctx, msgs...)
			}
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
			res.Inserts += len(stored)
			for _, n := range stored {
				res.Rows += int64(n)
			}
		})
	}
	srv, self := localServerPID(t), os.Getpid()
	bpid, _ := brokerProc()
	var start time.Time
	var cpu0, srv0, brk0 float64
	// No garbage collection while timed: the decoded events held for the floor are a heap the
	// sink does not have, and marking it again and again is no cost of the sink's; without it
	// the floor is the more of a lower bound.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for res.Records < want {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", res.Records, want, err)
		}
		if res.Records == 0 { // from the first record: the group's join is not reading
			start, cpu0, srv0, brk0 = time.Now(), procCPUSeconds(self), procCPUSeconds(srv), procCPUSeconds(bpid)
		}
		res.Records++
		evs, ok := decoded[at{m.Topic, m.Partition, m.Offset}]
		if !ok {
			t.Fatalf("record %s/%d/%d was not read before", m.Topic, m.Partition, m.Offset)
		}
		for i := range evs {
			if err := cols[evs[i].kind].AppendRecord(&evs[i].env, evs[i].rec); err != nil {
				t.Fatal(err)
			}
		}
		res.Events += int64(len(evs))
		batch += len(evs)
		uncommitted = append(uncommitted, m)
		if batch >= sc.BatchRows {
			send()
			if open >= sc.InsertRows {
				end()
			}
		}
	}
	send()
	end()
	ending.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = procCPUSeconds(self) - cpu0
	res.ServerCPUSeconds, res.BrokerCPUSeconds = -1, -1
	if srv > 0 {
		res.ServerCPUSeconds = procCPUSeconds(srv) - srv0
	}
	if bpid > 0 {
		res.BrokerCPUSeconds = procCPUSeconds(bpid) - brk0
	}
	b, _ := json.Marshal(res)
	fmt.Printf("BENCHFLOOR %s\n", b)
}
