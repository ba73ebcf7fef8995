package lflow

// Expr is a match expression as parsed: And, Or, Not, Cmp, Pred, Call or
// Bool.
type Expr interface{ exprNode() }

// And is the conjunction of its terms; Or the disjunction.
type (
	And []Expr
	Or  []Expr
)

// Not negates X.
type Not struct{ X Expr }

// Bool is the literal 1 (true) or 0 (false).
type Bool bool

// Pred is a mention of a predicate symbol such as ip4 or nd_ns.
type Pred struct{ Sym *Symbol }

// Call is a match function, is_chassis_resident("lport").
type Call struct {
	Name string
	Arg  string
}

// Ref names a field, subfield or a bit range of one: reg0[0..15].
type Ref struct {
	Sym    *Symbol
	Lo, Hi int  // bit range within Sym; the whole field unless Sliced
	Sliced bool // written with [..]
}

// Width is the number of bits the reference covers.
func (r Ref) Width() int { return r.Hi - r.Lo + 1 }

// Item is one element on the right of a comparison: a constant or a
// reference to an address set ($name) or port group (@name).
type Item struct {
	Const Const
	Set   string // "$as" or "@pg"; empty for a constant
}

// Cmp compares a field with a constant, a set of constants, or a named
// set. Values holds Items with every named set resolved. Items is nil
// when the right side names no set: Values is then the constants as
// written (most comparisons; a second slice of them was garbage).
type Cmp struct {
	Field  Ref
	Op     Kind // Eq, Ne, Lt, Le, Gt or Ge
	Items  []Item
	Values []Const
	Braces bool // the items were written inside { }
	Bare   bool // a 1-bit field written alone: vlan.tci[12], ct.est
}

func (And) exprNode()  {}
func (Or) exprNode()   {}
func (Not) exprNode()  {}
func (Bool) exprNode() {}
func (Pred) exprNode() {}
func (Call) exprNode() {}
func (Cmp) exprNode()  {}

// Sets resolves the named sets a match may refer to. Address set members
// are constants in text form ("10.0.0.1", "fd00::/64",
// "00:00:00:00:00:01"); port group members are logical port names.
type Sets interface {
	AddressSet(name string) ([]string, bool)
	PortGroup(name string) ([]string, bool)
}

// ConstSets is Sets that can also give an address set's members
// parsed (as ParseConsts does, with its error), so that a large set is
// not parsed again for every match that names it. The parser does not
// modify or keep the slice.
type ConstSets interface {
	Sets
	AddressSetConsts(name string) (members []Const, ok bool, err error)
}

// MapSets is a Sets backed by maps.
type MapSets struct {
	AddressSets map[string][]string
	PortGroups  map[string][]string
}

func (m MapSets) AddressSet(name string) ([]string, bool) {
	v, ok := m.AddressSets[name]
	return v, ok
}

func (m MapSets) PortGroup(name string) ([]string, bool) {
	v, ok := m.PortGroups[name]
	return v, ok
}
