package database

// bulkOps is the operation count from which a transaction takes its
// small objects from shared arrays (bulkArena) and sizes its maps from
// the operation count: northd's first SB transaction has ~42,600
// operations, and one allocation and one map rehash per symbol, row
// change and scalar value add up to a third of its time.
var bulkOps = 256

// bulkChunk is how many objects a bulkArena array holds. Committed
// values (scalar atoms, row changes) live on in these arrays, so an
// array stays alive while any of its objects does: a chunk is small
// enough that what a long-lived survivor pins is a few kilobytes.
const bulkChunk = 512

// bulkArena hands out a big transaction's symbols, row changes and
// one-atom slices from arrays of bulkChunk, instead of one allocation
// each.
type bulkArena struct {
	symbols []symbol
	changes []RowChange
	atoms   []Atom
}

func (a *bulkArena) symbol(uuid string) *symbol {
	if len(a.symbols) == cap(a.symbols) {
		a.symbols = make([]symbol, 0, bulkChunk)
	}
	a.symbols = append(a.symbols, symbol{uuid: uuid})
	return &a.symbols[len(a.symbols)-1]
}

func (a *bulkArena) change(rc RowChange) *RowChange {
	if len(a.changes) == cap(a.changes) {
		a.changes = make([]RowChange, 0, bulkChunk)
	}
	a.changes = append(a.changes, rc)
	return &a.changes[len(a.changes)-1]
}

// oneAtom returns a slice of length and capacity 1 holding x: an append
// to it copies, so it never writes into its neighbours.
func (a *bulkArena) oneAtom(x Atom) []Atom {
	if len(a.atoms) == cap(a.atoms) {
		a.atoms = make([]Atom, 0, bulkChunk)
	}
	a.atoms = append(a.atoms, x)
	n := len(a.atoms)
	return a.atoms[n-1 : n : n]
}

// atomSource is implemented by the Symbols of a transaction, so that
// parseDatum takes a scalar's one-atom slice from its arena.
type atomSource interface {
	oneAtom(a Atom) []Atom
}

// oneAtom implements atomSource.
func (tx *txn) oneAtom(a Atom) []Atom {
	if tx.bulk == nil {
		return []Atom{a}
	}
	return tx.bulk.oneAtom(a)
}

// newSymbol binds a fresh symbol to uuid.
func (tx *txn) newSymbol(name, uuid string) *symbol {
	var s *symbol
	if tx.bulk != nil {
		s = tx.bulk.symbol(uuid)
	} else {
		s = &symbol{uuid: uuid}
	}
	if tx.symbols == nil {
		tx.symbols = make(map[string]*symbol, tx.mapHint())
	}
	tx.symbols[name] = s
	return s
}

// newChange returns a row change for the transaction.
func (tx *txn) newChange(rc RowChange) *RowChange {
	if tx.bulk == nil {
		return &rc
	}
	return tx.bulk.change(rc)
}

// mapHint sizes a map keyed by the transaction's rows or names: the
// operations not yet run, for a big transaction, else nothing.
func (tx *txn) mapHint() int {
	if tx.bulk == nil {
		return 0
	}
	return tx.opCount - tx.opNum + 1
}
