package database

// Diff returns the update2-style difference from old to new: for columns
// holding at most one value (scalars and optional values) the new value,
// as ovsdb-server writes it; for sets the elements added or removed; for maps the
// pairs removed (with their old value), added, or changed (with the new
// value). ApplyDiff(old, Diff(old, new)) equals new.
func (c *Column) Diff(old, new Datum) Datum {
	if c.Value == nil && c.Max == 1 {
		return new
	}
	out := Datum{}
	i, j := 0, 0
	kt := c.Key.Type
	for i < len(old.Keys) || j < len(new.Keys) {
		var r int
		switch {
		case i == len(old.Keys):
			r = 1
		case j == len(new.Keys):
			r = -1
		default:
			r = compareAtoms(kt, old.Keys[i], new.Keys[j])
		}
		switch {
		case r < 0:
			out.add(c, old, i)
			i++
		case r > 0:
			out.add(c, new, j)
			j++
		default:
			if c.Value != nil && compareAtoms(c.Value.Type, old.Values[i], new.Values[j]) != 0 {
				out.add(c, new, j)
			}
			i++
			j++
		}
	}
	return out
}

func (d *Datum) add(c *Column, from Datum, i int) {
	d.Keys = append(d.Keys, from.Keys[i])
	if c.Value != nil {
		d.Values = append(d.Values, from.Values[i])
	}
}

// ApplyDiff applies a difference made by Diff.
func (c *Column) ApplyDiff(old, diff Datum) Datum {
	if c.Value == nil && c.Max == 1 {
		return diff
	}
	out := Datum{}
	i, j := 0, 0
	kt := c.Key.Type
	for i < len(old.Keys) || j < len(diff.Keys) {
		var r int
		switch {
		case i == len(old.Keys):
			r = 1
		case j == len(diff.Keys):
			r = -1
		default:
			r = compareAtoms(kt, old.Keys[i], diff.Keys[j])
		}
		switch {
		case r < 0:
			out.add(c, old, i)
			i++
		case r > 0:
			out.add(c, diff, j)
			j++
		default:
			if c.Value != nil && compareAtoms(c.Value.Type, old.Values[i], diff.Values[j]) != 0 {
				out.add(c, diff, j)
			}
			i++
			j++
		}
	}
	return out
}

// IsDefault reports whether d is the column's default value.
func (c *Column) IsDefault(d Datum) bool {
	if c.Min == 0 {
		return len(d.Keys) == 0
	}
	// defaultDatum(c), compared without building it: IsDefault runs for
	// every column of every row a commit record or monitor update writes.
	if len(d.Keys) != 1 || compareAtoms(c.Key.Type, d.Keys[0], defaultAtom(c.Key.Type)) != 0 {
		return false
	}
	return c.Value == nil || len(d.Values) == 1 && compareAtoms(c.Value.Type, d.Values[0], defaultAtom(c.Value.Type)) == 0
}
