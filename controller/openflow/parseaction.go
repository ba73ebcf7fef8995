package openflow

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
)

// parseInstructions parses what follows "actions=".
func parseInstructions(s string) (Instructions, error) {
	var in Instructions
	if strings.TrimSpace(s) == "drop" {
		return in, nil
	}
	for _, a := range splitTop(s, false) {
		k, v, _ := strings.Cut(a, ":")
		var err error
		switch k {
		case "clear_actions":
			in.ClearActions = true
		case "goto_table":
			var t uint64
			t, err = strconv.ParseUint(v, 0, 8)
			in.GotoTable = Goto(uint8(t))
		case "write_metadata":
			in.WriteMetadata, err = parseWriteMetadata(v)
		default:
			if inner, ok := strings.CutPrefix(a, "write_actions("); ok {
				in.Write, err = parseActions(strings.TrimSuffix(inner, ")"))
				break
			}
			var act Action
			if act, err = parseAction(a); err == nil {
				in.Apply = append(in.Apply, act)
			}
		}
		if err != nil {
			return in, fmt.Errorf("action %q: %w", a, err)
		}
	}
	return in, nil
}

func parseWriteMetadata(v string) (*WriteMetadata, error) {
	val, mask, masked := strings.Cut(v, "/")
	w := &WriteMetadata{Mask: ^uint64(0)}
	var err error
	if w.Metadata, err = strconv.ParseUint(val, 0, 64); err == nil && masked {
		w.Mask, err = strconv.ParseUint(mask, 0, 64)
	}
	return w, err
}

func parseActions(s string) ([]Action, error) {
	acts := []Action{}
	for _, a := range splitTop(s, false) {
		act, err := parseAction(a)
		if err != nil {
			return nil, fmt.Errorf("action %q: %w", a, err)
		}
		acts = append(acts, act)
	}
	return acts, nil
}

var simpleActions = map[string]func() Action{
	"dec_ttl":  func() Action { return &DecTTL{} },
	"pop_vlan": func() Action { return &PopVLAN{} },
	"ct_clear": func() Action { return &CTClear{} },
}

// parseAction parses one action.
func parseAction(a string) (Action, error) {
	if f, ok := simpleActions[a]; ok {
		return f(), nil
	}
	if p, ok := portByName(a); ok {
		return &Output{Port: p}, nil
	}
	if n, err := strconv.ParseUint(a, 10, 32); err == nil {
		return &Output{Port: uint32(n)}, nil
	}
	if name, args, ok := strings.Cut(a, "("); ok && strings.HasSuffix(a, ")") || ok && strings.Contains(args, ")->") {
		return parseCall(name, args)
	}
	k, v, ok := strings.Cut(a, ":")
	if !ok {
		return nil, fmt.Errorf("unknown action")
	}
	return parseColon(k, v)
}

func parseU32(v string) (uint32, error) {
	n, err := strconv.ParseUint(v, 0, 32)
	return uint32(n), err
}

func parseColon(k, v string) (Action, error) {
	switch k {
	case "output":
		if strings.Contains(v, "[") {
			sf, err := parseSubfield(v)
			return &OutputReg{Src: sf, MaxLen: 0xffff}, err
		}
		if p, ok := portByName(v); ok {
			return &Output{Port: p}, nil
		}
		n, err := parseU32(v)
		return &Output{Port: n}, err
	case "CONTROLLER":
		n, err := strconv.ParseUint(v, 0, 16)
		return &Output{Port: PortController, MaxLen: uint16(n)}, err
	case "group":
		n, err := parseU32(v)
		return &Group{ID: n}, err
	case "meter":
		n, err := parseU32(v)
		return &Meter{ID: n}, err
	case "set_queue":
		n, err := parseU32(v)
		return &SetQueue{ID: n}, err
	case "push_vlan":
		n, err := strconv.ParseUint(v, 0, 16)
		return &PushVLAN{EtherType: uint16(n)}, err
	case "resubmit":
		p, err := parseResubmitPort(v)
		return &Resubmit{InPort: p, Table: 255}, err
	case "note":
		b, err := parseDotHex(v)
		return &Note{Data: b}, err
	case "mod_dl_src", "mod_dl_dst":
		b, err := parseMAC(v)
		return &SetField{OXM: F("eth_"+k[7:]).Bytes(b, nil)}, err
	case "set_field":
		return parseSetField(v)
	case "load":
		return parseLoad(v)
	case "move":
		src, dst, ok := strings.Cut(v, "->")
		if !ok {
			return nil, fmt.Errorf("move needs ->")
		}
		s, err := parseSubfield(src)
		if err != nil {
			return nil, err
		}
		d, err := parseSubfield(dst)
		return &Move{Src: s, Dst: d}, err
	}
	return nil, fmt.Errorf("unknown action %q", k)
}

func parseResubmitPort(v string) (uint16, error) {
	if v == "" {
		return 0xfff8, nil
	}
	if p, ok := portByName(v); ok {
		return uint16(p), nil
	}
	n, err := strconv.ParseUint(v, 0, 16)
	return uint16(n), err
}

func parseDotHex(v string) ([]byte, error) {
	var b []byte
	for _, x := range strings.Split(v, ".") {
		n, err := strconv.ParseUint(x, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad hex byte %q", x)
		}
		b = append(b, byte(n))
	}
	return b, nil
}

func parseSetField(v string) (Action, error) {
	val, name, ok := strings.Cut(v, "->")
	if !ok {
		return nil, fmt.Errorf("set_field needs ->")
	}
	f := FieldByName(name)
	if f == nil {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	o, err := parseValue(f, val)
	return &SetField{OXM: o}, err
}

// parseLoad turns load:V->SUBFIELD into a masked set_field, as OVS does.
func parseLoad(v string) (Action, error) {
	val, dst, ok := strings.Cut(v, "->")
	if !ok {
		return nil, fmt.Errorf("load needs ->")
	}
	sf, err := parseSubfield(dst)
	if err != nil {
		return nil, err
	}
	z, ok := new(big.Int).SetString(val, 0)
	if !ok {
		return nil, fmt.Errorf("bad value %q", val)
	}
	w := sf.Field.width()
	if z.Sign() < 0 || z.BitLen() > sf.NBits || sf.Ofs+sf.NBits > 8*w {
		return nil, fmt.Errorf("value %s does not fit %s", val, sf)
	}
	ones := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(sf.NBits)), big.NewInt(1))
	value := new(big.Int).Lsh(z, uint(sf.Ofs)).FillBytes(make([]byte, w))
	mask := new(big.Int).Lsh(ones, uint(sf.Ofs)).FillBytes(make([]byte, w))
	o := OXM{Field: sf.Field, Value: value, Mask: mask}
	if o.exact() {
		o.Mask = nil
	}
	return &SetField{OXM: o}, nil
}

// parseCall parses name(args) actions.
func parseCall(name, args string) (Action, error) {
	inner, tail, _ := strings.Cut(args, ")->")
	inner = strings.TrimSuffix(inner, ")")
	switch name {
	case "resubmit":
		p := strings.Split(inner, ",")
		port, err := parseResubmitPort(p[0])
		r := &Resubmit{InPort: port, Table: 255}
		if len(p) > 1 && p[1] != "" {
			var t uint64
			t, err = strconv.ParseUint(p[1], 0, 8)
			r.Table = uint8(t)
		}
		r.CT = len(p) > 2 && p[2] == "ct"
		return r, err
	case "conjunction":
		var c Conjunction
		var k int
		_, err := fmt.Sscanf(inner, "%d,%d/%d", &c.ID, &k, &c.NClauses)
		c.Clause = uint8(k - 1)
		return &c, err
	case "check_pkt_larger":
		n, err := strconv.ParseUint(inner, 0, 16)
		if err != nil {
			return nil, err
		}
		sf, err := parseSubfield(tail)
		return &CheckPktLarger{PktLen: uint16(n), Dst: sf}, err
	case "controller":
		return parseController(inner)
	case "ct":
		return parseCT(inner)
	case "nat":
		return parseNAT(inner)
	case "learn":
		return parseLearn(inner)
	}
	return nil, fmt.Errorf("unknown action %q", name)
}

func parseController(s string) (Action, error) {
	c := &Controller{MaxLen: 0xffff, Reason: ReasonAction}
	for _, kv := range splitTop(s, false) {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		var n uint64
		switch k {
		case "max_len":
			n, err = strconv.ParseUint(v, 0, 16)
			c.MaxLen = uint16(n)
		case "id":
			n, err = strconv.ParseUint(v, 0, 16)
			c.ID = uint16(n)
		case "reason":
			i := -1
			for j, name := range reasonNames {
				if name == v {
					i = j
				}
			}
			if i < 0 {
				err = fmt.Errorf("unknown reason %q", v)
			}
			c.Reason = uint8(i)
		case "userdata":
			c.Userdata, err = parseDotHex(v)
		case "pause":
			c.Pause = true
		case "meter_id":
			c.MeterID, err = parseU32(v)
		default:
			err = fmt.Errorf("unknown controller option %q", k)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseCT(s string) (Action, error) {
	c := &CT{Table: CTNoTable}
	for _, kv := range splitTop(s, false) {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch {
		case k == "commit":
			c.Flags |= CTCommit
		case k == "force":
			c.Flags |= CTForce
		case k == "table":
			var n uint64
			n, err = strconv.ParseUint(v, 0, 8)
			c.Table = uint8(n)
		case k == "zone" && strings.Contains(v, "["):
			c.ZoneSrc, err = parseSubfield(v)
		case k == "zone":
			var n uint64
			n, err = strconv.ParseUint(v, 0, 16)
			c.Zone = uint16(n)
		case k == "alg":
			c.Alg = map[string]uint16{"ftp": 21, "tftp": 69}[v]
		case k == "nat" || strings.HasPrefix(k, "nat("):
			var n Action
			n, err = parseNAT(strings.TrimSuffix(strings.TrimPrefix(kv, "nat("), ")"))
			c.Actions = append([]Action{n}, c.Actions...)
		case strings.HasPrefix(kv, "exec("):
			var acts []Action
			acts, err = parseActions(strings.TrimSuffix(strings.TrimPrefix(kv, "exec("), ")"))
			c.Actions = append(c.Actions, acts...)
		default:
			err = fmt.Errorf("unknown ct option %q", kv)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseNAT(s string) (Action, error) {
	n := &NAT{}
	if s == "nat" || s == "" {
		return n, nil
	}
	for _, kv := range splitTop(s, false) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "src", "dst":
			n.Flags |= map[string]uint16{"src": NATSrc, "dst": NATDst}[k]
			if v != "" {
				if err := n.parseRange(v); err != nil {
					return nil, err
				}
			}
		case "persistent":
			n.Flags |= NATPersistent
		case "hash":
			n.Flags |= NATProtoHash
		case "random":
			n.Flags |= NATProtoRand
		default:
			return nil, fmt.Errorf("unknown nat option %q", kv)
		}
	}
	return n, nil
}

// parseRange parses ip[-ip][:port[-port]], IPv6 addresses in brackets
// when ports follow.
func (n *NAT) parseRange(v string) error {
	ips, ports := v, ""
	if i := strings.LastIndex(v, ":"); i >= 0 && (strings.Count(v, ":") == 1 || strings.Contains(v, "]:")) {
		ips, ports = v[:i], v[i+1:]
	}
	lo, hi, _ := strings.Cut(strings.NewReplacer("[", "", "]", "").Replace(ips), "-")
	var err error
	if n.IPMin, err = netip.ParseAddr(lo); err != nil {
		return err
	}
	if hi != "" {
		if n.IPMax, err = netip.ParseAddr(hi); err != nil {
			return err
		}
	}
	if ports == "" {
		return nil
	}
	plo, phi, _ := strings.Cut(ports, "-")
	p, err := strconv.ParseUint(plo, 10, 16)
	n.ProtoMin = uint16(p)
	if err == nil && phi != "" {
		p, err = strconv.ParseUint(phi, 10, 16)
		n.ProtoMax = uint16(p)
	}
	return err
}
