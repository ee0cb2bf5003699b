package chstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// TestClusterSettingsCheckIntegration: the local single server keeps ClickHouse's default
// distributed_product_mode (deny), which cluster mode refuses with an error naming the setting; the
// local cluster (cluster.sh) sets it to global in its users profile and passes.
func TestClusterSettingsCheckIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	err := chstore.CheckClusterSettings(context.Background(), conn)
	if err == nil || !strings.Contains(err.Error(), `distributed_product_mode is "deny"`) {
		t.Errorf("single server with the default profile: %v, want the deny error", err)
	}
	cl := testenv.RequireCluster(t)
	for _, addr := range cl.ClickHouse {
		c := testenv.ClickHouseConfig(t)
		c.Addr, c.Database, c.CreateDB = []string{addr}, "default", false
		cc, err := chstore.Open(context.Background(), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := chstore.CheckClusterSettings(context.Background(), cc); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
		cc.Close()
	}
}
