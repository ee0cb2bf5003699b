package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Cluster is the distributed cluster of deploy/local/cluster.sh (3 Kafka brokers, ZooKeeper,
// 2 ClickHouse shards x 2 replicas).
type Cluster struct {
	Kafka      []string // broker addresses
	ClickHouse []string // native addresses, shard 1 replica 1, shard 1 replica 2, shard 2 ...
	Name       string   // remote_servers cluster name
	Script     string   // path of cluster.sh
}

// Nodes of cluster.sh, for KillNode and StartNode.
var (
	ClusterKafkaNodes      = []string{"kafka-1", "kafka-2", "kafka-3"}
	ClusterClickHouseNodes = []string{"ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"}
)

// RequireCluster returns the cluster, or skips the test: under -short, and unless CHAINWATCH_CLUSTER=1
// or every cluster node already answers on its port. With CHAINWATCH_CLUSTER=1 it runs
// `cluster.sh up` (idempotent) and fails the test if the cluster cannot start.
func RequireCluster(t testing.TB) Cluster {
	t.Helper()
	Integration(t)
	c := Cluster{
		Kafka:      []string{"127.0.0.1:29091", "127.0.0.1:29092", "127.0.0.1:29093"},
		ClickHouse: []string{"127.0.0.1:29001", "127.0.0.1:29002", "127.0.0.1:29003", "127.0.0.1:29004"},
		Name:       "chainwatch",
		Script:     clusterScript(),
	}
	if os.Getenv("CHAINWATCH_CLUSTER") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, c.Script, "up").CombinedOutput()
		if err != nil {
			t.Fatalf("cluster.sh up: %v\n%s", err, out)
		}
		return c
	}
	for _, a := range append(append([]string(nil), c.Kafka...), c.ClickHouse...) {
		if !reachable(a) {
			t.Skipf("cluster test: the cluster is not up (%s unreachable); run deploy/local/cluster.sh up or set CHAINWATCH_CLUSTER=1", a)
		}
	}
	return c
}

// KillNode SIGKILLs one node of the cluster (cluster.sh kill-node).
func (c Cluster) KillNode(t testing.TB, node string) { c.run(t, "kill-node", node) }

// StartNode starts one node again and waits until it answers (cluster.sh start-node).
func (c Cluster) StartNode(t testing.TB, node string) { c.run(t, "start-node", node) }

func (c Cluster) run(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.Script, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("cluster.sh %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
}

func clusterScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", "cluster.sh")
}

func reachable(addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
