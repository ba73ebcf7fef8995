package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ovnd/ovnd/ovnschema"
)

// coldResult is what measurement 4 found on one server.
type coldResult struct {
	load        time.Duration // loading the dataset by transactions
	firstListDB time.Duration // process start → first answered list_dbs
	monitored   time.Duration // process start → full NB monitor reply read
	rss         int64         // VmRSS with the NB monitor open
}

// loadDataset writes d into a running server in transactions of at most
// d.opsPerTxn operations.
func loadDataset(ctx context.Context, srv *server, d dataset) error {
	nb, err := dial(srv.nbSock, 5*time.Second)
	if err != nil {
		return err
	}
	defer nb.Close()
	defer bound(ctx, nb, 10*time.Minute)()
	portUUIDs, err := loadSwitches(nb, d)
	if err != nil {
		return err
	}
	// The router and its ports must be one transaction: the ports are not
	// root rows and only the router refers to them.
	router := d.routerOps()
	if err := transactAll(nb, ovnschema.NorthboundName, router, len(router), nil); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	if err := transactAll(nb, ovnschema.NorthboundName, portGroupOps(portUUIDs), len(portUUIDs)+4, nil); err != nil {
		return fmt.Errorf("port group: %w", err)
	}
	sb, err := dial(srv.sbSock, 5*time.Second)
	if err != nil {
		return err
	}
	defer sb.Close()
	defer bound(ctx, sb, 10*time.Minute)()
	var dps []string
	if err := transactAll(sb, ovnschema.SouthboundName, d.datapathOps(), d.switches+1, &dps); err != nil {
		return fmt.Errorf("datapaths: %w", err)
	}
	if err := transactAll(sb, ovnschema.SouthboundName, d.portBindingOps(dps), d.opsPerTxn, nil); err != nil {
		return fmt.Errorf("port bindings: %w", err)
	}
	if err := transactAll(sb, ovnschema.SouthboundName, d.flowOps(dps), d.opsPerTxn, nil); err != nil {
		return fmt.Errorf("logical flows: %w", err)
	}
	return nil
}

// loadSwitches inserts the switches, whole switches per transaction, and
// returns the uuids of all their ports.
func loadSwitches(c *conn, d dataset) ([]string, error) {
	perTxn := max(1, d.opsPerTxn/(d.ports+1))
	var portUUIDs []string
	for s := 0; s < d.switches; s += perTxn {
		var ops []op
		for k := s; k < min(s+perTxn, d.switches); k++ {
			ops = append(ops, d.switchOps(k)...)
		}
		var uuids []string
		if err := transactAll(c, ovnschema.NorthboundName, ops, len(ops), &uuids); err != nil {
			return nil, fmt.Errorf("switches %d..: %w", s, err)
		}
		// Every (ports+1)-th insert is the switch itself.
		for i, u := range uuids {
			if i%(d.ports+1) != d.ports {
				portUUIDs = append(portUUIDs, u)
			}
		}
	}
	return portUUIDs, nil
}

// transactAll sends ops in batches; if uuids is non-nil the uuid of every
// insert is appended to it in order.
func transactAll(c *conn, db string, ops []op, perTxn int, uuids *[]string) error {
	txns, err := batches(db, ops, perTxn)
	if err != nil {
		return err
	}
	for _, params := range txns {
		res, err := c.transact(params)
		if err != nil {
			return err
		}
		if uuids != nil {
			for _, r := range res {
				*uuids = append(*uuids, r.uuidOf())
			}
		}
	}
	return nil
}

// fullMonitorParams monitors every NB table, all columns.
func fullMonitorParams() ([]byte, error) {
	var schema struct {
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(ovnschema.Northbound, &schema); err != nil {
		return nil, err
	}
	reqs := map[string]any{}
	for t := range schema.Tables {
		reqs[t] = map[string]any{}
	}
	return json.Marshal([]any{ovnschema.NorthboundName, "bench-cold", reqs})
}

// runColdStart creates fresh databases in dir, loads d, stops the server,
// and then measures its start from those files.
func runColdStart(ctx context.Context, s *side, dir string, d dataset) (coldResult, error) {
	var res coldResult
	if err := s.create(dir); err != nil {
		return res, err
	}
	srv, err := s.start(ctx, dir)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	err = loadDataset(ctx, srv, d)
	res.load = time.Since(t0)
	if stopErr := srv.stop(); err == nil && stopErr != nil {
		err = fmt.Errorf("stop after load: %w", stopErr)
	}
	if err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	return measureStart(ctx, s, dir, d, res)
}

// measureStart starts the server on the loaded files and times it until
// list_dbs answers and until a full NB monitor reply has been read.
func measureStart(ctx context.Context, s *side, dir string, d dataset, res coldResult) (coldResult, error) {
	params, err := fullMonitorParams()
	if err != nil {
		return res, err
	}
	srv, err := s.launch(dir)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	var c *conn
	at, err := srv.waitReady(ctx, ovnschema.NorthboundName, &c)
	if err != nil {
		return res, err
	}
	defer c.Close()
	res.firstListDB = at.Sub(srv.started)
	c.nc.SetDeadline(time.Now().Add(2 * time.Minute))
	m, err := c.call("monitor", params)
	if err != nil {
		return res, err
	}
	res.monitored = time.Since(srv.started)
	if err := checkMonitorReply(m.Result, d.wantRows()); err != nil {
		return res, err
	}
	res.rss, err = rssBytes(srv.pid())
	return res, err
}

// wantRows is how many rows of each NB table the monitor reply must hold
// after a cold start from d's files.
func (d dataset) wantRows() map[string]int {
	return map[string]int{
		"Logical_Switch":      d.switches,
		"Logical_Switch_Port": d.switches * d.ports,
		"Logical_Router":      1,
		"Logical_Router_Port": d.switches,
		"Port_Group":          1,
		"ACL":                 3,
	}
}

func checkMonitorReply(result json.RawMessage, want map[string]int) error {
	var got map[string]map[string]json.RawMessage
	if err := json.Unmarshal(result, &got); err != nil {
		return fmt.Errorf("monitor reply: %w", err)
	}
	for _, t := range slices.Sorted(maps.Keys(want)) {
		if len(got[t]) != want[t] {
			return fmt.Errorf("monitor reply has %d %s rows, want %d", len(got[t]), t, want[t])
		}
	}
	return nil
}

// memResult is the RSS of a fresh server before and after rows small
// Logical_Switch rows were inserted.
type memResult struct {
	empty, loaded int64
}

// runMemory inserts rows small rows into a fresh NB, perTxn rows per
// transaction, and reads VmRSS before and after.
func runMemory(ctx context.Context, s *side, dir string, rows, perTxn int) (memResult, error) {
	var res memResult
	if err := s.create(dir); err != nil {
		return res, err
	}
	srv, err := s.start(ctx, dir)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	if res.empty, err = rssBytes(srv.pid()); err != nil {
		return res, err
	}
	c, err := dial(srv.nbSock, 5*time.Second)
	if err != nil {
		return res, err
	}
	defer c.Close()
	defer bound(ctx, c, 10*time.Minute)()
	var params []byte
	for i := 0; i < rows; i += perTxn {
		params = appendSmallRows(params[:0], i, min(perTxn, rows-i))
		if err := c.transactOK(params); err != nil {
			return res, fmt.Errorf("row %d: %w", i, err)
		}
	}
	// Let a server that frees memory lazily settle before reading RSS.
	time.Sleep(500 * time.Millisecond)
	res.loaded, err = rssBytes(srv.pid())
	return res, err
}

// appendSmallRows encodes a transaction inserting n Logical_Switch rows
// shaped like those of the insert measurements.
func appendSmallRows(b []byte, first, n int) []byte {
	b = append(b, `["OVN_Northbound"`...)
	for i := first; i < first+n; i++ {
		one := appendInsertParams(nil, "mem-", 0, i, false)
		b = append(b, ',')
		b = append(b, one[len(`["OVN_Northbound",`):len(one)-1]...)
	}
	return append(b, ']')
}
