package schemas

// Hooks for the external tests of the fast decoder (fastjson_test.go).
var (
	DecodeReflective   = func(v []byte, k Kind) (Envelope, Record, error) { return decode(v, k, false) }
	DecodeEnvelopeFast = decodeEnvelopeFast
	DecodePayloadFast  = decodePayloadFast
	FastFieldKeys      = func(k Kind) map[string]bool {
		out := map[string]bool{}
		for key := range fastFields[k] {
			out[key] = true
		}
		return out
	}
)
