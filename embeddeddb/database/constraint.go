package database

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// checkAtoms checks every key and value of d against the column's base
// type constraints: enums, integer and real ranges, string lengths.
func (c *Column) checkAtoms(d Datum) *Error {
	for i, k := range d.Keys {
		if err := c.Key.check(k); err != nil {
			return err
		}
		if c.Value != nil {
			if err := c.Value.check(d.Values[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (bt *BaseType) check(a Atom) *Error {
	if bt.Enum != nil {
		if bt.Enum.find(bt.Type, a) < 0 {
			return errorf(TagConstraint, "%s is not one of the allowed values (%s)", atomText(bt.Type, a), enumText(bt))
		}
		return nil
	}
	switch bt.Type {
	case TypeInteger:
		return checkIntRange(a.N, bt.MinInt, bt.MaxInt)
	case TypeReal:
		return checkRealRange(a.Real(), bt.MinReal, bt.MaxReal)
	case TypeString:
		n := utf8.RuneCountInString(a.S)
		if n < bt.MinLen {
			return errorf(TagConstraint, "\"%s\" length %d is less than minimum allowed length %d", a.S, n, bt.MinLen)
		}
		if n > bt.MaxLen {
			return errorf(TagConstraint, "\"%s\" length %d is greater than maximum allowed length %d", a.S, n, bt.MaxLen)
		}
	}
	return nil
}

func checkIntRange(n, lo, hi int64) *Error {
	if n >= lo && n <= hi {
		return nil
	}
	switch {
	case lo != math.MinInt64 && hi != math.MaxInt64:
		return errorf(TagConstraint, "%d is not in the valid range %d to %d (inclusive)", n, lo, hi)
	case lo != math.MinInt64:
		return errorf(TagConstraint, "%d is less than minimum allowed value %d", n, lo)
	default:
		return errorf(TagConstraint, "%d is greater than maximum allowed value %d", n, hi)
	}
}

func checkRealRange(f, lo, hi float64) *Error {
	if f >= lo && f <= hi {
		return nil
	}
	fs := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case lo != -math.MaxFloat64 && hi != math.MaxFloat64:
		return errorf(TagConstraint, "%s is not in the valid range %s to %s (inclusive)", fs(f), fs(lo), fs(hi))
	case lo != -math.MaxFloat64:
		return errorf(TagConstraint, "%s is less than minimum allowed value %s", fs(f), fs(lo))
	default:
		return errorf(TagConstraint, "%s is greater than maximum allowed value %s", fs(f), fs(hi))
	}
}

// atomText renders an atom the way ovsdb-server's error messages do.
func atomText(t AtomicType, a Atom) string {
	switch t {
	case TypeInteger:
		return strconv.FormatInt(a.N, 10)
	case TypeReal:
		return strconv.FormatFloat(a.Real(), 'g', -1, 64)
	case TypeBoolean:
		return strconv.FormatBool(a.N != 0)
	case TypeString:
		if a.S == "" || strings.ContainsAny(a.S, " \t\n\",[]{}=:") {
			return strconv.Quote(a.S)
		}
		return a.S
	default:
		return a.S
	}
}

func enumText(bt *BaseType) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, k := range bt.Enum.Keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(atomText(bt.Type, k))
	}
	sb.WriteByte(']')
	return sb.String()
}
