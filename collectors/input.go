package collectors

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// countingReader counts bytes read into n (shared with the progress reporter).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n != nil {
		c.n.Add(int64(k))
	}
	return k, err
}

// openFile opens path for streaming: the raw file is counted into bytes (compressed size for .gz),
// .gz files are decompressed.
func openFile(path string, bytesRead *atomic.Int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader = &countingReader{r: bufio.NewReaderSize(f, 256<<10), n: bytesRead}
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{gz, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// textReader returns r as UTF-8 without a byte-order mark. If the first MiB is not valid UTF-8
// the whole stream is decoded as ISO-8859-1 (charmap); otherwise invalid bytes met later are each
// decoded as ISO-8859-1 in place, so a stray Latin-1 byte never breaks a parser.
func textReader(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 1<<20)
	peek, _ := br.Peek(1 << 20)
	if bytes.HasPrefix(peek, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		peek = peek[3:]
	}
	if !validUTF8Prefix(peek) {
		return charmap.ISO8859_1.NewDecoder().Reader(br)
	}
	return &latin1Fallback{r: br}
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing an incomplete rune at the very end.
func validUTF8Prefix(b []byte) bool {
	return utf8.Valid(b[:len(b)-incompleteTail(b)])
}

// incompleteTail returns how many bytes at the end of b start a rune that is not complete yet.
func incompleteTail(b []byte) int {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			if !utf8.FullRune(b[len(b)-i:]) {
				return i
			}
			return 0
		}
	}
	return 0
}

// latin1Fallback passes valid UTF-8 through and decodes each invalid byte as ISO-8859-1.
type latin1Fallback struct {
	r    *bufio.Reader
	out  []byte
	buf  [32 << 10]byte
	tail []byte // incomplete rune carried over
	err  error
}

func (l *latin1Fallback) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		n := copy(l.buf[:], l.tail)
		k, err := l.r.Read(l.buf[n:])
		l.err = err
		chunk := l.buf[:n+k]
		l.tail = nil
		// keep an incomplete rune at the end for the next read
		if err == nil {
			if t := incompleteTail(chunk); t > 0 {
				l.tail = append([]byte(nil), chunk[len(chunk)-t:]...)
				chunk = chunk[:len(chunk)-t]
			}
		}
		if utf8.Valid(chunk) {
			l.out = append(l.out[:0], chunk...)
		} else {
			l.out = fixUTF8(l.out[:0], chunk)
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

func fixUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			dst = appendLatin1(dst, b[:1])
			b = b[1:]
			continue
		}
		dst = append(dst, b[:size]...)
		b = b[size:]
	}
	return dst
}

func appendLatin1(dst, b []byte) []byte {
	for _, c := range b {
		dst = utf8.AppendRune(dst, charmap.ISO8859_1.DecodeByte(c))
	}
	return dst
}

// ---- CSV ------------------------------------------------------------------------------------------

// csvSource reads a CSV stream row by row, keeping each row's line number. Rows that the CSV
// reader cannot parse are returned as *csv.ParseError and reading goes on.
type csvSource struct {
	r      *csv.Reader
	keep   *lineKeeper
	name   string
	header []string
	index  map[string]int
}

func newCSV(r io.Reader, name string) *csvSource {
	keep := &lineKeeper{r: r, first: 1}
	cr := csv.NewReader(keep)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	cr.LazyQuotes = false
	return &csvSource{r: cr, keep: keep, name: name}
}

// readHeader reads the header row (skipping blank lines) and indexes it by normalised name.
func (c *csvSource) readHeader() error {
	for {
		rec, err := c.r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: empty file, no header", c.name)
			}
			return fmt.Errorf("%s: header: %w", c.name, err)
		}
		if blankRow(rec) {
			continue
		}
		c.setHeader(rec)
		return nil
	}
}

func (c *csvSource) setHeader(rec []string) {
	c.header = append([]string(nil), rec...)
	c.index = make(map[string]int, len(rec))
	for i, h := range rec {
		k := normHeader(h)
		if _, dup := c.index[k]; !dup && k != "" {
			c.index[k] = i
		}
	}
}

// next returns the next row and its line; io.EOF at the end.
func (c *csvSource) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, err
		}
		return nil, 0, err
	}
	line, _ := c.r.FieldPos(0)
	c.keep.forget(line)
	return rec, line, nil
}

// rawLines returns the source lines of a record that did not parse (at most maxRejectRaw bytes),
// or a note saying they were too long to keep, so a bad_csv reject always carries raw bytes.
func (c *csvSource) rawLines(err error) []byte {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return []byte(err.Error())
	}
	if b := c.keep.lines(pe.StartLine, max(pe.Line, pe.StartLine)); len(b) > 0 {
		return b
	}
	return fmt.Appendf(nil, "(lines %d-%d of %s: longer than %d bytes, not kept)", pe.StartLine, pe.Line, c.name, maxKeptCSV)
}

// maxKeptCSV bounds the bytes lineKeeper holds.
const maxKeptCSV = 1 << 20

// lineKeeper passes a CSV stream through and keeps its bytes from the line of the record being
// read (at most about 2*maxKeptCSV bytes), for the raw bytes of a record that does not parse. Its
// line numbers count '\n' as encoding/csv does.
type lineKeeper struct {
	r     io.Reader
	buf   []byte
	first int  // line number of buf[0]
	cut   bool // buf[0] is not the start of line first (a line longer than maxKeptCSV)
}

func (k *lineKeeper) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	k.buf = append(k.buf, p[:n]...)
	if len(k.buf) > 2*maxKeptCSV {
		from := len(k.buf) - maxKeptCSV
		if nl := bytes.IndexByte(k.buf[from:], '\n'); nl >= 0 {
			k.drop(from + nl + 1)
		} else {
			k.drop(from)
			k.cut = true
		}
	}
	return n, err
}

// drop removes the first n bytes of buf, counting the lines they end.
func (k *lineKeeper) drop(n int) {
	nl := bytes.Count(k.buf[:n], []byte{'\n'})
	k.first += nl
	if nl > 0 {
		k.cut = false
	}
	k.buf = append(k.buf[:0], k.buf[n:]...)
}

// forget drops the lines before line.
func (k *lineKeeper) forget(line int) {
	for k.first < line {
		nl := bytes.IndexByte(k.buf, '\n')
		if nl < 0 {
			return
		}
		k.drop(nl + 1)
	}
}

// lines returns lines from..to (without the final line end), at most maxRejectRaw bytes; nil when
// line from is no longer (or not wholly) kept.
func (k *lineKeeper) lines(from, to int) []byte {
	if from < k.first || (from == k.first && k.cut) {
		return nil
	}
	b := k.buf
	for l := k.first; l < from; l++ {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return nil
		}
		b = b[nl+1:]
	}
	end := 0
	for l := from; l <= to && end < len(b); l++ {
		nl := bytes.IndexByte(b[end:], '\n')
		if nl < 0 {
			end = len(b)
			break
		}
		end += nl + 1
	}
	out := bytes.TrimRight(b[:min(end, maxRejectRaw)], "\r\n")
	return append([]byte(nil), out...)
}

func (c *csvSource) loc(line int) string { return fmt.Sprintf("%s:%d", c.name, line) }

// each streams the data rows after the header: a line that does not parse goes to bad with its
// location; blank rows are passed over; every other row goes to fn with its location. It stops at
// the end of the stream or at the first error bad or fn returns.
func (c *csvSource) each(bad func(loc, detail string, raw []byte) error, fn func(rec []string, loc string) error) error {
	for {
		rec, line, err := c.next()
		if err == io.EOF {
			return nil
		}
		loc := c.loc(line)
		if err != nil {
			if err := bad(loc, err.Error(), c.rawLines(err)); err != nil {
				return err
			}
			continue
		}
		if blankRow(rec) {
			continue
		}
		if err := fn(rec, loc); err != nil {
			return err
		}
	}
}

// col returns the index of the first of names present in the header, or -1.
func (c *csvSource) col(names ...string) int {
	for _, n := range names {
		if i, ok := c.index[n]; ok {
			return i
		}
	}
	return -1
}

// get returns field i of rec, trimmed; "" if i < 0 or out of range.
func get(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(rec[i], "\u00a0", " "))
}

func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// csvLine re-encodes a row as one CSV line (the raw bytes of a reject).
func csvLine(rec []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(rec)
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\n")
}

var headerSep = regexp.MustCompile(`[\s\-./()\[\]]+`)

// normHeader lower-cases a header, drops a BOM and turns spaces, dashes, dots and slashes into "_".
func normHeader(h string) string {
	h = strings.TrimPrefix(h, "\ufeff")
	h = strings.ToLower(strings.TrimSpace(h))
	h = headerSep.ReplaceAllString(h, "_")
	return strings.Trim(h, "_")
}

// ---- values ---------------------------------------------------------------------------------------

var thousandsRe = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$`)

// parseNumber parses a decimal number with optional thousands separators ("1,234.5"), surrounding
// spaces and a leading "+".
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", ""))
	if thousandsRe.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	s = strings.ReplaceAll(s, " ", "")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}

// optNumber parses s, returning nil for "" and the usual not-available markers.
func optNumber(s string) (*float64, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "NA", "N/A", "NULL", "NAN", "NONE", "-", "--":
		return nil, nil
	}
	f, err := parseNumber(s)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// parseBool accepts true/false, yes/no, y/n, 1/0, x, 是/否, and "" (false).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "no", "n", "0", "f", "否", "无":
		return false, nil
	case "true", "yes", "y", "1", "t", "x", "是", "有", "✓":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false, yes/no, 1/0)", s)
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z0700",
	"2006-01-02", "2006/01/02", "20060102", "02.01.2006"}

// parseTime parses an RFC 3339 timestamp or a date (UTC).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
}

// splitList splits a tags / list cell on ; | 、 ， or , and trims the parts.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == '|' || r == '、' || r == '，' || r == ','
	})
	out := f[:0]
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
