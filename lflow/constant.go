package lflow

import (
	"fmt"
	"net/netip"
	"strings"
)

// Format is how an integer constant was written, and how it is rendered.
type Format uint8

const (
	Decimal Format = iota
	Hexadecimal
	IPv4
	IPv6
	Ethernet
)

// Const is a constant: an integer (possibly masked) or a string.
//
// Its fields are ordered, and Format is a byte, so that it takes 56
// bytes rather than 72: every parsed match and action holds several
// (an assignment holds two in its Value), and a full compile of the
// controller's SB parses some 100,000 texts.
type Const struct {
	Str    string
	Value  U128
	Mask   U128 // meaningful only when Masked
	Format Format
	IsStr  bool
	Masked bool
	CIDR   bool // the mask was written as a prefix length
}

// IntConst returns an unmasked integer constant.
func IntConst(v U128, f Format) Const { return Const{Value: v, Format: f} }

// StrConst returns a string constant.
func StrConst(s string) Const { return Const{IsStr: true, Str: s} }

// String renders c in its own format.
func (c Const) String() string {
	if c.IsStr {
		return quote(c.Str)
	}
	s := formatInt(c.Value, c.Format)
	switch {
	case c.CIDR:
		s += fmt.Sprintf("/%d", c.Mask.OnesCount())
	case c.Masked:
		s += "/" + formatInt(c.Mask, c.Format)
	}
	return s
}

func formatInt(v U128, f Format) string {
	switch f {
	case Hexadecimal:
		return v.Hex()
	case IPv4:
		return netip.AddrFrom4([4]byte{byte(v.Lo >> 24), byte(v.Lo >> 16), byte(v.Lo >> 8), byte(v.Lo)}).String()
	case IPv6:
		var b [16]byte
		for i := 0; i < 8; i++ {
			b[i] = byte(v.Hi >> (56 - 8*i))
			b[8+i] = byte(v.Lo >> (56 - 8*i))
		}
		return netip.AddrFrom16(b).String()
	case Ethernet:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(v.Lo>>40), byte(v.Lo>>32),
			byte(v.Lo>>24), byte(v.Lo>>16), byte(v.Lo>>8), byte(v.Lo))
	}
	return v.Dec()
}

// ParseConst parses a single constant, as used in address sets.
func ParseConst(s string) (Const, error) {
	toks, err := Lex(s)
	if err != nil {
		return Const{}, err
	}
	if len(toks) != 2 || (toks[0].Kind != Int && toks[0].Kind != String) {
		return Const{}, fmt.Errorf("%q is not a constant", s)
	}
	if toks[0].Kind == String {
		return StrConst(toks[0].Text), nil
	}
	return toks[0].Const, nil
}

// mask returns the constant's effective mask over width bits.
func (c Const) mask(width int) U128 {
	if c.Masked {
		return c.Mask.And(Ones(width))
	}
	return Ones(width)
}

func (c Const) withMask(m Const) (Const, error) {
	if m.Masked || m.IsStr {
		return c, fmt.Errorf("invalid mask")
	}
	c.Masked = true
	width := map[Format]int{IPv4: 32, IPv6: 128, Ethernet: 48}[c.Format]
	if m.Format == Decimal && width != 0 {
		n := int(m.Value.Lo)
		if m.Value.Hi != 0 || n > width {
			return c, fmt.Errorf("prefix length %s too long for a %d-bit address", m.Value.Dec(), width)
		}
		c.Mask, c.CIDR = Ones(n).Lsh(width-n), true
		return c, nil
	}
	c.Mask = m.Value
	return c, nil
}

// scanConst reads a constant at the start of s. It returns n == 0 when s
// starts with an identifier instead.
func scanConst(s string, pos int) (Const, int, error) {
	if s == "" {
		return Const{}, 0, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return scanHex(s, pos)
	}
	run := prefixOf(s, func(c byte) bool { return isHexChar(c) || c == ':' || c == '.' })
	if strings.Contains(run, ":") {
		if c, n, ok := scanEthernet(run); ok {
			return c, n, nil
		}
		if a, err := netip.ParseAddr(run); err == nil && a.Is6() && !followedByIdent(s, len(run)) {
			b := a.As16()
			return IntConst(u128From(b[:]), IPv6), len(run), nil
		}
	}
	if !isDigit(s[0]) {
		return Const{}, 0, nil // an identifier, or "::" that is not an address
	}
	dotted := prefixOf(s, func(c byte) bool { return isDigit(c) || c == '.' })
	if strings.Contains(dotted, ".") && !strings.Contains(dotted, "..") {
		a, err := netip.ParseAddr(dotted)
		if err != nil || !a.Is4() {
			return Const{}, 0, errAt(pos, "invalid IPv4 address `%s'", dotted)
		}
		b := a.As4()
		return IntConst(u128From(b[:]), IPv4), len(dotted), nil
	}
	return scanDecimal(s, pos)
}

func prefixOf(s string, ok func(byte) bool) string {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return s[:i]
}

func followedByIdent(s string, n int) bool {
	return n < len(s) && isIdentChar(s[n]) && !strings.HasPrefix(s[n:], "..")
}

func u128From(b []byte) U128 {
	var v U128
	for _, x := range b {
		v, _ = v.MulAdd(256, uint64(x))
	}
	return v
}

func scanEthernet(run string) (Const, int, bool) {
	if len(run) < 17 || (len(run) > 17 && run[17] == ':') {
		return Const{}, 0, false
	}
	var v U128
	for i := 0; i < 6; i++ {
		p := run[3*i : 3*i+2]
		if !isHexChar(p[0]) || !isHexChar(p[1]) || (i < 5 && run[3*i+2] != ':') {
			return Const{}, 0, false
		}
		v, _ = v.MulAdd(256, uint64(hexVal(p[0])<<4|hexVal(p[1])))
	}
	return IntConst(v, Ethernet), 17, true
}

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func scanHex(s string, pos int) (Const, int, error) {
	digits := prefixOf(s[2:], isHexChar)
	n := 2 + len(digits)
	if digits == "" || followedByIdent(s, n) {
		return Const{}, 0, errAt(pos, "invalid hexadecimal constant `%s'", prefixOf(s, isIdentChar))
	}
	var v U128
	for i := 0; i < len(digits); i++ {
		var over bool
		if v, over = v.MulAdd(16, uint64(hexVal(digits[i]))); over {
			return Const{}, 0, errAt(pos, "hexadecimal constant too large")
		}
	}
	return IntConst(v, Hexadecimal), n, nil
}

func scanDecimal(s string, pos int) (Const, int, error) {
	digits := prefixOf(s, isDigit)
	if followedByIdent(s, len(digits)) {
		return Const{}, 0, errAt(pos, "invalid numeric constant `%s'", prefixOf(s, isIdentChar))
	}
	var v U128
	for i := 0; i < len(digits); i++ {
		var over bool
		if v, over = v.MulAdd(10, uint64(digits[i]-'0')); over {
			return Const{}, 0, errAt(pos, "decimal constant too large")
		}
	}
	return IntConst(v, Decimal), len(digits), nil
}
