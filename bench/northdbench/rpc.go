package main

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// conn is one JSON-RPC connection to an OVSDB server, one request at a
// time. Requests from the server (echo) are answered while waiting.
type conn struct {
	nc  net.Conn
	dec *json.Decoder
	enc *json.Encoder
	id  int
}

type message struct {
	ID     any             `json:"id"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

func dial(sock string) (*conn, error) {
	nc, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, dec: json.NewDecoder(nc), enc: json.NewEncoder(nc)}, nil
}

func (c *conn) Close() error { return c.nc.Close() }

// call sends method(params) and returns its result, failing after timeout.
func (c *conn) call(method string, params any, timeout time.Duration) (json.RawMessage, error) {
	c.id++
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	if err := c.enc.Encode(map[string]any{"id": c.id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	for {
		var m message
		if err := c.dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if m.Method == "echo" {
			if err := c.enc.Encode(map[string]any{"id": m.ID, "result": m.Params, "error": nil}); err != nil {
				return nil, err
			}
			continue
		}
		if m.Method != "" {
			continue
		}
		if id, ok := m.ID.(float64); !ok || int(id) != c.id {
			continue
		}
		if len(m.Error) > 0 && string(m.Error) != "null" {
			return nil, fmt.Errorf("%s: %s", method, m.Error)
		}
		return m.Result, nil
	}
}

// transact runs ops on db and fails if any operation failed.
func (c *conn) transact(db string, ops []op, timeout time.Duration) ([]json.RawMessage, error) {
	params := append([]any{db}, toAny(ops)...)
	raw, err := c.call("transact", params, timeout)
	if err != nil {
		return nil, err
	}
	var res []json.RawMessage
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("transact result: %w", err)
	}
	for i, r := range res {
		var e struct {
			Error   string `json:"error"`
			Details string `json:"details"`
		}
		json.Unmarshal(r, &e)
		if e.Error != "" {
			return nil, fmt.Errorf("transact op %d: %s: %s", i, e.Error, e.Details)
		}
	}
	if len(res) < len(ops) {
		return nil, fmt.Errorf("transact: %d results for %d operations", len(res), len(ops))
	}
	return res, nil
}

func toAny(ops []op) []any {
	out := make([]any, len(ops))
	for i, o := range ops {
		out[i] = o
	}
	return out
}

// count returns the number of rows of table in db.
func (c *conn) count(db, table string) (int, error) {
	res, err := c.transact(db, []op{{"op": "select", "table": table, "where": []any{}, "columns": []string{"_uuid"}}}, time.Minute)
	if err != nil {
		return 0, err
	}
	var sel struct {
		Rows []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(res[0], &sel); err != nil {
		return 0, err
	}
	return len(sel.Rows), nil
}
