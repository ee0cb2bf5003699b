package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/internal/config"
)

// TestWhatIfCommand runs the demo scenario file through the command (data from files, no servers).
func TestWhatIfCommand(t *testing.T) {
	var out bytes.Buffer
	in := Invocation{Args: []string{"--stress", "--tiers", "../../deploy/demo/whatif-gallium-chn.yaml"}, Config: config.Default(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: &out}
	if err := Command(context.Background(), "whatif", in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 product(s) of 2 enterprise(s) stop", "E-NEV       yes  P-EV-DRIVE", "E-SEMI      yes  P-ETCHER",
		"B计划: hold ≥", "reverse stress test", "supplier S-WOLFSPEED down",
		"E-NEV       P-EV-DRIVE     C-GAN-HEMT     S-WOLFSPEED (supplier)", "supplier    S-AMD"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	in.Args = []string{"--format", "json", "../../deploy/demo/whatif-gallium-chn.yaml"}
	if err := Command(context.Background(), "whatif", in); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Stops []struct {
			Enterprise string `json:"enterprise_id"`
		} `json:"stops"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Stops) != 2 {
		t.Fatalf("json: %v %s", err, out.String())
	}
	in.Args = []string{"nope.yaml"}
	if err := Command(context.Background(), "whatif", in); err == nil {
		t.Error("missing file: no error")
	}
}
