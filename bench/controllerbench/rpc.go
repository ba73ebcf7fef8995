package main

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// ovsdbConn is the one OVSDB JSON-RPC call the benchmark needs, "transact",
// over a unix socket. Calls are sequential: one request in flight.
type ovsdbConn struct {
	nc  net.Conn
	dec *json.Decoder
	seq int
}

func dialOVSDB(path string) (*ovsdbConn, error) {
	nc, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &ovsdbConn{nc: nc, dec: json.NewDecoder(nc)}, nil
}

func (c *ovsdbConn) Close() error { return c.nc.Close() }

type rpcMessage struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params json.RawMessage   `json:"params"`
	Result []json.RawMessage `json:"result"`
	Error  json.RawMessage   `json:"error"`
}

// transact runs ops on db and returns the per-operation results; an error
// in the reply or in any operation is returned as an error.
func (c *ovsdbConn) transact(db string, ops []any, timeout time.Duration) ([]json.RawMessage, error) {
	c.seq++
	id := c.seq
	req, err := json.Marshal(map[string]any{"id": id, "method": "transact", "params": append([]any{db}, ops...)})
	if err != nil {
		return nil, err
	}
	if err := c.nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if _, err := c.nc.Write(req); err != nil {
		return nil, fmt.Errorf("transact: %w", err)
	}
	for {
		var m rpcMessage
		if err := c.dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("transact: read reply: %w", err)
		}
		if m.Method == "echo" {
			if err := c.answerEcho(m); err != nil {
				return nil, err
			}
			continue
		}
		if string(m.ID) != fmt.Sprint(id) {
			continue // a notification or a stale reply
		}
		if len(m.Error) > 0 && string(m.Error) != "null" {
			return nil, fmt.Errorf("transact: %s", m.Error)
		}
		return m.Result, checkOps(m.Result)
	}
}

func (c *ovsdbConn) answerEcho(m rpcMessage) error {
	b, err := json.Marshal(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
	if err != nil {
		return err
	}
	_, err = c.nc.Write(b)
	return err
}

// checkOps finds the first failed operation of a transaction's results.
func checkOps(results []json.RawMessage) error {
	for i, r := range results {
		var res struct {
			Error   string `json:"error"`
			Details string `json:"details"`
		}
		if json.Unmarshal(r, &res) == nil && res.Error != "" {
			return fmt.Errorf("operation %d: %s: %s", i, res.Error, res.Details)
		}
	}
	return nil
}
