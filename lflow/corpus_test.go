package lflow

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// corpusSets holds the named sets the 23.03 corpus topology defines
// (gen-lflows.sh) plus those northd and the controller create on their
// own ($svc_monitor_mac, the router's load-balancer VIP set).
var corpusSets = MapSets{
	AddressSets: map[string][]string{
		"as_web":          {"10.0.0.11", "10.0.0.12"},
		"as_v6":           {"fd00::11", "fd01::/64"},
		"svc_monitor_mac": {"12:34:56:78:9a:bc"},
		"_rtr_lb_3_ip4":   {"172.16.0.100"},
	},
	PortGroups: map[string][]string{
		"pg_web": {"sw0-p1", "sw0-p2"},
		"pg_db":  {"sw1-p1"},
	},
}

// corpusMaxFlows bounds the cross product of any one corpus match.
const corpusMaxFlows = 4096

type corpusFlow struct {
	line           int
	match, actions string
}

// readCorpus reads lflows-23.03.txt: every distinct (match, actions) pair
// ovn-northd 23.03 writes for the topology in gen-lflows.sh, as
// ovn-sbctl's CSV, whose cells are OVSDB strings in JSON quoting unless
// they are bare words. Regenerate it (needs the OVN daemons, the test
// does not) with
//
//	sh lflow/testdata/gen-lflows.sh > lflow/testdata/lflows-23.03.txt
func readCorpus(t *testing.T) []corpusFlow {
	t.Helper()
	f, err := os.Open("testdata/lflows-23.03.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var flows []corpusFlow
	for i, r := range recs {
		flows = append(flows, corpusFlow{i + 1, unquoteCell(t, r[0]), unquoteCell(t, r[1])})
	}
	return flows
}

func unquoteCell(t *testing.T, s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("cell %s: %v", s, err)
	}
	return out
}

func TestCorpusMatches(t *testing.T) {
	flows := readCorpus(t)
	bad := 0
	for _, f := range flows {
		e, err := ParseExpr(f.match, Symbols, corpusSets)
		if err != nil {
			bad++
			t.Errorf("line %d: match %q: %v", f.line, f.match, err)
			continue
		}
		if err := roundTrip(e); err != nil {
			t.Errorf("line %d: match %q: %v", f.line, f.match, err)
		}
		terms, err := Normalize(e, Symbols)
		if err != nil {
			bad++
			t.Errorf("line %d: match %q: normalize: %v", f.line, f.match, err)
			continue
		}
		if _, err := Flows(terms, corpusMaxFlows); err != nil {
			bad++
			t.Errorf("line %d: match %q: flows: %v", f.line, f.match, err)
		}
	}
	t.Logf("%d of %d matches parse, normalise and expand to flows", len(flows)-bad, len(flows))
}

func TestCorpusActions(t *testing.T) {
	flows := readCorpus(t)
	bad := 0
	for _, f := range flows {
		acts, err := ParseActions(f.actions, Symbols)
		if err != nil {
			bad++
			t.Errorf("line %d: actions %q: %v", f.line, f.actions, err)
			continue
		}
		s := FormatActions(acts)
		again, err := ParseActions(s, Symbols)
		if err != nil {
			t.Errorf("line %d: reparse %q: %v", f.line, s, err)
		} else if s2 := FormatActions(again); s2 != s {
			t.Errorf("line %d: format not stable: %q then %q", f.line, s, s2)
		}
	}
	t.Logf("%d of %d actions parse", len(flows)-bad, len(flows))
}
