package pinctrl

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// Neighbor is what put_arp and put_nd learn: IP is at MAC behind
// logical port Port of datapath Datapath (tunnel keys).
type Neighbor struct {
	Datapath, Port uint32
	IP             netip.Addr
	MAC            net.HardwareAddr
}

func (n Neighbor) String() string {
	return fmt.Sprintf("%s is at %s (datapath %d port %d)", n.IP, n.MAC, n.Datapath, n.Port)
}

// Neighbors records learned neighbors and MAC locations: SB writes
// them to the SB MAC_Binding and FDB tables.
type Neighbors interface {
	Learn(ctx context.Context, n Neighbor) error
	LearnFDB(ctx context.Context, f FDBEntry) error
}

// putMAC decodes put_arp / put_nd: the logical flow loaded the port into
// reg14, the address into reg0 (put_arp) or xxreg0 (put_nd) and the MAC
// into eth.src before sending the packet.
func putMAC(p *openflow.PacketIn2, op lflowc.Opcode) (Neighbor, error) {
	md := p.Metadata
	o, ok := md.Get("metadata")
	port, _, okPort := md.Reg(14)
	if !ok || !okPort || len(p.Packet) < 12 {
		return Neighbor{}, fmt.Errorf("put_arp/put_nd without datapath, port or frame")
	}
	n := Neighbor{Datapath: uint32(o.Uint()), Port: port, MAC: net.HardwareAddr(append([]byte(nil), p.Packet[6:12]...))}
	if op == lflowc.OpPutARP {
		v, _, _ := md.Reg(0)
		n.IP = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		return n, nil
	}
	var a [16]byte
	for i := range 4 {
		v, _, _ := md.Reg(i)
		a[4*i], a[4*i+1], a[4*i+2], a[4*i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	n.IP = netip.AddrFrom16(a)
	return n, nil
}

// SB is what packet-ins need from the southbound database: it writes
// learned neighbors into MAC_Binding as ovn-controller does (one row per
// logical port and IP, its MAC updated when it changes, with the time it
// was written), and reads DNS records for dns_lookup. The SB client must
// monitor Datapath_Binding, Port_Binding, MAC_Binding and DNS.
type SB struct {
	sb func() client.Client // the current SB connection, or nil

	mu      sync.Mutex // guards written
	written map[string]time.Time
}

// NewSB reads and writes through whichever SB connection sb returns.
func NewSB(sb func() client.Client) *SB {
	return &SB{sb: sb, written: map[string]time.Time{}}
}

// recent is how long a write is trusted to be on its way: put_arp
// repeats for every packet until the binding's flows are installed.
const recent = 2 * time.Second

// Learn writes n unless the SB already has it.
func (s *SB) Learn(ctx context.Context, n Neighbor) error {
	sb := s.sb()
	if sb == nil {
		return fmt.Errorf("learn %s: not connected to the southbound database", n)
	}
	key := fmt.Sprintf("%d/%d/%s/%s", n.Datapath, n.Port, n.IP, n.MAC)
	if s.recentlyWritten(key) {
		return nil
	}
	ops, err := s.ops(ctx, sb, n)
	if err != nil || len(ops) == 0 {
		return err
	}
	if err := s.transact(ctx, sb, ops); err != nil {
		return fmt.Errorf("learn %s: %w", n, err)
	}
	s.remember(key)
	return nil
}

func (s *SB) transact(ctx context.Context, sb client.Client, ops []ovsdb.Operation) error {
	res, err := sb.Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	return err
}

// recentlyWritten reports whether key was written less than recent ago.
func (s *SB) recentlyWritten(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.written[key]
	return ok && time.Since(t) < recent
}

// remember notes that key was just written, and forgets old writes.
func (s *SB) remember(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.written {
		if time.Since(t) >= recent {
			delete(s.written, k)
		}
	}
	s.written[key] = time.Now()
}

// ops is the transaction that records n: nothing when the row is there
// with this MAC, an update of the MAC, or a new row.
func (s *SB) ops(ctx context.Context, sb client.Client, n Neighbor) ([]ovsdb.Operation, error) {
	dp, err := datapathUUID(ctx, sb, n.Datapath)
	if err != nil {
		return nil, fmt.Errorf("learn %s: %w", n, err)
	}
	var pbs []sbdb.PortBinding
	if err := sb.WhereCache(func(p *sbdb.PortBinding) bool { return p.Datapath == dp && p.TunnelKey == int(n.Port) }).List(ctx, &pbs); err != nil || len(pbs) != 1 {
		return nil, fmt.Errorf("learn %s: no port with key %d (%v)", n, n.Port, err)
	}
	port, ip, mac := pbs[0].LogicalPort, n.IP.String(), n.MAC.String()
	var mbs []sbdb.MACBinding
	if err := sb.WhereCache(func(m *sbdb.MACBinding) bool { return m.LogicalPort == port && m.IP == ip }).List(ctx, &mbs); err != nil {
		return nil, err
	}
	now := int(time.Now().UnixMilli())
	if len(mbs) > 0 {
		mb := mbs[0]
		if mb.MAC == mac {
			return nil, nil
		}
		mb.MAC, mb.Timestamp = mac, now
		return sb.Where(&mb).Update(&mb, &mb.MAC, &mb.Timestamp)
	}
	row := &sbdb.MACBinding{UUID: "new_mac_binding_" + strconv.Itoa(now), Datapath: dp, IP: ip, LogicalPort: port, MAC: mac, Timestamp: now}
	return sb.Create(row)
}

// datapathUUID finds the Datapath_Binding with tunnel key key.
func datapathUUID(ctx context.Context, sb client.Client, key uint32) (string, error) {
	var dps []sbdb.DatapathBinding
	if err := sb.WhereCache(func(d *sbdb.DatapathBinding) bool { return d.TunnelKey == int(key) }).List(ctx, &dps); err != nil {
		return "", err
	}
	if len(dps) != 1 {
		return "", fmt.Errorf("no datapath with key %d", key)
	}
	return dps[0].UUID, nil
}

// Records looks name up in the DNS rows of datapath dp.
func (s *SB) Records(dp uint32, name string) (string, bool) {
	sb := s.sb()
	if sb == nil {
		return "", false
	}
	ctx := context.Background()
	uuid, err := datapathUUID(ctx, sb, dp)
	if err != nil {
		return "", false
	}
	var rows []sbdb.DNS
	if err := sb.WhereCache(func(d *sbdb.DNS) bool { return slices.Contains(d.Datapaths, uuid) }).List(ctx, &rows); err != nil {
		return "", false
	}
	for _, r := range rows {
		if v, ok := r.Records[name]; ok {
			return v, true
		}
	}
	return "", false
}

// FDBEntry is what put_fdb learns: MAC is behind logical port Port of
// switch Datapath (tunnel keys).
type FDBEntry struct {
	Datapath, Port uint32
	MAC            net.HardwareAddr
}

func (f FDBEntry) String() string {
	return fmt.Sprintf("%s is behind port %d of datapath %d", f.MAC, f.Port, f.Datapath)
}

// putFDB decodes put_fdb: the flow loaded the port into reg14 and the
// MAC into eth.src.
func putFDB(p *openflow.PacketIn2) (FDBEntry, error) {
	o, ok := p.Metadata.Get("metadata")
	port, _, okPort := p.Metadata.Reg(14)
	if !ok || !okPort || len(p.Packet) < 12 {
		return FDBEntry{}, fmt.Errorf("put_fdb without datapath, port or frame")
	}
	return FDBEntry{Datapath: uint32(o.Uint()), Port: port, MAC: net.HardwareAddr(append([]byte(nil), p.Packet[6:12]...))}, nil
}

// LearnFDB writes f into the SB FDB table as ovn-controller does: one
// row per switch and MAC, its port updated when the MAC moves.
func (s *SB) LearnFDB(ctx context.Context, f FDBEntry) error {
	sb := s.sb()
	if sb == nil {
		return fmt.Errorf("learn %s: not connected to the southbound database", f)
	}
	key := fmt.Sprintf("fdb/%d/%d/%s", f.Datapath, f.Port, f.MAC)
	if s.recentlyWritten(key) {
		return nil
	}
	mac := f.MAC.String()
	var rows []sbdb.FDB
	if err := sb.WhereCache(func(r *sbdb.FDB) bool { return r.DpKey == int(f.Datapath) && r.MAC == mac }).List(ctx, &rows); err != nil {
		return err
	}
	var ops []ovsdb.Operation
	var err error
	switch {
	case len(rows) > 0 && rows[0].PortKey == int(f.Port):
		return nil
	case len(rows) > 0:
		row := rows[0]
		row.PortKey = int(f.Port)
		ops, err = sb.Where(&row).Update(&row, &row.PortKey)
	default:
		ops, err = sb.Create(&sbdb.FDB{UUID: "new_fdb", DpKey: int(f.Datapath), MAC: mac, PortKey: int(f.Port)})
	}
	if err == nil {
		err = s.transact(ctx, sb, ops)
	}
	if err != nil {
		return fmt.Errorf("learn %s: %w", f, err)
	}
	s.remember(key)
	return nil
}

// MAC looks the MAC of ip up in the MAC_Binding rows of datapath dp.
func (s *SB) MAC(dp uint32, ip netip.Addr) (net.HardwareAddr, bool) {
	sb := s.sb()
	if sb == nil {
		return nil, false
	}
	ctx := context.Background()
	uuid, err := datapathUUID(ctx, sb, dp)
	if err != nil {
		return nil, false
	}
	want := ip.String()
	var rows []sbdb.MACBinding
	if err := sb.WhereCache(func(m *sbdb.MACBinding) bool { return m.Datapath == uuid && m.IP == want }).List(ctx, &rows); err != nil || len(rows) == 0 {
		return nil, false
	}
	mac, err := net.ParseMAC(rows[0].MAC)
	return mac, err == nil
}
