package embeddeddb

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbfile"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"golang.org/x/sys/unix"
)

// evLoops are the event loops serving unix and TCP clients on Linux. One
// goroutine waits on epoll for all of its sockets, reads whatever arrived,
// handles the complete requests in it and writes the replies without
// blocking, so that a request costs one read and one write and no
// goroutine hand-off. A socket is watched for writability only while its
// queue holds bytes the socket refused, so readers draining monitor
// updates do not wake the loop. A durable commit's fsync runs in the
// loop too, once per iteration for all of them (syncHeld). TLS clients
// keep their own goroutines.
type evLoops struct {
	loops []*evLoop
	next  int // round-robin over loops; guarded by Server.mu
}

// loopCount is how many event loops share the clients. One: the
// requests that cost CPU (transactions, monitors) serialize on their
// database's lock anyway, as in ovsdb-server's single thread, and two
// loops measured worse on two cores (bench/RESULTS.md).
const loopCount = 1

// adopt hands c to an event loop if its socket allows; it reports false
// when c must be served by its own goroutines.
func (s *Server) adopt(c *conn, nc net.Conn) bool {
	switch nc.(type) {
	case *net.UnixConn, *net.TCPConn:
	default:
		return false
	}
	s.mu.Lock()
	if s.loops == nil {
		ls, err := s.startLoops(loopCount)
		if err != nil {
			s.mu.Unlock()
			c.log.Warn("serving client without event loop", "err", err)
			return false
		}
		s.loops = ls
	}
	l := s.loops.loops[s.loops.next%len(s.loops.loops)]
	s.loops.next++
	s.mu.Unlock()
	if err := l.add(c, nc); err != nil {
		c.log.Warn("serving client without event loop", "err", err)
		return false
	}
	return true
}

// startLoops starts n loops; s.mu is held.
func (s *Server) startLoops(n int) (*evLoops, error) {
	ls := &evLoops{}
	for range n {
		l, err := newEvLoop(s)
		if err != nil {
			ls.stop()
			return nil, err
		}
		ls.loops = append(ls.loops, l)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); l.RoutineRun() }()
	}
	return ls, nil
}

// stop ends every loop; the clients they still serve are cleaned up.
// Loops that were never started are fine.
func (ls *evLoops) stop() {
	if ls == nil {
		return
	}
	for _, l := range ls.loops {
		l.mu.Lock()
		l.stopping = true
		l.mu.Unlock()
		l.wake()
	}
}

// evLoop is one event loop: an epoll instance and the goroutine that
// waits on it.
type evLoop struct {
	s      *Server
	epfd   int
	wakefd int // eventfd: new probes, stop
	// timerfd fires at the loop's next deadline, an inactivity probe or
	// a file write (armTimer), so that an idle loop meets it. A timeout
	// on every epoll_wait would arm a kernel timer per request instead,
	// which costs a 1-client insert about a fifth of its CPU here (on a
	// VM, arming a timer traps to the hypervisor).
	timerfd int

	mu         sync.Mutex // guards the fields below
	conns      map[int32]*conn
	probeAdded bool
	stopping   bool
	fdsClosed  bool // epfd, wakefd and timerfd are closed: the loop has ended

	// Owned by the loop goroutine.
	events    [256]unix.EpollEvent
	ready     [256]*conn
	nextProbe time.Time // zero when no client has a probe
	// armedFor is the deadline timerfd is armed for, zero once it fired.
	// timerBroken makes epoll_wait time out instead (timeout), after
	// timerfd_settime failed.
	armedFor    time.Time
	timerBroken bool
	// held are the replies of durable commits made in this iteration,
	// sent once their records are on disk (syncHeld), at its end.
	held []heldReply
	// runnable are clients with requests already read that waited for
	// a durable reply; the next iteration goes on with them.
	runnable, spare []*conn
	// unwritten are the databases whose files hold records the loop's
	// commits appended quietly, which it writes once the oldest has
	// waited ovsdbfile.Linger (writeDue); unwrittenSince is the start of
	// the iteration that appended the oldest. now is the current
	// iteration's start.
	unwritten      []*dbState
	unwrittenSince time.Time
	now            time.Time
}

// heldReply is a durable commit's reply waiting for its record's fsync.
type heldReply struct {
	c   *conn
	d   *dbState
	id  []byte
	res database.Result
	seq uint64
}

// evConn is what the loop keeps for one client.
type evConn struct {
	c  *conn
	l  *evLoop
	fd int // -1 once closed
	sp *ovsjson.Splitter

	// Guarded by c.mu.
	registered bool   // fd is in the epoll set
	mask       uint32 // the events it is registered for
	armed      bool   // the queue holds bytes: watch for EPOLLOUT

	// Owned by the loop goroutine.
	dropped bool
	// paused is set while the reply to a durable commit is held: the
	// client's next requests wait for it. It never outlasts the loop
	// iteration that set it.
	paused   bool
	stop     bool      // handle just paused the client: stop processing
	deadline time.Time // inactivity probe
	echoSent bool
}

func newEvLoop(s *Server) (*evLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &net.OpError{Op: "epoll_create", Err: err}
	}
	wfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, &net.OpError{Op: "eventfd", Err: err}
	}
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		unix.Close(wfd)
		return nil, &net.OpError{Op: "timerfd_create", Err: err}
	}
	for _, fd := range []int{wfd, tfd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(epfd)
			unix.Close(wfd)
			unix.Close(tfd)
			return nil, &net.OpError{Op: "epoll_ctl", Err: err}
		}
	}
	l := &evLoop{s: s, epfd: epfd, wakefd: wfd, timerfd: tfd, conns: map[int32]*conn{}}
	return l, nil
}

// wait returns the number of events in l.events, 0 when the next probe
// is due (or on a spurious wake-up). It does not block while clients
// are runnable.
func (l *evLoop) wait() int {
	timeout := l.timeout()
	if len(l.runnable) > 0 {
		timeout = 0
	}
	n, err := unix.EpollWait(l.epfd, l.events[:], timeout)
	if err != nil {
		if !errors.Is(err, unix.EINTR) {
			l.s.log.Error("epoll_wait failed", "err", err)
			time.Sleep(10 * time.Millisecond)
		}
		return 0
	}
	return n
}

// deadline is the loop's next deadline: an inactivity probe or a file
// write due; zero for none.
func (l *evLoop) deadline() time.Time {
	next := l.nextProbe
	if len(l.unwritten) > 0 {
		if due := l.unwrittenSince.Add(ovsdbfile.Linger); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// armTimer makes timerfd fire by the loop's next deadline. It re-arms
// only for a deadline earlier than the one armed: a later one is armed
// once the earlier fires, so that a busy loop, whose deadlines come and
// go, seldom makes the call.
func (l *evLoop) armTimer() {
	next := l.deadline()
	if l.timerBroken || next.IsZero() || !l.armedFor.IsZero() && !next.Before(l.armedFor) {
		return
	}
	d := max(time.Until(next), time.Microsecond)
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(l.timerfd, 0, &spec, nil); err != nil {
		l.s.log.Error("timerfd_settime failed; epoll_wait times out instead", "err", err)
		l.timerBroken = true
		return
	}
	l.armedFor = next
}

// timeout is epoll_wait's: none, as timerfd wakes the loop for its
// deadlines, unless timerfd failed.
func (l *evLoop) timeout() int {
	next := l.deadline()
	if !l.timerBroken || next.IsZero() {
		return -1
	}
	d := time.Until(next)
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// add takes over nc's socket: its descriptor is duplicated and nc closed,
// so that Go's poller no longer watches it.
func (l *evLoop) add(c *conn, nc net.Conn) error {
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return err
	}
	if derr != nil {
		return &net.OpError{Op: "dup", Err: derr}
	}
	// The duplicate shares the open socket (and its O_NONBLOCK); closing
	// nc removes it from Go's poller without ending the connection.
	nc.Close()
	e := &evConn{c: c, l: l, fd: fd, sp: newSplitter(fdReader(fd))}
	c.split = e.sp
	if c.probe > 0 {
		e.deadline = time.Now().Add(c.probe)
	}
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		unix.Close(fd)
		return errors.New("event loop stopped")
	}
	l.conns[int32(fd)] = c
	c.mu.Lock()
	c.ev = e
	e.syncLocked()
	if c.closed {
		// Closed while changing hands: end it now.
		e.shutdownLocked()
	}
	c.mu.Unlock()
	if c.probe > 0 {
		l.probeAdded = true
	}
	l.mu.Unlock()
	if c.probe > 0 {
		l.wake()
	}
	return nil
}

// wake interrupts epoll_wait. It is safe after the loop ended (a stop
// may come late): the descriptor is never written once closed.
func (l *evLoop) wake() {
	var one = [8]byte{1}
	l.mu.Lock()
	if !l.fdsClosed {
		unix.Write(l.wakefd, one[:])
	}
	l.mu.Unlock()
}

// RoutineRun waits for events and serves them until the loop is stopped.
func (l *evLoop) RoutineRun() {
	defer func() {
		l.mu.Lock()
		l.fdsClosed = true
		unix.Close(l.epfd)
		unix.Close(l.wakefd)
		unix.Close(l.timerfd)
		l.mu.Unlock()
	}()
	for {
		n := l.wait()
		now := time.Now()
		l.now = now
		// Drain the eventfd before reading what the wakers set (they set
		// it first, then write): a wake consumed here is never one whose
		// news this iteration misses. A timerfd expiry needs no more
		// than draining: writeDue checks the time.
		for i := range max(n, 0) {
			if fd := l.events[i].Fd; fd == int32(l.wakefd) || fd == int32(l.timerfd) {
				var b [8]byte
				unix.Read(int(fd), b[:])
				if fd == int32(l.timerfd) {
					l.armedFor = time.Time{}
				}
			}
		}
		l.mu.Lock()
		for i := range max(n, 0) {
			l.ready[i] = l.conns[l.events[i].Fd] // nil for the eventfd
		}
		probeAdded, stopping := l.probeAdded, l.stopping
		l.probeAdded = false
		l.mu.Unlock()
		if stopping {
			l.dropAll()
			return
		}
		runnable := l.runnable
		l.runnable = l.spare[:0]
		for i, c := range runnable {
			l.process(c, now)
			runnable[i] = nil
		}
		l.spare = runnable
		for i := range max(n, 0) {
			c := l.ready[i]
			l.ready[i] = nil
			if c == nil {
				continue // the eventfd, drained above
			}
			l.serve(c, l.events[i].Events, now)
		}
		l.syncHeld()
		l.writeDue(now)
		if probeAdded || !l.nextProbe.IsZero() && !now.Before(l.nextProbe) {
			l.checkProbes(now)
		}
		l.armTimer()
	}
}

// serve handles one client's events.
func (l *evLoop) serve(c *conn, events uint32, now time.Time) {
	e := c.ev.(*evConn)
	if e.dropped {
		return
	}
	if events&unix.EPOLLOUT != 0 {
		c.mu.Lock()
		e.flushLocked()
		c.mu.Unlock()
	}
	if events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) == 0 || e.paused {
		// A paused client's input waits for its durable reply; epoll,
		// level-triggered, reports it again in the next iteration.
		return
	}
	if err := e.sp.Fill(); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		c.logEnd(err)
		l.drop(c)
		return
	}
	l.process(c, now)
}

// process handles the complete requests read so far.
func (l *evLoop) process(c *conn, now time.Time) {
	e := c.ev.(*evConn)
	for !e.dropped {
		if e.stop {
			e.stop = false
			return
		}
		msg, ok, err := e.sp.Scan()
		if err != nil {
			c.logEnd(err)
			l.drop(c)
			return
		}
		if !ok {
			return
		}
		e.echoSent = false
		if c.probe > 0 {
			e.deadline = now.Add(c.probe)
		}
		if err := c.handle(msg); err != nil {
			c.log.Warn("closing connection after protocol error", "err", err)
			l.drop(c)
			return
		}
		e.sp.Shrink()
	}
}

// holdReply is called by handle, on the loop goroutine, for a durable
// commit: the reply waits for the end of the iteration, when one fsync
// per file covers every durable commit the iteration made (group
// commit), and the client's further requests wait for the reply.
func (e *evConn) holdReply(d *dbState, id []byte, res database.Result, seq uint64) {
	e.paused, e.stop = true, true
	e.l.held = append(e.l.held, heldReply{c: e.c, d: d, id: id, res: res, seq: seq})
}

// writeLater notes that d's file holds a record appended quietly by a
// commit of this loop (see dbState.commitLocked).
func (e *evConn) writeLater(d *dbState) {
	l := e.l
	if len(l.unwritten) == 0 {
		l.unwrittenSince = l.now // armTimer arms for it at the iteration's end
	}
	for _, u := range l.unwritten {
		if u == d {
			return
		}
	}
	l.unwritten = append(l.unwritten, d)
}

// writeDue writes the records appended quietly once the oldest has
// waited ovsdbfile.Linger, as the file's writer goroutine would have:
// many commits share one write(2), and no goroutine is woken for them.
func (l *evLoop) writeDue(now time.Time) {
	if len(l.unwritten) == 0 || now.Sub(l.unwrittenSince) < ovsdbfile.Linger {
		return
	}
	for i, d := range l.unwritten {
		d.file.WriteQueued()
		l.unwritten[i] = nil
	}
	l.unwritten = l.unwritten[:0]
}

// syncHeld waits, in the loop, until the records of the durable commits
// made in this iteration are on disk, answers them, and makes the
// clients that had more requests read runnable. Blocking the loop for
// the fsync, as ovsdb-server's single thread does, costs less CPU than
// any hand-off to another goroutine, and the clients that send requests
// meanwhile join the next group.
func (l *evLoop) syncHeld() {
	if len(l.held) == 0 {
		return
	}
	var errs map[*dbState]error
	for i, h := range l.held {
		if h.d.file == nil || l.waitedFor(h.d, i) {
			continue
		}
		top := h.seq
		for _, o := range l.held[i+1:] {
			if o.d == h.d {
				top = max(top, o.seq)
			}
		}
		// Records are written in order and a batch holding a durable
		// record is synced: the last one's wait covers them all.
		if err := h.d.file.WaitTimeout(top, time.Minute); err != nil {
			if errs == nil {
				errs = map[*dbState]error{}
			}
			errs[h.d] = err
		}
	}
	for i, h := range l.held {
		h.c.answerDurable(h.d, h.id, h.res, errs[h.d])
		e := h.c.ev.(*evConn)
		e.paused = false
		if !e.dropped && e.sp.Buffered() > 0 {
			l.runnable = append(l.runnable, h.c)
		}
		l.held[i] = heldReply{}
	}
	l.held = l.held[:0]
}

// waitedFor reports whether a held reply before the i-th is for d.
func (l *evLoop) waitedFor(d *dbState, i int) bool {
	for _, h := range l.held[:i] {
		if h.d == d {
			return true
		}
	}
	return false
}

// checkProbes sends an echo to clients silent for a probe interval and
// drops those that did not answer the previous one.
func (l *evLoop) checkProbes(now time.Time) {
	l.mu.Lock()
	var probed []*conn
	for _, c := range l.conns {
		if c.probe > 0 {
			probed = append(probed, c)
		}
	}
	l.mu.Unlock()
	l.nextProbe = time.Time{}
	for _, c := range probed {
		e := c.ev.(*evConn)
		if e.dropped {
			continue
		}
		if !now.Before(e.deadline) {
			if e.echoSent {
				c.log.Info("closing connection: no reply to inactivity probe", "probe", c.probe)
				l.drop(c)
				continue
			}
			e.echoSent = true
			e.deadline = now.Add(c.probe)
			c.send([]byte(`{"id":"echo","method":"echo","params":[]}`))
		}
		if l.nextProbe.IsZero() || e.deadline.Before(l.nextProbe) {
			l.nextProbe = e.deadline
		}
	}
}

// drop ends a client: its monitors, locks and waits go, then its socket.
func (l *evLoop) drop(c *conn) {
	e := c.ev.(*evConn)
	if e.dropped {
		return
	}
	e.dropped = true
	c.cleanup()
	l.mu.Lock()
	delete(l.conns, int32(e.fd))
	l.mu.Unlock()
	c.mu.Lock()
	unix.Close(e.fd)
	e.fd = -1
	c.mu.Unlock()
}

func (l *evLoop) dropAll() {
	l.mu.Lock()
	all := make([]*conn, 0, len(l.conns))
	for _, c := range l.conns {
		all = append(all, c)
	}
	l.mu.Unlock()
	for _, c := range all {
		c.logEnd(net.ErrClosed)
		l.drop(c)
	}
}

// syncLocked makes the epoll registration match the state: readable,
// and writable while the queue holds bytes. c.mu is held.
func (e *evConn) syncLocked() {
	if e.fd < 0 {
		return
	}
	want := uint32(unix.EPOLLIN)
	if e.armed {
		want |= unix.EPOLLOUT
	}
	ev := unix.EpollEvent{Events: want, Fd: int32(e.fd)}
	var err error
	switch {
	case !e.registered:
		err = unix.EpollCtl(e.l.epfd, unix.EPOLL_CTL_ADD, e.fd, &ev)
	case want != e.mask:
		err = unix.EpollCtl(e.l.epfd, unix.EPOLL_CTL_MOD, e.fd, &ev)
	}
	if err != nil {
		// Only on a socket already torn down; its hang-up ends it.
		e.c.log.Debug("epoll_ctl failed", "err", err)
		return
	}
	e.registered, e.mask = true, want
}

func (e *evConn) writevLocked(parts [][]byte) int {
	if e.fd < 0 {
		return 0
	}
	n, err := writev(uintptr(e.fd), parts)
	if err != nil {
		return 0 // EAGAIN, or a dead peer that the next read reports
	}
	return n
}

func (e *evConn) sendLocked(msg []byte) int {
	if e.fd < 0 {
		return 0
	}
	n, err := send(e.fd, msg)
	if err != nil {
		return 0 // EAGAIN, or a dead peer that the next read reports
	}
	return n
}

func (e *evConn) waitWritableLocked() {
	if !e.armed {
		e.armed = true
		e.syncLocked()
	}
}

func (e *evConn) shutdownLocked() {
	if e.fd >= 0 {
		unix.Shutdown(e.fd, unix.SHUT_RDWR)
	}
}

// flushLocked writes queued bytes until the socket refuses more, and
// stops watching for writability once the queue is empty. c.mu is held.
func (e *evConn) flushLocked() {
	c := e.c
	for len(c.queue) > 0 {
		parts := c.queue[:min(len(c.queue), maxFlushParts)]
		n := e.writevLocked(parts)
		if n == 0 {
			break
		}
		c.backlog -= n
		for n > 0 && n >= len(c.queue[0]) {
			n -= len(c.queue[0])
			c.queue[0] = nil
			c.queue = c.queue[1:]
		}
		if n > 0 {
			c.queue[0] = c.queue[0][n:]
		}
	}
	if len(c.queue) == 0 {
		c.queue = nil
		e.armed = false
		e.syncLocked()
	}
}

// fdReader reads a non-blocking socket: unix.EAGAIN when it holds
// nothing, io.EOF at its end.
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	for {
		n, err := rawRead(int(fd), p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// rawRead is read(2) on a non-blocking descriptor as a raw system call.
// syscall.Syscall tells the scheduler that the goroutine may block, and
// the system monitor then takes the loop's P away when the other P is
// busy (a GC worker, the file writer): its thread must get a P back when
// the call returns, and the monitor, having found work, keeps polling
// every 20 µs. A read that cannot block needs none of that.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
