package openflow

import "fmt"

// appendProp appends an OpenFlow property (type, length, value) padded to
// a multiple of 8 bytes.
func appendProp(b []byte, typ uint16, v []byte) []byte {
	start := len(b)
	b = put16(put16(b, typ), uint16(4+len(v)))
	return pad8(append(b, v...), start)
}

// appendProp64 appends a property whose 64-bit value starts 8 bytes in, as
// OVS does for 64-bit values (ofpprop_put_be64).
func appendProp64(b []byte, typ uint16, v uint64) []byte {
	b = put16(put16(b, typ), 16)
	return put64(put32(b, 0), v)
}

// walkProps calls fn with the type and value of each property in b.
func walkProps(b []byte, fn func(typ uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("property: %w", ErrShort)
		}
		typ, n := be16(b), int(be16(b[2:]))
		padded := (n + 7) / 8 * 8
		if n < 4 || n > len(b) {
			return fmt.Errorf("property %d length %d: %w", typ, n, ErrShort)
		}
		if err := fn(typ, b[4:n]); err != nil {
			return err
		}
		if padded > len(b) {
			padded = len(b)
		}
		b = b[padded:]
	}
	return nil
}
