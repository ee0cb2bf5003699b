package collectorstest

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WriteSyntheticOCDS writes an OCDS 1.1 release package with n releases to w, streaming (it holds
// one release at a time). Release i has ocid "ocds-synth-<i>", two parties (buyer and supplier,
// the supplier's country cycling through a few names), one award with a value in CNY and two items
// with CPV classifications, plus a tender with a description, so a release is about 1.3 KB.
// Every release yields exactly one ProcurementAward.
func WriteSyntheticOCDS(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	countries := []string{"China", "Germany", "Japan", "United States", "Korea, Republic of", "Netherlands"}
	cpv := []string{"31711000", "32500000", "30200000", "38000000", "42000000", "34000000"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := fmt.Fprintf(bw, `{"uri":"https://example.invalid/synthetic","version":"1.1","publishedDate":"%s",`+
		`"publisher":{"name":"chainwatch synthetic generator"},"releases":[`, base.Format(time.RFC3339)); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		d := base.Add(time.Duration(i%(365*24)) * time.Hour).Format(time.RFC3339)
		c := countries[i%len(countries)]
		_, err := fmt.Fprintf(bw, `{"ocid":"ocds-synth-%d","id":"ocds-synth-%d-award","date":"%s","tag":["award"],`+
			`"initiationType":"tender","parties":[{"id":"BUYER-%d","name":"Synthetic buyer %d","roles":["buyer"],`+
			`"address":{"countryName":"China","locality":"Shenzhen"}},{"id":"SUP-%d","name":"Synthetic supplier %d",`+
			`"roles":["supplier","tenderer"],"address":{"streetAddress":"%d Example Road","countryName":"%s"}}],`+
			`"buyer":{"id":"BUYER-%d","name":"Synthetic buyer %d"},"tender":{"id":"T-%d","title":"Components lot %d",`+
			`"description":"Supply of electronic components, semiconductors and assemblies for production line %d",`+
			`"status":"complete","value":{"amount":%d,"currency":"CNY"}},"awards":[{"id":"A-%d","status":"active",`+
			`"date":"%s","value":{"amount":%d.5,"currency":"CNY"},"suppliers":[{"id":"SUP-%d","name":"Synthetic supplier %d"}],`+
			`"items":[{"id":"1","description":"Integrated circuits","quantity":%d,"classification":{"scheme":"CPV","id":"%s",`+
			`"description":"Electronic components"}},{"id":"2","description":"Printed circuit assemblies","quantity":%d,`+
			`"classification":{"scheme":"CPV","id":"%s","description":"Assemblies"}}]}]}`,
			i, i, d, i%997, i%997, i%5003, i%5003, i, c, i%997, i%997, i, i, i%100,
			100000+i%900000, i, d, 50000+i%400000, i%5003, i%5003, 1+i%1000, cpv[i%len(cpv)], 1+i%50, cpv[(i+1)%len(cpv)])
		if err != nil {
			return err
		}
	}
	if _, err := bw.WriteString("]}\n"); err != nil {
		return err
	}
	return bw.Flush()
}
