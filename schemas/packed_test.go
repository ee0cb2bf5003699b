package schemas_test

import (
	"fmt"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestPackedLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "[]"},
		{"\n", "[]"},
		{"a", "[1:a]"},
		{"a\n", "[1:a]"},
		{"a\nb", "[1:a 2:b]"},
		{"a\r\nb\r\n", "[1:a\r 2:b\r]"}, // the decoder takes the "\r" as JSON white space
		{"a\n\n \t\nb\n\n", "[1:a 4:b]"},
		{"{\"x\":\"\\n\"}\nc", "[1:{\"x\":\"\\n\"} 2:c]"}, // an escaped newline is no line end
	} {
		var got []string
		for line, v := range schemas.PackedLines([]byte(tc.in)) {
			got = append(got, fmt.Sprintf("%d:%s", line, v))
		}
		if s := fmt.Sprint(got); s != tc.want && !(len(got) == 0 && tc.want == "[]") {
			t.Errorf("PackedLines(%q) = %q, want %q", tc.in, s, tc.want)
		}
	}
	if got := schemas.PackedRejectID("t.trade.v1", 2, 40, 7); got != "t.trade.v1/2/40/7" {
		t.Errorf("PackedRejectID = %q", got)
	}
}
