package embeddeddb

import (
	"sync"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// lockTable holds the OVSDB locks (RFC 7047 section 4.1.8): server-wide
// names, each with an owner and a queue of waiting clients.
type lockTable struct {
	mu    sync.Mutex // guards locks
	locks map[string]*ovsdbLock
}

type ovsdbLock struct {
	owner   *conn
	waiters []*conn
}

func newLockTable() *lockTable { return &lockTable{locks: map[string]*ovsdbLock{}} }

func (lt *lockTable) held(c *conn, name string) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	l := lt.locks[name]
	return l != nil && l.owner == c
}

func lockNotification(method, name string) []byte {
	b := append([]byte(`{"id":null,"method":"`), method...)
	b = append(b, `","params":[`...)
	b = ovsjson.AppendString(b, name)
	return append(b, "]}"...)
}

func (c *conn) lockRequest(req *request) {
	if len(req.params) != 1 || req.params[0].Type() != fastjson.TypeString {
		c.replyError(req.id, database.TagSyntax, req.method+" expects one lock name")
		return
	}
	name := string(req.params[0].GetStringBytes())
	lt := c.srv.locks
	lt.mu.Lock()
	defer lt.mu.Unlock()
	l := lt.locks[name]
	if l == nil {
		l = &ovsdbLock{}
		lt.locks[name] = l
	}
	switch req.method {
	case "lock":
		if l.owner == c || l.hasWaiter(c) {
			c.replyError(req.id, database.TagSyntax, `must issue "unlock" before new "lock"`)
			return
		}
		if l.owner == nil {
			l.owner = c
			c.reply(req.id, []byte(`{"locked":true}`))
			return
		}
		l.waiters = append(l.waiters, c)
		c.reply(req.id, []byte(`{"locked":false}`))
	case "steal":
		if l.owner == c || l.hasWaiter(c) {
			c.replyError(req.id, database.TagSyntax, `must issue "unlock" before new "steal"`)
			return
		}
		if l.owner != nil {
			prev := l.owner
			prev.send(lockNotification("stolen", name))
			// The previous owner keeps waiting for the lock, as in ovsdb-server.
			l.waiters = append([]*conn{prev}, l.waiters...)
		}
		l.removeWaiter(c)
		l.owner = c
		c.reply(req.id, []byte(`{"locked":true}`))
	case "unlock":
		if l.owner != c && !l.hasWaiter(c) {
			c.replyError(req.id, database.TagSyntax, "lock "+name+" not held or requested by this session")
			return
		}
		lt.releaseLocked(name, l, c)
		c.reply(req.id, []byte("{}"))
	}
}

func (l *ovsdbLock) hasWaiter(c *conn) bool {
	for _, w := range l.waiters {
		if w == c {
			return true
		}
	}
	return false
}

func (l *ovsdbLock) removeWaiter(c *conn) {
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if w != c {
			kept = append(kept, w)
		}
	}
	l.waiters = kept
}

// releaseLocked drops c's ownership of or wait for a lock, handing the
// lock to the next waiter.
func (lt *lockTable) releaseLocked(name string, l *ovsdbLock, c *conn) {
	l.removeWaiter(c)
	if l.owner == c {
		l.owner = nil
		if len(l.waiters) > 0 {
			l.owner = l.waiters[0]
			l.waiters = l.waiters[1:]
			l.owner.send(lockNotification("locked", name))
		}
	}
	if l.owner == nil && len(l.waiters) == 0 {
		delete(lt.locks, name)
	}
}

// dropConn releases every lock a closing client holds or waits for.
func (lt *lockTable) dropConn(c *conn) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for name, l := range lt.locks {
		lt.releaseLocked(name, l, c)
	}
}
