package northd

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// unmonitored are the SB tables northd does not keep in its cache: the
// logical flows and their datapath groups, by far the largest tables,
// and the datapaths, multicast groups, port groups and address sets; all
// are written only by northd, and incremental rounds keep their own
// index of what they wrote (sbIndex). Keeping them cached cost more CPU
// (decoding the echo of every write: 42,000 rows after a bulk load) and
// memory than the rest of northd; only a full round reads them, with one
// select each (selectAll).
var unmonitored = []string{sbdb.LogicalFlowTable, sbdb.LogicalDPGroupTable, sbdb.DatapathBindingTable,
	sbdb.MulticastGroupTable, sbdb.PortGroupTable, sbdb.AddressSetTable}

// echoed reports whether the rows northd inserts into table come back
// to it through its SB monitor: not in the unmonitored tables, nor in
// Port_Binding, where northd's own rows are unbound (see monitor).
func echoed(table string) bool {
	return table != sbdb.PortBindingTable && !slices.Contains(unmonitored, table)
}

// monitor monitors every table of m but skip, all columns but for
// Port_Binding: northd's incremental rounds need only what NB feedback
// reads (logical port, chassis, up; see portsUp), and a full round
// selects the whole table. Of Port_Binding only the bound rows
// (chassis set) are monitored: an unbound port is down whatever else
// it says, a row that loses its chassis leaves the monitor as if
// deleted (its port goes down), and the bindings northd itself inserts
// (10,500 after the benchmark's bulk load, whose echo cost northd
// ~0.15 s of CPU right when it reads its write's reply) are not sent
// back to it.
func monitor(ctx context.Context, c client.Client, m model.ClientDBModel, skip []string) error {
	var opts []client.MonitorOption
	names := make([]string, 0, len(m.Types()))
	for name := range m.Types() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if slices.Contains(skip, name) {
			continue
		}
		if pb, ok := reflect.New(m.Types()[name].Elem()).Interface().(*sbdb.PortBinding); ok {
			bound := []model.Condition{{Field: &pb.Chassis, Function: ovsdb.ConditionNotEqual, Value: (*string)(nil)}}
			opts = append(opts, client.WithConditionalTable(pb, bound, &pb.LogicalPort, &pb.Chassis, &pb.Up))
			continue
		}
		opts = append(opts, client.WithTable(reflect.New(m.Types()[name].Elem()).Interface().(model.Model)))
	}
	_, err := c.Monitor(ctx, c.NewMonitor(opts...))
	return err
}

// selectAll reads every row of table from the server into models of
// type T, as the cache would hold them.
func selectAll[T any](ctx context.Context, c client.Client, table string) ([]T, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := c.Transact(ctx, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: table, Where: []ovsdb.Condition{}})
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", table, err)
	}
	if len(res) != 1 || res[0].Error != "" {
		return nil, fmt.Errorf("select %s: %v", table, res)
	}
	db := c.Cache().DatabaseModel()
	out := make([]T, len(res[0].Rows))
	for i := range res[0].Rows {
		m := any(&out[i])
		info, err := db.NewModelInfo(m)
		if err != nil {
			return nil, fmt.Errorf("select %s: %w", table, err)
		}
		if err := db.Mapper.GetRowData(&res[0].Rows[i], info); err != nil {
			return nil, fmt.Errorf("select %s: row %d: %w", table, i, err)
		}
		if u, ok := res[0].Rows[i]["_uuid"].(ovsdb.UUID); ok {
			if err := info.SetField("_uuid", u.GoUUID); err != nil {
				return nil, fmt.Errorf("select %s: %w", table, err)
			}
		}
	}
	return out, nil
}
