package northd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// lockName is the SB lock that makes one ovn-northd (or ovnd northd) the
// active one; the others stand by.
const lockName = "ovn_northd"

// sbLock holds the ovn_northd lock on its own JSON-RPC session to SB,
// since the libovsdb client has no lock support. The lock is therefore
// advisory for northd's writes: they are not asserted in the same
// session, so a failover can overlap by one round. RoutineLock reconnects
// and asks again whenever the session drops.
type sbLock struct {
	remotes []string
	changed func()
	log     *slog.Logger // nil discards

	mu   sync.Mutex // guards held
	held bool
}

// Held reports whether this process holds the lock now.
func (l *sbLock) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

func (l *sbLock) set(held bool) {
	l.mu.Lock()
	was := l.held
	l.held = held
	l.mu.Unlock()
	if was != held {
		l.changed()
	}
}

// lockable keeps the remotes the lock session can dial (unix: and tcp:).
func lockable(remotes []string) []string {
	var out []string
	for _, r := range remotes {
		if strings.HasPrefix(r, "unix:") || strings.HasPrefix(r, "tcp:") {
			out = append(out, r)
		}
	}
	return out
}

// RoutineLock keeps a session with the lock requested until ctx ends.
// Without a remote it can dial, it holds the lock unconditionally: this
// northd then has no standby protection, which Serve logs.
func (l *sbLock) RoutineLock(ctx context.Context) {
	if len(l.remotes) == 0 {
		l.set(true)
		<-ctx.Done()
		return
	}
	for i := 0; ctx.Err() == nil; i++ {
		err := l.session(ctx, l.remotes[i%len(l.remotes)])
		l.set(false)
		if ctx.Err() == nil && err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// rpc is a JSON-RPC 1.0 message as OVSDB uses it (RFC 7047 §4).
type rpc struct {
	ID     any               `json:"id"`
	Method string            `json:"method,omitempty"`
	Params []json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage   `json:"result,omitempty"`
	Error  any               `json:"error,omitempty"`
}

// session dials remote, requests the lock and follows the server's
// notifications until the connection or ctx ends.
func (l *sbLock) session(ctx context.Context, remote string) error {
	network, addr, ok := strings.Cut(remote, ":")
	if !ok || (network != "unix" && network != "tcp") {
		return fmt.Errorf("lock on %q: only unix: and tcp: remotes are supported", remote)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	enc, dec := json.NewEncoder(conn), json.NewDecoder(conn)
	if err := enc.Encode(map[string]any{"id": "lock", "method": "lock", "params": []string{lockName}}); err != nil {
		return err
	}
	for {
		var m rpc
		if err := dec.Decode(&m); err != nil {
			return err
		}
		if err := l.handle(enc, &m); err != nil {
			return err
		}
	}
}

// handle acts on one message: the lock reply, locked/stolen
// notifications, and the server's echo probes.
func (l *sbLock) handle(enc *json.Encoder, m *rpc) error {
	switch {
	case m.Method == "echo":
		return enc.Encode(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
	case m.Method == "locked":
		l.set(true)
	case m.Method == "stolen":
		l.set(false)
	case m.ID == "lock" && m.Error != nil:
		return fmt.Errorf("lock %s: %v", lockName, m.Error)
	case m.ID == "lock":
		var r struct{ Locked bool }
		if err := json.Unmarshal(m.Result, &r); err != nil {
			return errors.New("lock reply without locked")
		}
		if !r.Locked && l.log != nil {
			l.log.Info("another northd holds the " + lockName + " lock; standing by")
		}
		l.set(r.Locked)
	}
	return nil
}
