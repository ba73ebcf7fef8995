package testbed

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FlowState is a chassis's br-int OpenFlow state rendered so that two
// implementations of the controller can be compared line by line: per
// table, the flows as `ovs-ofctl dump-flows --no-stats` prints them,
// sorted, with everything an implementation numbers on its own
// replaced. See NormalizeFlows.
type FlowState struct {
	Tables map[int][]string
}

// FlowState dumps br-int's flows and groups, names its ports and the
// logical datapaths and ports from the SB, and returns them normalised.
func (c *Chassis) FlowState() (FlowState, error) {
	flows, err := c.OFCtl("dump-flows", "br-int", "--no-stats", "--no-names")
	if err != nil {
		return FlowState{}, err
	}
	groups, err := c.OFCtl("dump-groups", "br-int", "--no-names")
	if err != nil {
		return FlowState{}, err
	}
	names := FlowNames{}
	if names.Ports, err = c.portLabels(); err != nil {
		return FlowState{}, err
	}
	if err := c.tb.logicalNames(&names); err != nil {
		return FlowState{}, err
	}
	return NormalizeFlows(flows, groups, names)
}

// Recompute makes an ovn-controller recompute everything from scratch
// (ovn-appctl recompute): its incremental processing keeps state that
// depends on the order changes arrived in (a datapath made local stays
// local until a full recompute), which a flow comparison must not see.
// ovnd's controller derives its state from the databases every round;
// for it Recompute does nothing.
func (c *Chassis) Recompute() error {
	if c.Kind != OVN {
		return nil
	}
	_, err := run("", c.env(), "ovn-appctl", "-t", "ovn-controller", "recompute")
	return err
}

// FlowNames is what NormalizeFlows replaces numbers and run-specific
// values with.
type FlowNames struct {
	// Ports names OpenFlow port numbers (see portLabels).
	Ports map[int]string
	// Datapaths names logical datapaths by tunnel key ("dp:nat").
	Datapaths map[uint32]string
	// LogicalPorts names logical ports and multicast groups by datapath
	// and tunnel key ("lp:nat-a", "mc:_MC_flood").
	LogicalPorts map[[2]uint32]string
	// Literals are replaced as they are, e.g. northd's random
	// svc_monitor_mac.
	Literals map[string]string
}

// portLabels maps br-int's OpenFlow port numbers to names that do not
// depend on the run or on the order the ports were added in: the VIF's
// logical port ("vif:nat-a"), a tunnel's remote IP ("tun:172.31.0.2"),
// a patch port's peer ("patch:patch-br-int-to-ln").
func (c *Chassis) portLabels() (map[int]string, error) {
	ifaces, err := c.VSCtl("list-ifaces", "br-int")
	if err != nil {
		return nil, err
	}
	out, err := c.VSCtl("--format=json", "--columns=ofport,name,type,external_ids,options", "list", "Interface")
	if err != nil {
		return nil, err
	}
	return parsePortLabels(out, strings.Fields(ifaces))
}

// parsePortLabels labels the interfaces named in onBridge (one bridge's:
// port numbers are per bridge) from `ovs-vsctl --format=json list
// Interface` output.
func parsePortLabels(out string, onBridge []string) (map[int]string, error) {
	rows, err := jsonRows(out, 5)
	if err != nil {
		return nil, fmt.Errorf("ovs-vsctl list Interface: %w", err)
	}
	labels := map[int]string{}
	for _, row := range rows {
		var ofport int
		if json.Unmarshal(row[0], &ofport) != nil || ofport <= 0 {
			continue // not on a bridge yet, or a set: no port number
		}
		var name, typ string
		_ = json.Unmarshal(row[1], &name)
		if !slices.Contains(onBridge, name) {
			continue
		}
		_ = json.Unmarshal(row[2], &typ)
		ext, opts := ovsdbMap(row[3]), ovsdbMap(row[4])
		switch {
		case ext["iface-id"] != "":
			labels[ofport] = "vif:" + ext["iface-id"]
		case typ == "geneve" || typ == "vxlan" || typ == "stt":
			labels[ofport] = "tun:" + opts["remote_ip"]
		case typ == "patch":
			labels[ofport] = "patch:" + opts["peer"]
		default:
			labels[ofport] = "port:" + name
		}
	}
	return labels, nil
}

// jsonRows decodes the rows of `--format=json` output of ovs-vsctl or
// ovn-sbctl, checking that each has n columns.
func jsonRows(out string, n int) ([][]json.RawMessage, error) {
	var doc struct {
		Data [][]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, err
	}
	for _, row := range doc.Data {
		if len(row) != n {
			return nil, fmt.Errorf("row with %d columns, want %d", len(row), n)
		}
	}
	return doc.Data, nil
}

// ovsdbUUID decodes an OVSDB JSON UUID, ["uuid", "..."].
func ovsdbUUID(raw json.RawMessage) string {
	var u [2]string
	if json.Unmarshal(raw, &u) != nil {
		return ""
	}
	return u[1]
}

// logicalNames fills names' datapaths, logical ports, multicast groups
// and literals from the SB and NB.
func (tb *Topology) logicalNames(names *FlowNames) error {
	names.Datapaths, names.LogicalPorts = map[uint32]string{}, map[[2]uint32]string{}
	names.Literals = map[string]string{}
	out, err := tb.sbctl("--format=json", "--columns=_uuid,tunnel_key,external_ids", "list", "Datapath_Binding")
	if err != nil {
		return err
	}
	rows, err := jsonRows(out, 3)
	if err != nil {
		return fmt.Errorf("ovn-sbctl list Datapath_Binding: %w", err)
	}
	dpKey := map[string]uint32{}
	for _, r := range rows {
		var key uint32
		_ = json.Unmarshal(r[1], &key)
		dpKey[ovsdbUUID(r[0])] = key
		names.Datapaths[key] = "dp:" + ovsdbMap(r[2])["name"]
	}
	for _, t := range []struct{ table, prefix string }{{"Port_Binding", "lp:"}, {"Multicast_Group", "mc:"}} {
		col := "logical_port"
		if t.table == "Multicast_Group" {
			col = "name"
		}
		out, err := tb.sbctl("--format=json", "--columns="+col+",tunnel_key,datapath", "list", t.table)
		if err != nil {
			return err
		}
		rows, err := jsonRows(out, 3)
		if err != nil {
			return fmt.Errorf("ovn-sbctl list %s: %w", t.table, err)
		}
		for _, r := range rows {
			var name string
			var key uint32
			_ = json.Unmarshal(r[0], &name)
			_ = json.Unmarshal(r[1], &key)
			names.LogicalPorts[[2]uint32{dpKey[ovsdbUUID(r[2])], key}] = t.prefix + name
		}
	}
	if mac, err := tb.nbctl("get", "NB_Global", ".", "options:svc_monitor_mac"); err == nil {
		if m := strings.Trim(strings.TrimSpace(mac), `"`); m != "" {
			names.Literals[m] = "SVC_MONITOR_MAC"
		}
	}
	return nil
}

// ovsdbMap decodes an OVSDB JSON map, ["map", [[k, v], ...]].
func ovsdbMap(raw json.RawMessage) map[string]string {
	var m []json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 2 {
		return nil
	}
	var pairs [][2]string
	if json.Unmarshal(m[1], &pairs) != nil {
		return nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		out[p[0]] = p[1]
	}
	return out
}

var (
	reTable    = regexp.MustCompile(`(?:^|, )table=(\d+), `)
	reCookie   = regexp.MustCompile(`cookie=0x[0-9a-f]+, `)
	reInPort   = regexp.MustCompile(`\bin_port=(\d+)`)
	reOutput   = regexp.MustCompile(`\boutput:(\d+)`)
	reOutput2  = regexp.MustCompile(`\boutput\(port=(\d+)`)
	reMembers  = regexp.MustCompile(`\bmembers:[\d,]+`) // bundle(...)
	reGroup    = regexp.MustCompile(`\bgroup:(\d+)`)
	reGroupID  = regexp.MustCompile(`^group_id=(\d+),`)
	reConj     = regexp.MustCompile(`\bconjunction\(\d+,`)
	reConjID   = regexp.MustCompile(`\bconj_id=\d+`)
	reMeter    = regexp.MustCompile(`\bmeter_id=\d+`)
	reLearnCk  = regexp.MustCompile(`\bcookie=0x[0-9a-f]+`)
	reZoneReg  = regexp.MustCompile(`\bset_field:0x[0-9a-f]+(/0xffff)?->reg1([123])\b`)
	reZoneLit  = regexp.MustCompile(`\bzone=\d+`)
	reCtZone   = regexp.MustCompile(`\bct_zone=0x[0-9a-f]+|\bct_zone=\d+`)
	reBucketID = regexp.MustCompile(`bucket_id:\d+,`)
)

// NormalizeFlows turns the output of `ovs-ofctl dump-flows --no-stats
// --no-names` and `dump-groups` into a FlowState. ports names the
// OpenFlow port numbers (see portLabels). What each implementation
// numbers on its own is replaced: cookies are dropped; port numbers
// become their labels; a group reference becomes the group's type and
// buckets; conjunction ids become C, meter ids M, cookies of learned
// flows K; the values loaded into
// the conntrack-zone registers (reg11, reg12, reg13) and literal zones
// become Z. A flow line it cannot place in a table is an error.
func NormalizeFlows(flows, groups string, names FlowNames) (FlowState, error) {
	port := func(s string) string {
		n, _ := strconv.Atoi(s)
		if l, ok := names.Ports[n]; ok {
			return l
		}
		return "ofport?" + s
	}
	groupDesc := map[string]string{}
	for _, line := range strings.Split(groups, "\n") {
		line = strings.TrimSpace(line)
		m := reGroupID.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		desc := strings.TrimPrefix(line, m[0])
		desc = reBucketID.ReplaceAllString(desc, "")
		groupDesc[m[1]] = normalizeCommon(names.logical(desc), port)
	}
	st := FlowState{Tables: map[int][]string{}}
	for _, line := range strings.Split(flows, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "OFPST_") || strings.HasPrefix(line, "NXST_") {
			continue
		}
		line = reCookie.ReplaceAllString(line, "")
		line = names.logical(line)
		table := 0
		if m := reTable.FindStringSubmatchIndex(line); m != nil {
			table, _ = strconv.Atoi(line[m[2]:m[3]])
			line = line[:m[0]] + line[m[1]:]
		} else if !strings.HasPrefix(line, "priority=") && !strings.HasPrefix(line, "table=") {
			return FlowState{}, fmt.Errorf("flow without a table: %q", line)
		}
		line = strings.TrimPrefix(line, "table=0, ")
		line = reInPort.ReplaceAllStringFunc(line, func(s string) string {
			return "in_port=" + port(strings.TrimPrefix(s, "in_port="))
		})
		line = reGroup.ReplaceAllStringFunc(line, func(s string) string {
			id := strings.TrimPrefix(s, "group:")
			if d, ok := groupDesc[id]; ok {
				return "group:{" + d + "}"
			}
			return "group:?" + id
		})
		st.Tables[table] = append(st.Tables[table], sortMembers(normalizeCommon(line, port)))
	}
	for _, fs := range st.Tables {
		slices.Sort(fs)
	}
	return st, nil
}

var (
	reMatchMeta = regexp.MustCompile(`\bmetadata=0x([0-9a-f]+)\b`)
	reLogical   = regexp.MustCompile(`\b(reg1[45]|metadata)=0x([0-9a-f]+)\b|\bset_field:0x([0-9a-f]+)->(reg1[45]|metadata|tun_metadata0)\b`)
	reTunID     = regexp.MustCompile(`\bset_field:0x([0-9a-f]+)/0xffffff->tun_id\b`)
	reMember    = regexp.MustCompile(`(?:set_field:Z->reg13,)?set_field:lp:[^,]+->reg15,resubmit\(,\d+\),`)
)

// logical names the datapath and logical port keys of one flow (or
// group): metadata=, reg14= and reg15= in the match and set_field to
// them in the actions, a port key read against the datapath the flow
// is on at that point (the match's, or the last set_field:->metadata).
// Literals are replaced first.
func (n FlowNames) logical(line string) string {
	for from, to := range n.Literals {
		line = strings.ReplaceAll(line, from, to)
	}
	if n.Datapaths == nil {
		return line
	}
	line = reTunID.ReplaceAllStringFunc(line, n.tunID)
	var dp uint32
	match, _, _ := strings.Cut(line, " actions=")
	if m := reMatchMeta.FindStringSubmatch(match); m != nil {
		v, _ := strconv.ParseUint(m[1], 16, 32)
		dp = uint32(v)
	}
	return reLogical.ReplaceAllStringFunc(line, func(s string) string {
		m := reLogical.FindStringSubmatch(s)
		field, hex := m[1], m[2]
		if field == "" {
			field, hex = m[4], m[3]
		}
		v, _ := strconv.ParseUint(hex, 16, 32)
		var name string
		if field == "metadata" {
			dp = uint32(v)
			name = n.Datapaths[dp]
		} else {
			name = n.LogicalPorts[[2]uint32{dp, uint32(v)}]
		}
		if name == "" {
			return s
		}
		if m[1] != "" {
			return field + "=" + name
		}
		return "set_field:" + name + "->" + field
	})
}

// sortMembers sorts each run of multicast-group member outputs
// ("set_field:lp:X->reg15,resubmit(,N)," and the member's zone): both
// implementations follow the order of the group's ports in the SB,
// which is the order of their row UUIDs, new in every run.
func sortMembers(line string) string {
	locs := reMember.FindAllStringIndex(line, -1)
	if len(locs) < 2 {
		return line
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(locs); {
		j := i + 1
		for j < len(locs) && locs[j][0] == locs[j-1][1] {
			j++
		}
		run := make([]string, 0, j-i)
		for _, l := range locs[i:j] {
			run = append(run, line[l[0]:l[1]])
		}
		slices.Sort(run)
		b.WriteString(line[last:locs[i][0]])
		b.WriteString(strings.Join(run, ""))
		last = locs[j-1][1]
		i = j
	}
	b.WriteString(line[last:])
	return b.String()
}

// tunID names the tunnel key a flow writes: the datapath's (Geneve,
// where the port goes in tun_metadata0), or, as VXLAN carries them, the
// output port in bits 12..23 and the datapath in bits 0..11.
func (n FlowNames) tunID(s string) string {
	m := reTunID.FindStringSubmatch(s)
	v, _ := strconv.ParseUint(m[1], 16, 32)
	if name, ok := n.Datapaths[uint32(v)]; ok {
		return "set_field:" + name + "->tun_id"
	}
	dp, port := uint32(v&0xfff), uint32(v>>12)
	if pn, ok := n.LogicalPorts[[2]uint32{dp, port}]; ok && n.Datapaths[dp] != "" {
		return "set_field:" + pn + "@" + n.Datapaths[dp] + "->tun_id"
	}
	return s
}

// normalizeCommon replaces what flows and group buckets share: output
// and bundle ports, conjunction and meter ids, zones.
func normalizeCommon(s string, port func(string) string) string {
	s = reOutput.ReplaceAllStringFunc(s, func(m string) string { return "output:" + port(strings.TrimPrefix(m, "output:")) })
	s = reOutput2.ReplaceAllStringFunc(s, func(m string) string {
		return "output(port=" + port(strings.TrimPrefix(m, "output(port="))
	})
	s = reMembers.ReplaceAllStringFunc(s, func(m string) string {
		ports := strings.Split(strings.TrimPrefix(m, "members:"), ",")
		for i, p := range ports {
			ports[i] = port(p)
		}
		return "members:" + strings.Join(ports, ",")
	})
	s = reConj.ReplaceAllString(s, "conjunction(C,")
	s = reConjID.ReplaceAllString(s, "conj_id=C")
	s = reMeter.ReplaceAllString(s, "meter_id=M")
	s = reLearnCk.ReplaceAllString(s, "cookie=K") // learn(...): the row's UUID
	s = reZoneReg.ReplaceAllString(s, "set_field:Z$1->reg1$2")
	s = reZoneLit.ReplaceAllString(s, "zone=Z")
	s = reCtZone.ReplaceAllString(s, "ct_zone=Z")
	return s
}

// String renders the state table by table, one flow a line, as
// "table=N, <flow>".
func (s FlowState) String() string {
	var b strings.Builder
	for _, t := range slices.Sorted(maps.Keys(s.Tables)) {
		for _, f := range s.Tables[t] {
			fmt.Fprintf(&b, "table=%d, %s\n", t, f)
		}
	}
	return b.String()
}

// TableDiff compares one table of two FlowStates.
type TableDiff struct {
	Table   int
	Same    int      // flows in both
	Missing []string // in the reference only
	Extra   []string // in the other only
}

// FlowDiff compares two FlowStates, table by table.
type FlowDiff []TableDiff

// DiffFlows compares got with the reference want. Flows are multisets:
// a flow installed twice in one and once in the other counts once as
// missing or extra.
func DiffFlows(want, got FlowState) FlowDiff {
	tables := map[int]bool{}
	for t := range want.Tables {
		tables[t] = true
	}
	for t := range got.Tables {
		tables[t] = true
	}
	var d FlowDiff
	for _, t := range slices.Sorted(maps.Keys(tables)) {
		td := TableDiff{Table: t}
		count := map[string]int{}
		for _, f := range want.Tables[t] {
			count[f]++
		}
		for _, f := range got.Tables[t] {
			if count[f] > 0 {
				count[f]--
				td.Same++
			} else {
				td.Extra = append(td.Extra, f)
			}
		}
		for _, f := range want.Tables[t] {
			if count[f] > 0 {
				count[f]--
				td.Missing = append(td.Missing, f)
			}
		}
		d = append(d, td)
	}
	return d
}

// Empty reports whether every table is identical.
func (d FlowDiff) Empty() bool {
	for _, t := range d {
		if len(t.Missing)+len(t.Extra) > 0 {
			return false
		}
	}
	return true
}

// Summary is one line per table: identical, missing and extra counts.
func (d FlowDiff) Summary() string {
	var b strings.Builder
	for _, t := range d {
		mark := "identical"
		if len(t.Missing)+len(t.Extra) > 0 {
			mark = "DIFFERS"
		}
		fmt.Fprintf(&b, "table %3d: %4d identical, %3d missing, %3d extra  %s\n", t.Table, t.Same, len(t.Missing), len(t.Extra), mark)
	}
	return b.String()
}

// String is the summary followed by every missing ("-") and extra ("+")
// flow, table by table.
func (d FlowDiff) String() string {
	var b strings.Builder
	b.WriteString(d.Summary())
	for _, t := range d {
		if len(t.Missing)+len(t.Extra) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- table %d ---\n", t.Table)
		for _, f := range t.Missing {
			b.WriteString("- " + f + "\n")
		}
		for _, f := range t.Extra {
			b.WriteString("+ " + f + "\n")
		}
	}
	return b.String()
}
