package schemas

// Hooks for the external tests of the fast decoder (fastjson_test.go).
var (
	DecodeReflective   = func(v []byte, k Kind) (Envelope, Record, error) { return decode(v, k, false, false) }
	DecodeEnvelopeFast = decodeEnvelopeFast
	DecodePayloadFast  = decodePayloadFast
	// FastFieldKeys lists the keys of kind's fast setters, in their order.
	FastFieldKeys = func(k Kind) []string {
		var out []string
		for _, f := range fastFields[k].fields {
			out = append(out, f.name)
		}
		return out
	}
	// FastFieldsNew is an empty record from kind's fast setters' fieldSet.
	FastFieldsNew = func(k Kind) Record { return fastFields[k].new() }
)
