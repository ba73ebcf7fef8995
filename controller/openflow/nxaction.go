package openflow

import (
	"fmt"
	"strings"
)

// Nicira action subtypes (NXAST_*).
const (
	nxResubmit      = 1
	nxRegMove       = 6
	nxNote          = 8
	nxResubmitTable = 14
	nxOutputReg     = 15
	nxDecTTL        = 18
	nxController    = 20
	nxRegLoad2      = 33
	nxConjunction   = 34
	nxCT            = 35
	nxNAT           = 36
	nxController2   = 37
	nxCTClear       = 43
	nxResubmitCT    = 44
	nxCheckLarger   = 49
)

// nxHeader appends the 10-byte Nicira action header with a zero length.
func nxHeader(b []byte, subtype uint16) []byte {
	return put16(put32(put16(put16(b, actExperiment), 0), ExperimenterNicira), subtype)
}

func decodeNXAction(a []byte) (Action, error) {
	if len(a) < 16 {
		return nil, fmt.Errorf("experimenter action: %w", ErrShort)
	}
	if v := be32(a[4:]); v != ExperimenterNicira {
		return nil, fmt.Errorf("action experimenter 0x%x is not Nicira", v)
	}
	sub := be16(a[8:])
	dec, ok := nxDecoders[sub]
	if !ok {
		return nil, fmt.Errorf("unsupported Nicira action subtype %d", sub)
	}
	act, err := dec(a)
	if err != nil {
		return nil, fmt.Errorf("nicira action %d: %w", sub, err)
	}
	return act, nil
}

var nxDecoders map[uint16]func([]byte) (Action, error)

func init() {
	nxDecoders = map[uint16]func([]byte) (Action, error){
		nxResubmit:      decodeResubmit,
		nxResubmitTable: decodeResubmit,
		nxResubmitCT:    decodeResubmit,
		nxRegMove:       decodeMove,
		nxNote:          func(a []byte) (Action, error) { return &Note{Data: clone(a[10:])}, nil },
		nxOutputReg:     decodeOutputReg,
		nxDecTTL:        func([]byte) (Action, error) { return &DecTTL{}, nil },
		nxController:    decodeController,
		nxController2:   decodeController2,
		nxRegLoad2:      decodeRegLoad2,
		nxConjunction:   decodeConjunction,
		nxCT:            decodeCT,
		nxNAT:           decodeNAT,
		nxCTClear:       func([]byte) (Action, error) { return &CTClear{}, nil },
		nxCheckLarger:   decodeCheckPktLarger,
		nxLearn:         decodeLearn,
	}
}

// Resubmit searches table Table (255: the current one) as if the packet
// came in on InPort (PortInPort: its real port); CT resubmits with the
// conntrack original-direction tuple (NXAST_RESUBMIT_TABLE_CT).
type Resubmit struct {
	InPort uint16
	Table  uint8
	CT     bool
}

// ResubmitTable is resubmit(,table).
func ResubmitTable(table uint8) *Resubmit { return &Resubmit{InPort: 0xfff8, Table: table} }

func (a *Resubmit) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	switch {
	case a.CT:
		b = nxHeader(b, nxResubmitCT)
	case a.Table == 255:
		b = nxHeader(b, nxResubmit)
	default:
		b = nxHeader(b, nxResubmitTable)
	}
	b = append(put16(b, a.InPort), a.Table, 0, 0, 0)
	return fixLen(b, start), nil
}

func (a *Resubmit) String() string {
	if a.InPort != 0xfff8 && a.Table == 255 && !a.CT {
		return "resubmit:" + port16String(a.InPort)
	}
	s := "resubmit("
	if a.InPort != 0xfff8 {
		s += port16String(a.InPort)
	}
	s += ","
	if a.Table != 255 {
		s += fmt.Sprint(a.Table)
	}
	if a.CT {
		s += ",ct"
	}
	return s + ")"
}

func decodeResubmit(a []byte) (Action, error) {
	r := &Resubmit{InPort: be16(a[10:]), Table: 255}
	switch be16(a[8:]) {
	case nxResubmitTable:
		r.Table = a[12]
	case nxResubmitCT:
		r.Table, r.CT = a[12], true
	}
	return r, nil
}

// Move copies Src to Dst; both have the same NBits. OpenFlow 1.5 encodes it
// as OFPAT_COPY_FIELD (OVS refuses NXAST_REG_MOVE in 1.5); NXAST_REG_MOVE
// still decodes.
type Move struct {
	Src, Dst Subfield
}

func (a *Move) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(put16(b, actCopyField), 0)
	b = put16(put16(put16(b, uint16(a.Src.NBits)), uint16(a.Src.Ofs)), uint16(a.Dst.Ofs))
	b = zeros(b, 2)
	b, err := a.Src.appendHeader(b)
	if err != nil {
		return nil, fmt.Errorf("move src: %w", err)
	}
	if b, err = a.Dst.appendHeader(b); err != nil {
		return nil, fmt.Errorf("move dst: %w", err)
	}
	return fixLen(pad8(b, start), start), nil
}

func (a *Move) String() string { return "move:" + a.Src.String() + "->" + a.Dst.String() }

func decodeMove(a []byte) (Action, error) {
	if len(a) < 24 {
		return nil, fmt.Errorf("move: %w", ErrShort)
	}
	return decodeMoveBody(a[10:], a[16:])
}

func decodeCopyField(a []byte) (Action, error) {
	if len(a) < 24 {
		return nil, fmt.Errorf("copy_field: %w", ErrShort)
	}
	return decodeMoveBody(a[4:], a[12:])
}

// decodeMoveBody reads n_bits and the src and dst offsets from a and the
// two field headers from h.
func decodeMoveBody(a, h []byte) (Action, error) {
	n, so, do := int(be16(a)), int(be16(a[2:])), int(be16(a[4:]))
	src, rest, err := decodeFieldHeader(h)
	if err != nil {
		return nil, err
	}
	dst, _, err := decodeFieldHeader(rest)
	if err != nil {
		return nil, err
	}
	return &Move{Src: Subfield{src, so, n}, Dst: Subfield{dst, do, n}}, nil
}

// Note is a comment carried in the flow (NXAST_NOTE). The encoding pads it
// with zero bytes to a multiple of 8 (6, 14, 22... bytes need none), and
// those zeros come back on decoding and in ovs-ofctl's output.
type Note struct{ Data []byte }

func (a *Note) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = append(nxHeader(b, nxNote), a.Data...)
	for len(b)-start < 16 || (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return fixLen(b, start), nil
}

func (a *Note) String() string { return "note:" + dotHex(a.Data) }

func dotHex(b []byte) string {
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(s, ".")
}

// OutputReg outputs to the port number held in Src (NXAST_OUTPUT_REG).
type OutputReg struct {
	Src    Subfield
	MaxLen uint16
}

func (a *OutputReg) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(nxHeader(b, nxOutputReg), a.Src.ofsNBits())
	b, err := a.Src.appendNXMHeader(b)
	if err != nil {
		return nil, fmt.Errorf("output_reg: %w", err)
	}
	b = zeros(put16(b, a.MaxLen), 6)
	return fixLen(b, start), nil
}

func (a *OutputReg) String() string { return "output:" + a.Src.String() }

func decodeOutputReg(a []byte) (Action, error) {
	if len(a) < 24 {
		return nil, fmt.Errorf("output_reg: %w", ErrShort)
	}
	f, _, err := decodeFieldHeader(a[12:16])
	if err != nil {
		return nil, err
	}
	return &OutputReg{Src: subfieldFromOfsNBits(f, be16(a[10:])), MaxLen: be16(a[16:])}, nil
}

func decodeRegLoad2(a []byte) (Action, error) {
	o, _, err := decodeOXM(a[10:])
	if err != nil {
		return nil, fmt.Errorf("reg_load2: %w", err)
	}
	return &SetField{OXM: o}, nil
}

// Conjunction adds the flow to clause Clause (0-based) of NClauses of
// conjunctive match ID (NXAST_CONJUNCTION).
type Conjunction struct {
	ID       uint32
	Clause   uint8
	NClauses uint8
}

func (a *Conjunction) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = append(nxHeader(b, nxConjunction), a.Clause, a.NClauses)
	return fixLen(put32(b, a.ID), start), nil
}

func (a *Conjunction) String() string {
	return fmt.Sprintf("conjunction(%d,%d/%d)", a.ID, a.Clause+1, a.NClauses)
}

func decodeConjunction(a []byte) (Action, error) {
	return &Conjunction{Clause: a[10], NClauses: a[11], ID: be32(a[12:])}, nil
}

// CTClear clears the connection-tracking state (NXAST_CT_CLEAR).
type CTClear struct{}

func (*CTClear) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	return fixLen(zeros(nxHeader(b, nxCTClear), 6), start), nil
}

func (*CTClear) String() string { return "ct_clear" }

// CheckPktLarger sets the Dst bit to whether the packet is longer than
// PktLen bytes (NXAST_CHECK_PKT_LARGER).
type CheckPktLarger struct {
	PktLen uint16
	Dst    Subfield
}

func (a *CheckPktLarger) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(put16(nxHeader(b, nxCheckLarger), a.PktLen), uint16(a.Dst.Ofs))
	b, err := a.Dst.appendNXMHeader(b)
	if err != nil {
		return nil, fmt.Errorf("check_pkt_larger: %w", err)
	}
	for len(b)-start < 24 {
		b = append(b, 0)
	}
	return fixLen(b, start), nil
}

func (a *CheckPktLarger) String() string {
	return fmt.Sprintf("check_pkt_larger(%d)->%s", a.PktLen, a.Dst)
}

func decodeCheckPktLarger(a []byte) (Action, error) {
	if len(a) < 24 {
		return nil, fmt.Errorf("check_pkt_larger: %w", ErrShort)
	}
	f, _, err := decodeFieldHeader(a[14:])
	if err != nil {
		return nil, err
	}
	return &CheckPktLarger{PktLen: be16(a[10:]), Dst: Subfield{Field: f, Ofs: int(be16(a[12:])), NBits: 1}}, nil
}
