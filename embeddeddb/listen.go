package embeddeddb

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
)

// DefaultProbe is the inactivity probe on TCP and TLS connections when a
// Connection row does not set one, as in ovsdb-server. Unix sockets have
// none.
const DefaultProbe = 5 * time.Second

// probeUnset marks a listener whose probe is the default; a Connection
// row's inactivity_probe of 0 turns the probe off.
const probeUnset = time.Duration(-1)

// remoteOpts is what a Connection row says about its listener.
type remoteOpts struct {
	probe    time.Duration // probeUnset for the default
	readOnly bool          // refuse writes from its clients
	role     string        // RBAC role of its clients (OVN_Southbound)
	// tls names the key, certificate and CA files from the database's SSL
	// row (ovn-nbctl set-ssl), used when [tls] in the config is empty.
	tls TLSConfig
}

// remoteSet owns the listeners: the configured ones, fixed for the life of
// the server, and those named by Connection rows, reconciled after every
// commit that may change them.
type remoteSet struct {
	s *Server

	mu      sync.Mutex // guards the fields below
	static  []*listener
	dynamic map[string]*listener             // by target text
	wanted  map[string]map[string]remoteOpts // per database: target → options
	closed  bool
}

type listener struct {
	target string
	remote Remote
	ln     net.Listener
	probe  time.Duration
	asked  remoteOpts // what the Connection row asked for
	done   chan struct{}
	conns  atomic.Int32 // clients connected through this listener

	mu      sync.Mutex // guards clients
	clients map[*conn]struct{}
}

func (l *listener) add(c *conn) {
	l.conns.Add(1)
	l.mu.Lock()
	if l.clients == nil {
		l.clients = map[*conn]struct{}{}
	}
	l.clients[c] = struct{}{}
	l.mu.Unlock()
}

func (l *listener) remove(c *conn) {
	l.conns.Add(-1)
	l.mu.Lock()
	delete(l.clients, c)
	l.mu.Unlock()
}

// closeClients ends every session that came in through l, as ovsdb-server
// does when the remote goes away.
func (l *listener) closeClients() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.clients {
		c.close()
	}
}

func newRemoteSet(s *Server) *remoteSet {
	return &remoteSet{s: s, dynamic: map[string]*listener{}, wanted: map[string]map[string]remoteOpts{}}
}

// start binds the configured remotes and those in the databases.
func (rs *remoteSet) start() error {
	for _, t := range append(append([]string{}, rs.s.cfg.NBRemotes...), rs.s.cfg.SBRemotes...) {
		r, err := ParseRemote(t)
		if err != nil {
			return err
		}
		l, err := rs.listen(t, r, remoteOpts{probe: probeUnset})
		if err != nil {
			return err
		}
		rs.static = append(rs.static, l)
	}
	for _, spec := range []struct{ db, global string }{
		{"OVN_Northbound", "NB_Global"}, {"OVN_Southbound", "SB_Global"},
	} {
		d := rs.s.dbs[spec.db]
		global := spec.global
		d.mu.Lock()
		rs.wanted[spec.db] = connectionTargets(d.db, global)
		d.onCommit = func(c *database.Commit) {
			if touches(c, global, "Connection", "SSL") {
				rs.want(d.name, connectionTargets(d.db, global))
			}
		}
		d.mu.Unlock()
	}
	rs.reconcile()
	return nil
}

// updateStatus writes each Connection row's status as ovsdb-server does:
// bound_port for TCP and TLS listeners, n_connections when more than one
// client is connected, and is_connected.
func (rs *remoteSet) updateStatus() {
	rs.mu.Lock()
	type status struct {
		port string
		n    int32
	}
	sts := map[string]status{}
	for t, l := range rs.dynamic {
		st := status{n: l.conns.Load()}
		if a, ok := l.ln.Addr().(*net.TCPAddr); ok {
			st.port = strconv.Itoa(a.Port)
		}
		sts[t] = st
	}
	rs.mu.Unlock()
	if len(sts) == 0 {
		return
	}
	targets := make([]string, 0, len(sts))
	for t := range sts {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	ops := []byte{'['}
	for i, t := range targets {
		st := sts[t]
		if i > 0 {
			ops = append(ops, ',')
		}
		ops = append(ops, `{"op":"update","table":"Connection","where":[["target","==",`...)
		ops = ovsjson.AppendString(ops, t)
		ops = append(ops, `]],"row":{"is_connected":`...)
		ops = strconv.AppendBool(ops, st.n > 0)
		ops = append(ops, `,"status":["map",[`...)
		sep := ""
		if st.port != "" {
			ops = append(ops, `["bound_port",`...)
			ops = ovsjson.AppendString(ops, st.port)
			ops = append(ops, ']')
			sep = ","
		}
		if st.n > 1 {
			ops = append(ops, sep+`["n_connections",`...)
			ops = ovsjson.AppendString(ops, strconv.Itoa(int(st.n)))
			ops = append(ops, ']')
		}
		ops = append(ops, "]]}}"...)
	}
	ops = append(ops, ']')
	for _, name := range []string{"OVN_Northbound", "OVN_Southbound"} {
		if err := rs.s.transactInternal(rs.s.dbs[name], ops); err != nil {
			rs.s.log.Warn("cannot update Connection status", "db", name, "err", err)
		}
	}
}

func touches(c *database.Commit, tables ...string) bool {
	for _, tc := range c.Tables {
		for _, t := range tables {
			if tc.Table.Name == t {
				return true
			}
		}
	}
	return false
}

// connectionTargets reads the passive targets of the Connection rows that
// the global row references.
func connectionTargets(db *database.Database, global string) map[string]remoteOpts {
	out := map[string]remoteOpts{}
	gt := db.Schema().Table(global)
	ct := db.Schema().Table("Connection")
	if gt == nil || ct == nil {
		return out
	}
	connCol, targetCol, probeCol := gt.Column("connections"), ct.Column("target"), ct.Column("inactivity_probe")
	roCol := ct.Column("read_only") // OVN_Southbound only
	roleCol := ct.Column("role")    // OVN_Southbound only
	for _, g := range db.Rows(gt) {
		for _, ref := range g.Cols[connCol.Index].Keys {
			row := db.Row(ct, ref.S)
			if row == nil {
				continue
			}
			probe := probeUnset
			if p := row.Cols[probeCol.Index]; len(p.Keys) == 1 {
				probe = time.Duration(p.Keys[0].N) * time.Millisecond
			}
			opts := remoteOpts{probe: probe, tls: sslRow(db, g, gt)}
			if roCol != nil {
				opts.readOnly = row.Cols[roCol.Index].Keys[0].Bool()
			}
			if roleCol != nil {
				opts.role = row.Cols[roleCol.Index].Keys[0].S
			}
			out[row.Cols[targetCol.Index].Keys[0].S] = opts
		}
	}
	return out
}

// want records a database's targets and reconciles in the background
// (it is called with the database lock held).
func (rs *remoteSet) want(db string, targets map[string]remoteOpts) {
	rs.mu.Lock()
	rs.wanted[db] = targets
	rs.mu.Unlock()
	go rs.reconcile()
}

func (rs *remoteSet) reconcile() {
	if rs.reconcileListeners() {
		rs.updateStatus()
	}
}

// reconcileListeners opens and closes listeners to match the wanted
// targets; it reports whether any listener changed.
func (rs *remoteSet) reconcileListeners() bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return false
	}
	changed := false
	all := map[string]remoteOpts{}
	for _, m := range rs.wanted {
		for t, p := range m {
			all[t] = p
		}
	}
	for t, l := range rs.dynamic {
		if p, ok := all[t]; !ok || p != l.asked {
			rs.s.log.Info("closing listener", "target", t)
			l.close()
			l.closeClients()
			delete(rs.dynamic, t)
			changed = true
		}
	}
	targets := make([]string, 0, len(all))
	for t := range all {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		if _, ok := rs.dynamic[t]; ok {
			continue
		}
		r, err := ParseRemote(t)
		if err != nil {
			rs.s.log.Warn("ignoring connection target: ovnd listens only on passive targets", "target", t, "err", err)
			continue
		}
		l, err := rs.listen(t, r, all[t])
		if err != nil {
			rs.s.log.Error("cannot open listener from Connection row", "target", t, "err", err)
			continue
		}
		rs.dynamic[t] = l
		changed = true
	}
	return changed
}

func (rs *remoteSet) listen(target string, r Remote, asked remoteOpts) (*listener, error) {
	probe := asked.probe
	var ln net.Listener
	var err error
	switch r.Network {
	case "unix":
		ln, err = listenUnix(r.Address)
	case "tcp":
		ln, err = net.Listen("tcp", r.Address)
		if probe == probeUnset {
			probe = DefaultProbe
		}
	case "ssl":
		var cfg *tls.Config
		if cfg, err = rs.s.tlsConfig(asked.tls); err == nil {
			ln, err = tls.Listen("tcp", r.Address, cfg)
		}
		if probe == probeUnset {
			probe = DefaultProbe
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", target, err)
	}
	if r.Network == "unix" || probe < 0 {
		probe = 0
	}
	l := &listener{target: target, remote: r, ln: ln, probe: probe, asked: asked, done: make(chan struct{})}
	rs.s.log.Info("listening", "target", target, "address", ln.Addr().String())
	rs.s.wg.Add(1)
	go func() {
		defer rs.s.wg.Done()
		l.RoutineAccept(rs.s)
	}()
	return l, nil
}

func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
		// A stale socket from an earlier run; a live server would answer.
		if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use by another server", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, nil
}

// RoutineAccept accepts clients until the listener closes.
func (l *listener) RoutineAccept(s *Server) {
	defer close(l.done)
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept failed", "target", l.target, "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.serveConn(nc, l.probe, l)
	}
}

func (l *listener) close() {
	l.ln.Close()
	<-l.done
}

func (rs *remoteSet) closeAll() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closed = true
	for _, l := range rs.static {
		l.close()
	}
	for t, l := range rs.dynamic {
		l.close()
		delete(rs.dynamic, t)
	}
	rs.static = nil
}

// tlsConfig loads the [tls] files: the server certificate and key, and the
// CA that client certificates must chain to, as ovsdb-server requires.
func (s *Server) tlsConfig(fromDB TLSConfig) (*tls.Config, error) {
	t := s.cfg.TLS
	if t.PrivateKey == "" && t.Certificate == "" && t.CACert == "" {
		t = fromDB
	}
	if t.PrivateKey == "" || t.Certificate == "" || t.CACert == "" {
		return nil, errors.New("pssl remotes need tls.private_key, tls.certificate and tls.ca_cert (or the database's SSL row, ovn-nbctl set-ssl)")
	}
	cert, err := tls.LoadX509KeyPair(t.Certificate, t.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	caPEM, err := os.ReadFile(t.CACert)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificates in %s", t.CACert)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}, nil
}

// sslRow reads the SSL row that the global row references, as
// ovsdb-server does with --private-key=db:...,SSL,private_key and friends.
func sslRow(db *database.Database, g *database.Row, gt *database.Table) TLSConfig {
	st := db.Schema().Table("SSL")
	sc := gt.Column("ssl")
	if st == nil || sc == nil || len(g.Cols[sc.Index].Keys) == 0 {
		return TLSConfig{}
	}
	row := db.Row(st, g.Cols[sc.Index].Keys[0].S)
	if row == nil {
		return TLSConfig{}
	}
	get := func(name string) string { return row.Cols[st.Column(name).Index].Keys[0].S }
	return TLSConfig{PrivateKey: get("private_key"), Certificate: get("certificate"), CACert: get("ca_cert")}
}
