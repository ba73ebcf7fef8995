package lflow

// Action is one logical-flow action: Assign, Exchange, Decrement or Op.
type Action interface{ actionNode() }

// Value is the source of an assignment or an action argument: a constant
// (integer or string), a field reference, a bare word (verdict=allow), a
// braced list (dns_server = {8.8.8.8, 8.8.4.4}), or an integer range
// (the NAT port range in ct_snat(172.16.0.2, 1000-2000)).
//
// A range's high end is a pointer: ranges are rare, and an assignment
// (most actions) holds a Value.
type Value struct {
	Kind  ValueKind
	Const Const  // the constant, or a range's low end
	High  *Const // a range's high end
	Ref   Ref
	Word  string
	List  []Value
}

// ValueKind says which member of a Value is set.
type ValueKind int

const (
	ConstValue ValueKind = iota
	RefValue
	WordValue
	ListValue
	RangeValue
)

// Assign is "dst = src;" with a constant, a string or a field as source
// (the last is a move).
type Assign struct {
	Dst Ref
	Src Value
}

// Exchange is "a <-> b;".
type Exchange struct{ A, B Ref }

// Decrement is "ip.ttl--;".
type Decrement struct{ Field Ref }

// Arg is one argument of an Op: positional (Key is nil) or key=value.
type Arg struct {
	Key   *Value
	Value Value
}

// Backend is one ct_lb backend: an IPv4 or IPv6 address and an optional
// port (0 when absent).
type Backend struct {
	IP   Const
	Port int
}

// LB holds the arguments of ct_lb and ct_lb_mark: the backends, then
// ";"-separated options such as hash_fields="ip_src,ip_dst" or skip_snat.
type LB struct {
	Backends []Backend
	Options  []Arg
}

// Op is a named action: next, output, ct_commit { ... }, put_arp(...),
// reg0[3] = put_dhcp_opts(...), and so on.
type Op struct {
	Result  *Ref // "R = name(...)": where the 1-bit (or port) result goes
	Name    string
	Parens  bool // written with an argument list, possibly empty
	Args    []Arg
	LB      *LB // ct_lb and ct_lb_mark arguments
	HasBody bool
	Body    []Action
}

func (Assign) actionNode()    {}
func (Exchange) actionNode()  {}
func (Decrement) actionNode() {}
func (Op) actionNode()        {}
