package lflow

// SymbolKind says what a symbol stands for.
type SymbolKind int

const (
	// Field is a packet header or metadata field with an OpenFlow home.
	Field SymbolKind = iota
	// Subfield is an alias for a bit range of another field.
	Subfield
	// Predicate is shorthand for a Boolean expression.
	Predicate
)

// Level is a field's level of measurement (ovn-sb(5), "Level of
// Measurement"): ordinal fields may be masked, sliced and compared with
// relational operators; nominal fields only tested for equality.
type Level int

const (
	Ordinal Level = iota
	Nominal
)

// Symbol is one entry of the symbol table.
type Symbol struct {
	Name   string
	Kind   SymbolKind
	Width  int  // bits; 0 for string fields, 1 for predicates
	String bool // inport, outport: values are port names
	Level  Level
	Format Format // how normalised matches render values of this field

	// OF is the OpenFlow (NXM/OXM) field a Field lives in, as ovs-ofctl
	// spells it; "" for fields that exist only as action targets.
	OF string

	// Parent, Lo and Hi define a Subfield as Parent[Lo..Hi].
	Parent     string
	Lo, Hi     int
	Expansion  string // a Predicate's meaning
	Prereq     string // what any use of the symbol implies
	ReadOnly   bool   // may not be assigned by actions
	ActionOnly bool   // exists only as an action target (icmp4.frag_mtu)
}

// Symtab maps symbol names to symbols.
type Symtab map[string]*Symbol

// NewSymtab returns a table holding syms.
func NewSymtab(syms []Symbol) Symtab {
	t := make(Symtab, len(syms))
	for i := range syms {
		t[syms[i].Name] = &syms[i]
	}
	return t
}

// Base returns the Field a symbol ultimately lives in and the bit range
// it occupies there.
func (t Symtab) Base(s *Symbol) (f *Symbol, lo, hi int) {
	lo, hi = 0, s.Width-1
	for s.Kind == Subfield {
		p := t[s.Parent]
		lo, hi = lo+s.Lo, hi+s.Lo
		s = p
	}
	return s, lo, hi
}
