package openflow

import (
	"fmt"
	"strings"
)

// Learn flags (NX_LEARN_F_*).
const (
	LearnSendFlowRem   = 1 << 0
	LearnDeleteLearned = 1 << 1
)

// LearnKind is what a learn spec does in the learned flow.
type LearnKind uint16

// Learn spec kinds (NX_LEARN_DST_*).
const (
	LearnMatch  LearnKind = 0
	LearnLoad   LearnKind = 1
	LearnOutput LearnKind = 2
)

const nxLearn = 16

// Learn adds or updates a flow in Table built from the packet
// (NXAST_LEARN). Priority 0x8000 is the OpenFlow default.
type Learn struct {
	Table          uint8
	IdleTimeout    uint16
	HardTimeout    uint16
	Priority       uint16
	Cookie         uint64
	Flags          uint16
	FinIdleTimeout uint16
	FinHardTimeout uint16
	Specs          []LearnSpec
}

// LearnSpec is one part of the learned flow: a match on Dst, a load into
// Dst, or an output to the port in Src. The value comes from Src, or, when
// Src.Field is nil, is the immediate Value (Dst.NBits wide, big-endian,
// in a whole number of 16-bit words).
type LearnSpec struct {
	Kind  LearnKind
	Src   Subfield
	Value []byte
	Dst   Subfield
}

func (s LearnSpec) nbits() int {
	if s.Src.Field != nil {
		return s.Src.NBits
	}
	return s.Dst.NBits
}

func (a *Learn) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(put16(put16(nxHeader(b, nxLearn), a.IdleTimeout), a.HardTimeout), a.Priority)
	b = append(put16(put64(b, a.Cookie), a.Flags), a.Table, 0)
	b = put16(put16(b, a.FinIdleTimeout), a.FinHardTimeout)
	for _, s := range a.Specs {
		var err error
		if b, err = s.append(b); err != nil {
			return nil, fmt.Errorf("learn: %w", err)
		}
	}
	return fixLen(pad8(b, start), start), nil
}

func (s LearnSpec) append(b []byte) ([]byte, error) {
	h := uint16(s.Kind)<<11 | uint16(s.nbits())
	if s.Src.Field == nil {
		h |= 1 << 13
	}
	b = put16(b, h)
	var err error
	if s.Src.Field != nil {
		if b, err = s.Src.appendNXMHeader(b); err != nil {
			return nil, err
		}
		b = put16(b, uint16(s.Src.Ofs))
	} else {
		if want := (s.nbits() + 15) / 16 * 2; len(s.Value) != want {
			return nil, fmt.Errorf("learn immediate of %d bytes for %d bits, want %d", len(s.Value), s.nbits(), want)
		}
		b = append(b, s.Value...)
	}
	if s.Kind == LearnOutput {
		return b, nil
	}
	if b, err = s.Dst.appendNXMHeader(b); err != nil {
		return nil, err
	}
	return put16(b, uint16(s.Dst.Ofs)), nil
}

func decodeLearn(a []byte) (Action, error) {
	if len(a) < 32 {
		return nil, fmt.Errorf("learn: %w", ErrShort)
	}
	l := &Learn{IdleTimeout: be16(a[10:]), HardTimeout: be16(a[12:]), Priority: be16(a[14:]),
		Cookie: be64(a[16:]), Flags: be16(a[24:]), Table: a[26],
		FinIdleTimeout: be16(a[28:]), FinHardTimeout: be16(a[30:])}
	for p := a[32:]; len(p) >= 2 && be16(p) != 0; {
		s, rest, err := decodeLearnSpec(p)
		if err != nil {
			return nil, fmt.Errorf("learn: %w", err)
		}
		l.Specs, p = append(l.Specs, s), rest
	}
	return l, nil
}

func decodeLearnSpec(p []byte) (LearnSpec, []byte, error) {
	h := be16(p)
	n := int(h & 0x3ff)
	s := LearnSpec{Kind: LearnKind(h>>11) & 3}
	p = p[2:]
	if h&(1<<13) == 0 {
		f, rest, err := decodeFieldHeader(p)
		if err != nil || len(rest) < 2 {
			return s, nil, fmt.Errorf("learn spec source: %w", ErrShort)
		}
		s.Src, p = Subfield{Field: f, Ofs: int(be16(rest)), NBits: n}, rest[2:]
	} else {
		k := (n + 15) / 16 * 2
		if len(p) < k {
			return s, nil, fmt.Errorf("learn spec value: %w", ErrShort)
		}
		s.Value, p = clone(p[:k]), p[k:]
	}
	if s.Kind == LearnOutput {
		return s, p, nil
	}
	f, rest, err := decodeFieldHeader(p)
	if err != nil || len(rest) < 2 {
		return s, nil, fmt.Errorf("learn spec destination: %w", ErrShort)
	}
	s.Dst = Subfield{Field: f, Ofs: int(be16(rest)), NBits: n}
	return s, rest[2:], nil
}

func (a *Learn) String() string {
	p := []string{fmt.Sprintf("table=%d", a.Table)}
	for _, o := range []struct {
		name string
		v    uint16
	}{{"idle_timeout", a.IdleTimeout}, {"hard_timeout", a.HardTimeout},
		{"fin_idle_timeout", a.FinIdleTimeout}, {"fin_hard_timeout", a.FinHardTimeout}} {
		if o.v != 0 {
			p = append(p, fmt.Sprintf("%s=%d", o.name, o.v))
		}
	}
	if a.Priority != 0x8000 {
		p = append(p, fmt.Sprintf("priority=%d", a.Priority))
	}
	if a.Flags&LearnSendFlowRem != 0 {
		p = append(p, "send_flow_rem")
	}
	if a.Flags&LearnDeleteLearned != 0 {
		p = append(p, "delete_learned")
	}
	if a.Cookie != 0 {
		p = append(p, "cookie="+hexU(a.Cookie))
	}
	for _, s := range a.Specs {
		p = append(p, s.String())
	}
	return "learn(" + strings.Join(p, ",") + ")"
}

func (s LearnSpec) String() string {
	imm := s.Src.Field == nil
	switch {
	case s.Kind == LearnMatch && imm:
		d := s.Dst
		if d.Ofs == 0 && d.NBits == d.Field.nbits(d.Field.nxmWidth()) && d.Field.Width > 0 {
			v := s.Value[len(s.Value)-min(len(s.Value), d.Field.Width):]
			if len(v) < d.Field.Width {
				v = append(make([]byte, d.Field.Width-len(v)), v...)
			}
			return d.Field.Name + "=" + valueString(OXM{Field: d.Field, Value: v})
		}
		return d.String() + "=" + hexC(s.Value)
	case s.Kind == LearnMatch:
		if s.Src.Field == s.Dst.Field && s.Src.Ofs == s.Dst.Ofs {
			return s.Dst.String()
		}
		return s.Dst.String() + "=" + s.Src.String()
	case s.Kind == LearnLoad && imm:
		return "load:" + hexC(s.Value) + "->" + s.Dst.String()
	case s.Kind == LearnLoad:
		return "load:" + s.Src.String() + "->" + s.Dst.String()
	}
	return "output:" + s.Src.String()
}
