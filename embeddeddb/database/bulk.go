package database

// bulkOps is the operation count from which a transaction takes its
// small objects from shared arrays (bulkArena): northd's first SB
// transaction has ~42,600 operations, and one allocation per row, row
// change, symbol and scalar value adds up. (Sizing the transaction's
// maps from the operation count was tried and cost more than it saved:
// most names and rows fall in a few tables, and a map sized for all of
// them is sparse, so each lookup misses the cache.) A variable so that
// tests can turn the bulk path off.
var bulkOps = 256

// bulkChunk is how many objects a bulkArena array holds (rows' columns
// come in arrays of 8*bulkChunk datums, 192 KiB). Committed values
// (rows, their columns, scalar atoms, row changes) live on in these
// arrays, so an array stays alive while any of its objects does.
const bulkChunk = 512

// bulkArena hands out a big transaction's rows, row changes, symbols
// and one-atom slices from arrays, instead of one allocation each.
//
// Retention is bounded by what the arrays held when made: an array only
// ever holds objects of this one transaction, so a row that outlives its
// neighbours pins at most its array, never memory the transaction did
// not allocate.
type bulkArena struct {
	symbols []symbol
	changes []RowChange
	atoms   []Atom
	rows    []Row
	cols    []Datum
}

// row returns a row of t with every column at its default, as t.NewRow.
func (a *bulkArena) row(t *Table, uuid string) *Row {
	if len(a.rows) == cap(a.rows) {
		a.rows = make([]Row, 0, bulkChunk)
	}
	n := len(t.Columns)
	if len(a.cols)+n > cap(a.cols) {
		a.cols = make([]Datum, 0, max(n, 8*bulkChunk))
	}
	k := len(a.cols)
	a.cols = append(a.cols, t.defaults...)
	a.rows = append(a.rows, Row{UUID: uuid, Cols: a.cols[k : k+n : k+n]})
	return &a.rows[len(a.rows)-1]
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
		tx.symbols = map[string]*symbol{}
	}
	tx.symbols[name] = s
	return s
}

// newRow returns a row of t with every column at its default.
func (tx *txn) newRow(t *Table, uuid string) *Row {
	if tx.bulk == nil {
		return t.NewRow(uuid)
	}
	return tx.bulk.row(t, uuid)
}

// newChange returns a row change for the transaction.
func (tx *txn) newChange(rc RowChange) *RowChange {
	if tx.bulk == nil {
		return &rc
	}
	return tx.bulk.change(rc)
}
