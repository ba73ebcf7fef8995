package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// subPoller reads every fan-out subscriber's socket from one goroutine
// waiting on one epoll instance, level-triggered: an update costs the
// load generator one read(2) and a scan, and no goroutine is woken for
// it. With a goroutine per subscriber (readGoroutines) each update woke
// one through Go's netpoller: 6-8 µs of the load generator's CPU per
// update, which on two shared cores floored the fan-out latency of both
// servers.
type subPoller struct {
	epfd   int
	wakefd int // eventfd: stop
	a      *arrivals
	fail   func(error)
	subs   map[int32]*polledSub
	done   chan struct{} // closed when RoutineRun returns
	once   sync.Once
}

// polledSub is one subscriber: its socket's descriptor, taken from Go's
// netpoller, and its conn, whose framer and echo replies now use it.
type polledSub struct {
	fd int
	c  *conn
}

// readPolled starts reading conns, each holding a monitor, with a
// subPoller. The conns' sockets change hands: use them no more; stop
// closes them.
func readPolled(conns []*conn, a *arrivals, fail func(error)) (stop func(), err error) {
	p := &subPoller{a: a, fail: fail, subs: map[int32]*polledSub{}, done: make(chan struct{})}
	if p.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	if p.wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		unix.Close(p.epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := p.watch(p.wakefd); err != nil {
		p.closeFDs()
		return nil, err
	}
	for _, c := range conns {
		if err := p.adopt(c); err != nil {
			p.closeFDs()
			return nil, err
		}
	}
	go p.RoutineRun()
	return p.stop, nil
}

func (p *subPoller) watch(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// adopt duplicates c's socket and closes c's own, so that Go's netpoller
// no longer watches it; c's framer keeps whatever it had buffered.
func (p *subPoller) adopt(c *conn) error {
	fd, err := dupSocket(c.nc)
	if err != nil {
		return err
	}
	c.nc.Close()
	c.fr.r = fdIO(fd)
	c.w.Reset(fdIO(fd))
	p.subs[int32(fd)] = &polledSub{fd: fd, c: c}
	return p.watch(fd)
}

func dupSocket(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("%T has no descriptor", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dup: %w", derr)
	}
	return fd, nil
}

// RoutineRun reads the subscribers until stop.
func (p *subPoller) RoutineRun() {
	defer close(p.done)
	var events [128]unix.EpollEvent
	for {
		n, err := unix.EpollWait(p.epfd, events[:], -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			p.fail(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(p.wakefd) {
				return
			}
			s := p.subs[ev.Fd]
			if s == nil {
				continue
			}
			if err := s.serve(p.a); err != nil {
				p.fail(err)
				unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
				delete(p.subs, ev.Fd)
				unix.Close(s.fd)
			}
		}
	}
}

// serve reads what the socket holds, once (epoll reports it again if
// more is left), and handles every complete message in it. The messages
// of one read share its time of arrival.
func (s *polledSub) serve(a *arrivals) error {
	if err := s.c.fr.fill(); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		return err
	}
	now := time.Now()
	for {
		frame, ok, err := s.c.fr.scan()
		if err != nil || !ok {
			return err
		}
		if err := notice(s.c, frame, a, now); err != nil {
			return err
		}
	}
}

// stop ends the poller and closes every subscriber's socket.
func (p *subPoller) stop() {
	p.once.Do(func() {
		var one = [8]byte{1}
		unix.Write(p.wakefd, one[:])
		<-p.done
		p.closeFDs()
	})
}

func (p *subPoller) closeFDs() {
	for fd := range p.subs {
		unix.Close(int(fd))
	}
	p.subs = nil
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
}

// fdIO reads and writes a non-blocking socket: a read returns
// unix.EAGAIN when it holds nothing and io.EOF at its end; a write
// waits for room (only echo replies are written).
type fdIO int

// Read is recv(2) as a raw system call: cheaper than read(2), which
// passes the file layer, and than a call the scheduler is told of, which
// cannot block here anyway.
func (fd fdIO) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
			syscall.MSG_DONTWAIT, 0, 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return 0, e
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}

func (fd fdIO) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(int(fd), b[done:])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(pfd, 5000); err != nil && !errors.Is(err, unix.EINTR) {
				return done, err
			}
			continue
		case err != nil:
			return done, err
		}
		done += n
	}
	return done, nil
}
