package lab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// The demo topology. Two logical switches without a router between them
// (cross-switch traffic waits for logical routers): sw0 holds vm1, vm2 and
// vm3, sw1 holds vm4 and vm5. vm2 is the port group pg_web, guarded by a
// stateful ACL: it accepts new IPv4 traffic only from vm1, and since the
// ACL is allow-related, the replies to vm2's own connections come back.
var demoVIFs = []vif{
	{Port: "vm1", Switch: "sw0", MAC: "0a:00:00:00:00:11", IP: "10.0.0.11/24"},
	{Port: "vm2", Switch: "sw0", MAC: "0a:00:00:00:00:12", IP: "10.0.0.12/24"},
	{Port: "vm3", Switch: "sw0", MAC: "0a:00:00:00:00:13", IP: "10.0.0.13/24"},
	{Port: "vm4", Switch: "sw1", MAC: "0a:00:00:00:01:14", IP: "10.0.1.14/24"},
	{Port: "vm5", Switch: "sw1", MAC: "0a:00:00:00:01:15", IP: "10.0.1.15/24"},
}

const demoPortGroup = "pg_web"

// demoACLs guard pg_web (vm2): new IPv4 traffic to it only from vm1.
var demoACLs = []nbdb.ACL{
	{Direction: nbdb.ACLDirectionToLport, Priority: 1001, Action: nbdb.ACLActionAllowRelated,
		Match: "outport == @" + demoPortGroup + " && ip4 && ip4.src == 10.0.0.11"},
	{Direction: nbdb.ACLDirectionToLport, Priority: 1000, Action: nbdb.ACLActionDrop,
		Match: "outport == @" + demoPortGroup + " && ip4"},
}

// demoWebPorts are the members of pg_web.
var demoWebPorts = []string{"vm2"}

// pingCheck is one ping the demo runs and what it must show.
type pingCheck struct {
	from, to string // VIF ports
	want     bool   // replies expected
	why      string
}

var demoPings = []pingCheck{
	{"vm1", "vm2", true, "same switch; the ACL lets vm1 reach pg_web"},
	{"vm4", "vm5", true, "the second switch"},
	{"vm2", "vm3", true, "stateful ACL: replies to vm2's own pings come back"},
	{"vm3", "vm2", false, "the ACL drops new traffic to pg_web from anyone but vm1"},
}

// demoOps builds the whole demo topology as NB insert operations: the
// switches with their ports, the port group and its ACLs.
func demoOps(c client.Client) ([]ovsdb.Operation, error) {
	var models []model.Model
	portUUID := map[string]string{}
	switches := map[string]*nbdb.LogicalSwitch{}
	var order []string
	for _, v := range demoVIFs {
		uuid := "lsp_" + v.Port
		portUUID[v.Port] = uuid
		addr := v.MAC + " " + v.addr()
		models = append(models, &nbdb.LogicalSwitchPort{UUID: uuid, Name: v.Port,
			Addresses: []string{addr}, PortSecurity: []string{addr}})
		ls := switches[v.Switch]
		if ls == nil {
			ls = &nbdb.LogicalSwitch{UUID: "ls_" + v.Switch, Name: v.Switch}
			switches[v.Switch] = ls
			order = append(order, v.Switch)
		}
		ls.Ports = append(ls.Ports, uuid)
	}
	for _, name := range order {
		models = append(models, switches[name])
	}
	pg := &nbdb.PortGroup{UUID: "pg", Name: demoPortGroup}
	for _, p := range demoWebPorts {
		pg.Ports = append(pg.Ports, portUUID[p])
	}
	for i := range demoACLs {
		acl := demoACLs[i]
		acl.UUID = fmt.Sprintf("acl%d", i)
		pg.ACLs = append(pg.ACLs, acl.UUID)
		models = append(models, &acl)
	}
	models = append(models, pg)
	var ops []ovsdb.Operation
	for _, m := range models {
		op, err := c.Create(m) // one table per Create
		if err != nil {
			return nil, err
		}
		ops = append(ops, op...)
	}
	return ops, nil
}

// nbClient connects a libovsdb client to the NB at sock and replicates it.
func nbClient(ctx context.Context, sock string) (client.Client, error) {
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		return nil, err
	}
	lg := logr.Discard()
	c, err := client.NewOVSDBClient(m, client.WithEndpoint("unix:"+sock), client.WithLogger(&lg))
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connect NB %s: %w", sock, err)
	}
	if _, err := c.MonitorAll(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor NB: %w", err)
	}
	return c, nil
}

// initNB creates the NB_Global row if the NB has none, as `ovn-nbctl
// init` does (and every ovn-nbctl command before its own): northd takes
// its options (mac_prefix, svc_monitor_mac) from it into SB_Global, where
// ovn-controller looks for them.
func (l *lab) initNB(ctx context.Context) error {
	c, err := nbClient(ctx, l.sockets.NB)
	if err != nil {
		return err
	}
	defer c.Close()
	var rows []nbdb.NBGlobal
	if err := c.List(ctx, &rows); err != nil {
		return fmt.Errorf("read NB_Global: %w", err)
	}
	if len(rows) > 0 {
		return nil
	}
	ops, err := c.Create(&nbdb.NBGlobal{})
	if err == nil {
		var res []ovsdb.OperationResult
		if res, err = c.Transact(ctx, ops...); err == nil {
			_, err = ovsdb.CheckOperationResults(res, ops)
		}
	}
	if err != nil {
		return fmt.Errorf("create NB_Global: %w", err)
	}
	return nil
}

// writeDemo writes the demo topology into the NB in one transaction.
func writeDemo(ctx context.Context, c client.Client) error {
	ops, err := demoOps(c)
	if err != nil {
		return fmt.Errorf("demo topology: %w", err)
	}
	res, err := c.Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		return fmt.Errorf("write demo topology to NB: %w", err)
	}
	return nil
}

// waitPortsUp waits until the SB reports every demo port bound to a
// chassis and up: the controller sets Port_Binding.up once the port's
// flows are installed.
func waitPortsUp(ctx context.Context, sb client.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		down := portsDown(ctx, sb)
		if len(down) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("ports %s not up after %v: the controller has not bound them", strings.Join(down, ", "), timeout)
			}
			return errors.New("interrupted")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// portsDown is downPorts; a test replaces it to make the demo fail
// whatever the controller's pace.
var portsDown = downPorts

// downPorts lists the demo ports whose SB Port_Binding is not bound and
// up.
func downPorts(ctx context.Context, sb client.Client) []string {
	var pbs []sbdb.PortBinding
	sb.List(ctx, &pbs)
	up := map[string]bool{}
	for _, p := range pbs {
		up[p.LogicalPort] = p.Chassis != nil && p.Up != nil && *p.Up
	}
	var down []string
	for _, v := range demoVIFs {
		if !up[v.Port] {
			down = append(down, v.Port)
		}
	}
	sort.Strings(down)
	return down
}

// vifByPort finds a demo VIF.
func vifByPort(port string) (vif, error) {
	for _, v := range demoVIFs {
		if v.Port == port {
			return v, nil
		}
	}
	return vif{}, fmt.Errorf("no demo VIF %q", port)
}

// pingOnce sends one echo request and reports whether a reply came.
func pingOnce(from, to vif) bool {
	_, err := run(nil, "ip", "netns", "exec", from.ns(), "ping", "-n", "-q", "-c", "1", "-W", "1", to.addr())
	return err == nil
}

// check runs one ping check: for an expected reply it retries for up to
// settle (the first packets may race the last flows); for an expected
// drop it sends three requests.
func (p pingCheck) check(ctx context.Context, settle time.Duration) error {
	from, err := vifByPort(p.from)
	if err != nil {
		return err
	}
	to, err := vifByPort(p.to)
	if err != nil {
		return err
	}
	if !p.want {
		for i := 0; i < 3; i++ {
			if pingOnce(from, to) {
				return fmt.Errorf("%s → %s answered, but the ACL should drop it", p.from, p.to)
			}
		}
		return nil
	}
	for deadline := time.Now().Add(settle); ; {
		if pingOnce(from, to) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (%s) cannot ping %s (%s) after %v", p.from, from.addr(), p.to, to.addr(), settle)
		}
	}
}

// demo builds the demo topology, waits for its ports, runs the ping
// checks and prints what to try next.
func (l *lab) demo(ctx context.Context) error {
	c, err := nbClient(ctx, l.sockets.NB)
	if err != nil {
		return err
	}
	defer c.Close()
	sb, err := sbClient(ctx, l.sockets.SB)
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := writeDemo(ctx, c); err != nil {
		return err
	}
	l.p.step("demo: wrote switches sw0 (vm1 vm2 vm3) and sw1 (vm4 vm5), port group %s {vm2} with a stateful ACL", demoPortGroup)
	for _, v := range demoVIFs {
		if err := v.plug(l.ovs); err != nil {
			return err
		}
		l.p.info("%s: namespace %s, eth0 %s %s, on %s", v.Port, v.ns(), v.MAC, v.IP, v.Switch)
	}
	if err := waitPortsUp(ctx, sb, l.opts.PortsUpTimeout); err != nil {
		if ferr := l.central.failed(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("demo: %w%s", err, l.controllerTail())
	}
	l.p.step("demo: every port is bound and up (SB Port_Binding.up, set by the controller)")
	for _, p := range demoPings {
		if err := p.check(ctx, 20*time.Second); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		verdict := "replies"
		if !p.want {
			verdict = "no reply, as intended"
		}
		l.p.info("ping %s → %s: %s (%s)", p.from, p.to, verdict, p.why)
	}
	l.p.step("demo passed")
	l.printNext()
	return nil
}

// printStart prints, without the demo, how to build a network by hand.
func (l *lab) printStart(context.Context) error {
	nb, vsctl := l.tools()
	l.p.step("try (in another terminal while the lab runs):")
	ns := namePrefix + "p1" // the lab's prefix: removed with the lab
	for _, line := range []string{
		nb + " ls-add sw0",
		nb + " lsp-add sw0 p1 -- lsp-set-addresses p1 \"0a:00:00:00:00:01 10.0.0.1\"",
		"ip netns add " + ns,
		"ip link add " + ns + " type veth peer name eth0 netns " + ns,
		"ip -n " + ns + " link set eth0 address 0a:00:00:00:00:01 up",
		"ip -n " + ns + " addr add 10.0.0.1/24 dev eth0",
		"ip link set " + ns + " up",
		vsctl + " add-port br-int " + ns + " -- set Interface " + ns + " external_ids:iface-id=p1",
		"(namespaces and links named " + namePrefix + "* go away with the lab)",
	} {
		l.p.info("%s", line)
	}
	return nil
}

// tools returns ovn-nbctl and ovs-vsctl with the --db options the lab's
// sockets need.
func (l *lab) tools() (nb, vsctl string) {
	nb, vsctl = "ovn-nbctl", "ovs-vsctl"
	if !l.sockets.DefaultNB {
		nb += " --db=unix:" + l.sockets.NB
	}
	if l.ovs.private {
		vsctl += " --db=unix:" + l.ovs.sock
	}
	return nb, vsctl
}

// printNext prints commands to explore the running lab.
func (l *lab) printNext() {
	nb, vsctl := l.tools()
	sb, ofctl, br := "ovn-sbctl", "ovs-ofctl", integrationBridge
	if !l.sockets.DefaultSB {
		sb += " --db=unix:" + l.sockets.SB
	}
	if l.ovs.private {
		br = filepath.Join(l.ovs.runDir, integrationBridge+".mgmt")
	}
	l.p.step("try next (in another terminal while the lab runs):")
	cmds := [][2]string{
		{nb + " show", ""},
		{nb + " acl-list " + demoPortGroup, ""},
		{sb + " show", ""},
		{sb + " lflow-list sw0", ""},
		{"ip netns exec " + namePrefix + "vm1 ping 10.0.0.12", ""},
		{"ip netns exec " + namePrefix + "vm3 ping 10.0.0.12", "dropped by the ACL"},
		{nb + " acl-del " + demoPortGroup, "then vm3 reaches vm2 too"},
		{vsctl + " show", ""},
		{ofctl + " dump-flows " + br, ""},
	}
	width := 0
	for _, c := range cmds {
		width = max(width, len(c[0]))
	}
	for _, c := range cmds {
		if c[1] == "" {
			l.p.info("%s", c[0])
		} else {
			l.p.info("%-*s  # %s", width, c[0], c[1])
		}
	}
	l.p.info("vm1 cannot reach vm4: that needs a logical router between sw0 and sw1, which ovnd does not build yet")
}
