package embeddeddb

import (
	"syscall"
	"unsafe"
)

// maxParts bounds the pieces of one vectored message.
const maxParts = 8

// maxFlushParts bounds the pieces one writev(2) takes from a client's
// queue: a client that lags gets many queued updates (four pieces each)
// written at once.
const maxFlushParts = 64

// writev writes parts with one writev(2) on the non-blocking socket fd and
// returns how many bytes went. Empty parts are skipped, and parts past
// maxFlushParts are left for the next call. The socket never
// blocks, so the call is a raw one: the scheduler is not told of it (see
// rawRead).
func writev(fd uintptr, parts [][]byte) (int, error) {
	var iov [maxFlushParts]syscall.Iovec
	n := 0
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if n == len(iov) {
			break
		}
		iov[n].Base = &p[0]
		iov[n].SetLen(len(p))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// send writes msg with one send(2) on the non-blocking socket fd and
// returns how many bytes went: a raw call, as for writev. MSG_NOSIGNAL
// spares a SIGPIPE when the peer is gone; the error says so instead.
func send(fd int, msg []byte) (int, error) {
	if len(msg) == 0 {
		return 0, nil
	}
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)),
			syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}
