package confkit

import (
	"fmt"
	"net"
)

// HostPort records a problem unless val is host:port.
func (p *Problems) HostPort(key, val string) {
	if _, _, err := net.SplitHostPort(val); err != nil {
		p.Add(key, "%q is not host:port", val)
	}
}

// HostPorts records "at least one <what> is required" for an empty list and a problem for each
// element (key[i]) that is not host:port.
func (p *Problems) HostPorts(key string, vals []string, what string) {
	if len(vals) == 0 {
		p.Add(key, "at least one %s is required", what)
	}
	for i, v := range vals {
		p.HostPort(fmt.Sprintf("%s[%d]", key, i), v)
	}
}
