package chassis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// Generic netlink constants from <linux/genetlink.h>.
const (
	genlIDCtrl          = 0x10 // GENL_ID_CTRL
	ctrlCmdGetFamily    = 3    // CTRL_CMD_GETFAMILY
	ctrlAttrFamilyName  = 2    // CTRL_ATTR_FAMILY_NAME
	ovsDatapathFamily   = "ovs_datapath"
	nlmsgHdrLen         = 16
	genlHdrLen          = 4
	netlinkRecvBufBytes = 8192
)

// KernelDatapath reports whether the running kernel offers Open
// vSwitch's kernel datapath, by asking generic netlink for the
// "ovs_datapath" family, as ovs-vswitchd does when it opens a "system"
// datapath. A kernel without the module answers ENOENT.
func KernelDatapath() (bool, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_GENERIC)
	if err != nil {
		return false, fmt.Errorf("generic netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Sendto(fd, getFamilyRequest(ovsDatapathFamily), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return false, fmt.Errorf("generic netlink request: %w", err)
	}
	buf := make([]byte, netlinkRecvBufBytes)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return false, fmt.Errorf("generic netlink reply: %w", err)
	}
	return parseGetFamilyReply(buf[:n])
}

// getFamilyRequest builds CTRL_CMD_GETFAMILY for family name.
func getFamilyRequest(name string) []byte {
	attrLen := 4 + len(name) + 1
	msgLen := nlmsgHdrLen + genlHdrLen + align4(attrLen)
	b := make([]byte, msgLen)
	le := binary.NativeEndian // netlink is host byte order
	le.PutUint32(b[0:], uint32(msgLen))
	le.PutUint16(b[4:], genlIDCtrl)
	le.PutUint16(b[6:], syscall.NLM_F_REQUEST)
	le.PutUint32(b[8:], 1) // sequence
	b[16] = ctrlCmdGetFamily
	b[17] = 1 // version
	le.PutUint16(b[20:], uint16(attrLen))
	le.PutUint16(b[22:], ctrlAttrFamilyName)
	copy(b[24:], name)
	return b
}

// parseGetFamilyReply reads the first message of the reply: a family
// description means present, an ENOENT error means absent.
func parseGetFamilyReply(b []byte) (bool, error) {
	if len(b) < nlmsgHdrLen {
		return false, errors.New("generic netlink: short reply")
	}
	le := binary.NativeEndian
	switch typ := le.Uint16(b[4:]); typ {
	case syscall.NLMSG_ERROR:
		if len(b) < nlmsgHdrLen+4 {
			return false, errors.New("generic netlink: short error reply")
		}
		errno := -int32(le.Uint32(b[nlmsgHdrLen:]))
		if errno == 0 || syscall.Errno(errno) == syscall.ENOENT {
			return false, nil
		}
		return false, fmt.Errorf("generic netlink: %w", syscall.Errno(errno))
	case genlIDCtrl:
		return true, nil
	default:
		return false, fmt.Errorf("generic netlink: unexpected reply type %d", typ)
	}
}

func align4(n int) int { return (n + 3) &^ 3 }
