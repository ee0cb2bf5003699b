package confkit

import "testing"

func TestHostPorts(t *testing.T) {
	var p Problems
	p.HostPorts("brokers", nil, "broker")
	p.HostPorts("addr", []string{"a:1", "no-port", "[::1]:9000"}, "address")
	p.HostPort("listen", "x")
	want := []string{
		"brokers: at least one broker is required",
		`addr[1]: "no-port" is not host:port`,
		`listen: "x" is not host:port`,
	}
	if len(p) != len(want) {
		t.Fatalf("got %d problems: %v", len(p), p.Err())
	}
	for i, w := range want {
		if p[i].Error() != w {
			t.Errorf("problem %d: got %q, want %q", i, p[i].Error(), w)
		}
	}
	if err := Prefix("kafka", p.Err()); err == nil || err.Error()[:len("kafka.brokers:")] != "kafka.brokers:" {
		t.Errorf("prefixed: %v", err)
	}
}
