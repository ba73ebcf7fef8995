package lflow

import (
	"fmt"
	"math/bits"
)

// U128 is an unsigned 128-bit integer, wide enough for every logical
// field (xxreg0 and IPv6 addresses are the widest).
type U128 struct{ Hi, Lo uint64 }

// Ones returns a value with the low n bits set.
func Ones(n int) U128 {
	switch {
	case n <= 0:
		return U128{}
	case n >= 128:
		return U128{^uint64(0), ^uint64(0)}
	case n >= 64:
		return U128{Hi: 1<<(n-64) - 1, Lo: ^uint64(0)}
	}
	return U128{Lo: 1<<n - 1}
}

// BitRange returns a value with bits lo..hi (inclusive) set.
func BitRange(lo, hi int) U128 { return Ones(hi - lo + 1).Lsh(lo) }

func (a U128) And(b U128) U128 { return U128{a.Hi & b.Hi, a.Lo & b.Lo} }
func (a U128) Or(b U128) U128  { return U128{a.Hi | b.Hi, a.Lo | b.Lo} }
func (a U128) Xor(b U128) U128 { return U128{a.Hi ^ b.Hi, a.Lo ^ b.Lo} }
func (a U128) Not() U128       { return U128{^a.Hi, ^a.Lo} }
func (a U128) IsZero() bool    { return a.Hi == 0 && a.Lo == 0 }

// Lsh shifts left by n bits.
func (a U128) Lsh(n int) U128 {
	switch {
	case n <= 0:
		return a
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{Hi: a.Lo << (n - 64)}
	}
	return U128{Hi: a.Hi<<n | a.Lo>>(64-n), Lo: a.Lo << n}
}

// Rsh shifts right by n bits.
func (a U128) Rsh(n int) U128 {
	switch {
	case n <= 0:
		return a
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{Lo: a.Hi >> (n - 64)}
	}
	return U128{Hi: a.Hi >> n, Lo: a.Lo>>n | a.Hi<<(64-n)}
}

// Bit reports whether bit i is set.
func (a U128) Bit(i int) bool { return !a.Rsh(i).And(U128{Lo: 1}).IsZero() }

// Len is the number of bits needed to represent a.
func (a U128) Len() int {
	if a.Hi != 0 {
		return 64 + bits.Len64(a.Hi)
	}
	return bits.Len64(a.Lo)
}

// OnesCount is the number of set bits.
func (a U128) OnesCount() int { return bits.OnesCount64(a.Hi) + bits.OnesCount64(a.Lo) }

// TrailingZeros counts zero bits below the lowest set bit (128 for zero).
func (a U128) TrailingZeros() int {
	if a.Lo != 0 {
		return bits.TrailingZeros64(a.Lo)
	}
	return 64 + bits.TrailingZeros64(a.Hi)
}

// Add1 and Sub1 wrap around.
func (a U128) Add1() U128 {
	lo, c := bits.Add64(a.Lo, 1, 0)
	return U128{a.Hi + c, lo}
}

func (a U128) Sub1() U128 {
	lo, b := bits.Sub64(a.Lo, 1, 0)
	return U128{a.Hi - b, lo}
}

// MulAdd returns a*m+d and whether it overflowed.
func (a U128) MulAdd(m, d uint64) (U128, bool) {
	hiLo, loLo := bits.Mul64(a.Lo, m)
	hiHi, loHi := bits.Mul64(a.Hi, m)
	hi, c := bits.Add64(loHi, hiLo, 0)
	lo, c2 := bits.Add64(loLo, d, 0)
	hi, c3 := bits.Add64(hi, 0, c2)
	return U128{hi, lo}, hiHi != 0 || c != 0 || c3 != 0
}

// Hex renders a as 0x-prefixed hexadecimal without leading zeros.
func (a U128) Hex() string {
	if a.Hi != 0 {
		return fmt.Sprintf("%#x%016x", a.Hi, a.Lo)
	}
	return fmt.Sprintf("%#x", a.Lo)
}

// Dec renders a in decimal.
func (a U128) Dec() string {
	if a.Hi == 0 {
		return fmt.Sprintf("%d", a.Lo)
	}
	var digits []byte
	for !a.IsZero() {
		q, r := a.divmod10()
		digits = append([]byte{byte('0' + r)}, digits...)
		a = q
	}
	return string(digits)
}

func (a U128) divmod10() (U128, uint64) {
	qh, r := bits.Div64(0, a.Hi, 10)
	ql, r := bits.Div64(r, a.Lo, 10)
	return U128{qh, ql}, r
}
