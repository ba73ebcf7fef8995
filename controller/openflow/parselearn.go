package openflow

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// parseLearn parses the inside of learn(...).
func parseLearn(s string) (Action, error) {
	l := &Learn{Priority: 0x8000}
	for _, item := range splitTop(s, false) {
		if err := l.parseItem(item); err != nil {
			return nil, fmt.Errorf("learn %q: %w", item, err)
		}
	}
	return l, nil
}

func (l *Learn) parseItem(item string) error {
	switch item {
	case "send_flow_rem":
		l.Flags |= LearnSendFlowRem
		return nil
	case "delete_learned":
		l.Flags |= LearnDeleteLearned
		return nil
	}
	k, v, hasEq := strings.Cut(item, "=")
	if num := map[string]*uint16{"idle_timeout": &l.IdleTimeout, "hard_timeout": &l.HardTimeout,
		"fin_idle_timeout": &l.FinIdleTimeout, "fin_hard_timeout": &l.FinHardTimeout, "priority": &l.Priority}[k]; num != nil {
		n, err := strconv.ParseUint(v, 0, 16)
		*num = uint16(n)
		return err
	}
	switch k {
	case "table":
		n, err := strconv.ParseUint(v, 0, 8)
		l.Table = uint8(n)
		return err
	case "cookie":
		var err error
		l.Cookie, err = strconv.ParseUint(v, 0, 64)
		return err
	}
	spec, err := parseLearnSpec(item, k, v, hasEq)
	if err != nil {
		return err
	}
	l.Specs = append(l.Specs, spec)
	return nil
}

func parseLearnSpec(item, k, v string, hasEq bool) (LearnSpec, error) {
	if rest, ok := strings.CutPrefix(item, "load:"); ok {
		src, dst, ok := strings.Cut(rest, "->")
		if !ok {
			return LearnSpec{}, fmt.Errorf("load needs ->")
		}
		d, err := parseSubfield(dst)
		if err != nil {
			return LearnSpec{}, err
		}
		if strings.Contains(src, "[") {
			s, err := parseSubfield(src)
			return LearnSpec{Kind: LearnLoad, Src: s, Dst: d}, err
		}
		val, err := learnImmediate(src, d.NBits)
		return LearnSpec{Kind: LearnLoad, Value: val, Dst: d}, err
	}
	if rest, ok := strings.CutPrefix(item, "output:"); ok {
		s, err := parseSubfield(rest)
		return LearnSpec{Kind: LearnOutput, Src: s}, err
	}
	if !strings.Contains(k, "[") {
		return learnFieldMatch(k, v)
	}
	d, err := parseSubfield(k)
	if err != nil || !hasEq {
		return LearnSpec{Kind: LearnMatch, Src: d, Dst: d}, err
	}
	if strings.Contains(v, "[") {
		s, err := parseSubfield(v)
		return LearnSpec{Kind: LearnMatch, Src: s, Dst: d}, err
	}
	val, err := learnImmediate(v, d.NBits)
	return LearnSpec{Kind: LearnMatch, Value: val, Dst: d}, err
}

// learnFieldMatch parses "field=value", an immediate match on a whole
// field.
func learnFieldMatch(k, v string) (LearnSpec, error) {
	f := FieldByName(k)
	if f == nil || f.Width == 0 {
		return LearnSpec{}, fmt.Errorf("unknown field %q", k)
	}
	o, err := parseValue(f, v)
	if err != nil {
		return LearnSpec{}, err
	}
	d := f.All()
	n := (d.NBits + 15) / 16 * 2
	val := make([]byte, max(n, len(o.Value)))
	copy(val[len(val)-len(o.Value):], o.Value)
	return LearnSpec{Kind: LearnMatch, Value: val[len(val)-n:], Dst: d}, nil
}

// learnImmediate encodes v in the whole 16-bit words an nbits-wide
// immediate takes.
func learnImmediate(v string, nbits int) ([]byte, error) {
	z, ok := new(big.Int).SetString(v, 0)
	if !ok || z.Sign() < 0 || z.BitLen() > nbits {
		return nil, fmt.Errorf("bad %d-bit value %q", nbits, v)
	}
	return z.FillBytes(make([]byte, (nbits+15)/16*2)), nil
}
