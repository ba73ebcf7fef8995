package pinctrl

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

const (
	protoSCTP      = 132
	sctpChunkInit  = 1
	sctpChunkAbort = 6
	sctpFlagT      = 1 // the verification tag is the receiver's, reflected
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sctpAbortBuilder is sctp_abort { }: an ABORT for the association of
// the packet (RFC 4960 8.4), from its destination port to its source
// port, TTL 63, with the INIT's initiate tag when answering an INIT
// with no verification tag and the packet's own tag (T flag set)
// otherwise; nothing answers an ABORT. loopback (reject) sends it back.
func sctpAbortBuilder(loopback bool) builder {
	return func(in []byte) ([]byte, error) {
		p, err := parseIP(in)
		if err != nil {
			return nil, fmt.Errorf("sctp_abort: %w", err)
		}
		if p.proto != protoSCTP || len(p.l4) < 12+4 {
			return nil, fmt.Errorf("sctp_abort on a packet that is not sctp with a chunk (protocol %d)", p.proto)
		}
		chunk := p.l4[12]
		if chunk == sctpChunkAbort {
			return nil, fmt.Errorf("sctp_abort on an sctp ABORT")
		}
		vtag, flags := p.l4[4:8], byte(sctpFlagT)
		if chunk == sctpChunkInit {
			if len(p.l4) < 12+4+16 {
				return nil, fmt.Errorf("sctp_abort on an incomplete INIT")
			}
			if binary.BigEndian.Uint32(vtag) == 0 {
				vtag, flags = p.l4[16:20], 0
			}
		}
		sh := make([]byte, 0, 16)
		sh = append(append(sh, p.l4[2:4]...), p.l4[0:2]...)
		sh = append(append(sh, vtag...), 0, 0, 0, 0)
		sh = append(sh, sctpChunkAbort, flags, 0, 4)
		binary.LittleEndian.PutUint32(sh[8:], crc32.Checksum(sh, castagnoli))
		ethSrc, ethDst, src, dst := p.addrs(loopback)
		tos := byte(0xc0)
		if p.v6 {
			tos = 0
		}
		return p.frame(ethSrc, ethDst, src, dst, protoSCTP, 63, tos, sh, -1), nil
	}
}
