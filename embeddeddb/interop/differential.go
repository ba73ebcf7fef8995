package interop

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// uuidNamer replaces UUIDs by their order of first appearance, so that two
// servers' transcripts compare equal when they created rows in the same
// order. The all-zero UUID, which means "none" on the wire, is kept.
type uuidNamer map[string]string

const zeroUUID = "00000000-0000-0000-0000-000000000000"

func (n uuidNamer) rename(s string) string {
	return uuidRE.ReplaceAllStringFunc(s, func(u string) string {
		name, ok := n[u]
		if u == zeroUUID {
			return u
		}
		if !ok {
			name = fmt.Sprintf("<uuid%d>", len(n)+1)
			n[u] = name
		}
		return name
	})
}

// transcript runs every step of sc with c and returns one normalised block
// per step. Expectations are not checked here: the differential tests
// compare two servers with each other.
func (c *clients) transcript(t testing.TB, sc *script) []string {
	t.Helper()
	return c.record(t, sc, false)
}

// record is transcript that also checks the script's expectations if
// check is set.
func (c *clients) record(t testing.TB, sc *script, check bool) []string {
	t.Helper()
	names := uuidNamer{}
	blocks := make([]string, len(sc.steps))
	for i, st := range sc.steps {
		r := c.run(t, st)
		if r.Stuck() {
			t.Fatalf("%s:%d: %s: ran %v (exit %d); giving up on the script:\n%s", sc.name, st.line, st.text, r.Took.Round(time.Millisecond), r.Code, r.Stderr)
		}
		if msg := st.check(r); check && msg != "" {
			t.Errorf("%s:%d: %s\n%s", sc.name, st.line, st.text, msg)
		}
		if st.sorted {
			r.Stdout = sortRecordsMasked(r.Stdout)
		}
		blocks[i] = sortNamedSets(names.rename(canonical(r.Transcript())))
	}
	return blocks
}

// sortRecordsMasked sorts the blank-line-separated records of out, or its
// lines if it has one record, as if their UUIDs were masked: servers list
// rows in UUID order, which is random.
func sortRecordsMasked(out string) string {
	if out == "" {
		return out
	}
	recs := strings.Split(strings.TrimSuffix(out, "\n"), "\n\n")
	sep := "\n\n"
	if len(recs) == 1 {
		recs, sep = strings.Split(recs[0], "\n"), "\n"
	}
	sort.SliceStable(recs, func(i, j int) bool {
		return uuidRE.ReplaceAllString(recs[i], "<uuid>") < uuidRE.ReplaceAllString(recs[j], "<uuid>")
	})
	return strings.Join(recs, sep) + "\n"
}

// logTimeRE matches the timestamp of an OVS log line that a client prints
// on stderr, e.g. "2026-11-23T20:49:32Z|00002|socket_util|ERR|...".
var logTimeRE = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\|`)

// dupIndexRE matches the two row clauses of ovsdb-server's duplicate index
// error, whose order follows the rows' UUIDs and so varies from run to run.
var dupIndexRE = regexp.MustCompile(`First row, with UUID (` + uuidPattern + `), ([^.]*)\.  Second row, with UUID (` + uuidPattern + `), ([^.]*)\.`)

// canonical removes what varies between two runs of the same commands on
// the same server: log timestamps and the order of the duplicate index
// error's clauses (put in the order of their descriptions; when both rows
// were inserted, their UUIDs are masked).
func canonical(s string) string {
	s = logTimeRE.ReplaceAllString(s, "<time>|")
	return dupIndexRE.ReplaceAllStringFunc(s, func(m string) string {
		g := dupIndexRE.FindStringSubmatch(m)
		u1, d1, u2, d2 := g[1], g[2], g[3], g[4]
		switch {
		case d1 == d2:
			u1, u2 = "<uuid>", "<uuid>"
		case d1 > d2:
			u1, d1, u2, d2 = u2, d2, u1, d1
		}
		return fmt.Sprintf("First row, with UUID %s, %s.  Second row, with UUID %s, %s.", u1, d1, u2, d2)
	})
}

// namedSetRE matches a set of renamed UUIDs as ovn-nbctl prints it, in
// brackets or, with --bare, as a line of them.
var namedSetRE = regexp.MustCompile(`\[<uuid\d+>(, <uuid\d+>)+\]|(?m)^<uuid\d+>( <uuid\d+>)+$`)

// sortNamedSets orders the members of each printed set of renamed UUIDs by
// name: servers print such sets in UUID order, which is random, but the
// names are given in a deterministic order.
func sortNamedSets(s string) string {
	return namedSetRE.ReplaceAllStringFunc(s, func(m string) string {
		open, sep, end := "[", ", ", "]"
		if !strings.HasPrefix(m, "[") {
			open, sep, end = "", " ", ""
		}
		items := strings.Split(strings.TrimSuffix(strings.TrimPrefix(m, open), end), sep)
		sort.Slice(items, func(i, j int) bool { return namedLess(items[i], items[j]) })
		return open + strings.Join(items, sep) + end
	})
}

func namedLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
