package chassis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// MarkInstalled tells the manager that the flows of ports are installed:
// it sets external_ids:ovn-installed="true" (and ovn-installed-ts) on
// their interfaces and Port_Binding.up=true, as ovn-controller does. up
// is written only where ovn-northd initialised the column (to false).
// Ports not bound here by the last Reconcile are skipped; ports already
// marked cost nothing. It first waits for the last Reconcile's claims
// (Settle) and returns their error. Localports are only remembered as installed:
// ovn-controller writes nothing for them.
func (m *Manager) MarkInstalled(ctx context.Context, ports []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.settleLocked(); err != nil {
		return err
	}
	if m.state == nil {
		return ErrNotRegistered
	}
	pbs, err := bindingsNamed(m.sb, ports)
	if err != nil {
		return err
	}
	ov, err := readOVS(ctx, m.ovs)
	if err != nil {
		return err
	}
	ot, st := &txn{c: m.ovs}, &txn{c: m.sb}
	var marked []*vswitch.Interface
	var ups []*sbdb.PortBinding
	now := msString(m.opts.Now())
	// The State Reconcile returned is the caller's: update a copy.
	next := *m.state
	next.LocalPorts = maps.Clone(m.state.LocalPorts)
	m.state = &next
	sorted := append([]string(nil), ports...)
	sort.Strings(sorted)
	for _, name := range sorted {
		lp, ok := m.state.LocalPorts[name]
		if !ok {
			continue
		}
		if lp.Type != typeVIF {
			// A localport: nothing to write, but the loop need not
			// say it again.
			m.installed[name] = lp.InterfaceUUID
			lp.Installed = true
			m.state.LocalPorts[name] = lp
			continue
		}
		if lp.Parent == "" {
			f := ov.ifaces[lp.InterfaceUUID]
			if f == nil {
				continue // gone since the last Reconcile
			}
			if !hasInstalled(f) {
				row := &vswitch.Interface{UUID: f.UUID}
				st := map[string]string{OVNInstalledKey: "true", OVNInstalledTSKey: now}
				ot.setKeys(row, &row.ExternalIDs, f.ExternalIDs, st, []string{OVNInstalledKey, OVNInstalledTSKey})
				marked = append(marked, f)
			}
		}
		m.installed[name] = lp.InterfaceUUID
		if lp.Parent != "" {
			m.installed[name] = ""
		}
		lp.Installed = true
		m.state.LocalPorts[name] = lp
		if pb := pbs[name]; pb != nil && pb.Up != nil && !*pb.Up {
			up := true
			row := &sbdb.PortBinding{UUID: pb.UUID, Up: &up}
			st.update(row, &row.Up)
			ups = append(ups, pb)
		}
	}
	// Both at once: the round that installed the flows (and the next
	// one) waits for the slower, not for the two in turn.
	oerr, serr := commitBoth(ctx, ot, st)
	if s := m.seen; s != nil && oerr == nil {
		for _, f := range marked {
			s.expectInstalled(f)
		}
	}
	if s := m.seen; s != nil && serr == nil {
		for _, pb := range ups {
			s.expectUp(pb)
		}
	}
	if oerr != nil {
		return fmt.Errorf("ovs ovn-installed: %w", oerr)
	}
	if serr != nil {
		return fmt.Errorf("sb port binding up: %w", serr)
	}
	return nil
}

// bindingsNamed returns the cached Port_Bindings of the logical ports
// names, by name, looked up through the cache's logical_port index.
func bindingsNamed(c client.Client, names []string) (map[string]*sbdb.PortBinding, error) {
	cache := c.Cache()
	if cache == nil {
		return nil, errors.New("read sb cache: client not connected")
	}
	out := make(map[string]*sbdb.PortBinding, len(names))
	rc := cache.Table(sbdb.PortBindingTable)
	if rc == nil {
		return out, nil
	}
	for _, n := range names {
		_, m, err := rc.RowByModel(&sbdb.PortBinding{LogicalPort: n})
		if err != nil {
			return nil, fmt.Errorf("read sb cache: port binding %s: %w", n, err)
		}
		if pb, ok := m.(*sbdb.PortBinding); ok {
			out[n] = pb
		}
	}
	return out, nil
}

// Bridge external_ids keys where ovn-controller also reports nb_cfg.
const (
	nbCfgKey   = "ovn-nb-cfg"
	nbCfgTSKey = "ovn-nb-cfg-ts"
)

// ReportNbCfg reports nbCfg, the SB_Global.nb_cfg whose changes this
// chassis has fully applied, as ovn-controller does: in its
// Chassis_Private row with the time (nb_cfg, nb_cfg_timestamp in ms),
// which is what makes ovn-nbctl --wait=hv return, and in the integration
// bridge's external_ids (ovn-nb-cfg, ovn-nb-cfg-ts). Reporting the value
// already there writes nothing.
// It first waits for the last Reconcile's claims (Settle).
func (m *Manager) ReportNbCfg(ctx context.Context, nbCfg int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.settleLocked(); err != nil {
		return err
	}
	if m.state == nil {
		return ErrNotRegistered
	}
	privs, err := rows[sbdb.ChassisPrivate](m.sb, sbdb.ChassisPrivateTable)
	if err != nil {
		return fmt.Errorf("read chassis_private: %w", err)
	}
	i := slices.IndexFunc(privs, func(p *sbdb.ChassisPrivate) bool { return p.Name == m.state.Chassis })
	if i < 0 {
		return ErrNotRegistered
	}
	now := m.opts.Now().UnixMilli()
	st := &txn{c: m.sb}
	if int64(privs[i].NbCfg) != nbCfg {
		row := &sbdb.ChassisPrivate{UUID: privs[i].UUID, NbCfg: int(nbCfg), NbCfgTimestamp: int(now)}
		st.update(row, &row.NbCfg, &row.NbCfgTimestamp)
	}
	ot := &txn{c: m.ovs}
	brs, err := rows[vswitch.Bridge](m.ovs, vswitch.BridgeTable)
	if err != nil {
		return fmt.Errorf("read bridges: %w", err)
	}
	for _, br := range brs {
		have, ok := br.ExternalIDs[nbCfgKey]
		if !ok {
			have = "0" // what ovn-controller starts from: it writes nothing until nb_cfg moves
		}
		if br.UUID == m.state.BridgeUUID && have != strconv.FormatInt(nbCfg, 10) {
			row := &vswitch.Bridge{UUID: br.UUID}
			want := map[string]string{nbCfgKey: strconv.FormatInt(nbCfg, 10), nbCfgTSKey: strconv.FormatInt(now, 10)}
			ot.setKeys(row, &row.ExternalIDs, br.ExternalIDs, want, []string{nbCfgKey, nbCfgTSKey})
		}
	}
	serr, oerr := commitBoth(ctx, st, ot)
	if serr != nil {
		return fmt.Errorf("report nb_cfg %d: %w", nbCfg, serr)
	}
	if oerr != nil {
		return fmt.Errorf("report nb_cfg %d on %s: %w", nbCfg, m.state.Bridge, oerr)
	}
	return nil
}

// Cleanup undoes this chassis' presence as ovn-controller does when told
// to exit (ovn-appctl exit, without --restart): it deletes the Chassis
// and Chassis_Private rows (the Encap rows go with the Chassis, and the
// SB clears the weak references of the Port_Bindings it held, leaving
// their up column as it was), the tunnel ports and its
// ovn-chassis-idx key. The integration bridge, the localnet patch ports,
// the ovn-installed marks and the ct-zone keys stay, as with
// ovn-controller. The Manager must not be used afterwards.
func (m *Manager) Cleanup(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.settleLocked() // what it claimed is released below with the chassis
	ov, err := readOVS(ctx, m.ovs)
	if err != nil {
		return err
	}
	cfg, err := ReadConfig(ov.root, m.opts.SystemIDFile)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	sbv, err := readSB(ctx, m.sb, &m.pbx)
	if err != nil {
		return err
	}
	st := &txn{c: m.sb}
	if ch := sbv.chassis[cfg.SystemID]; ch != nil {
		st.add(m.sb.Where(ch).Delete())
	}
	if p := sbv.privates[cfg.SystemID]; p != nil {
		st.add(m.sb.Where(p).Delete())
	}
	if err := st.commit(ctx); err != nil {
		return fmt.Errorf("sb cleanup: %w", err)
	}
	ot := &txn{c: m.ovs}
	if br := ov.bridges[cfg.Bridge]; br != nil {
		if err := tunnelOps(ot, ov, br, nil); err != nil {
			return err
		}
	}
	root := &vswitch.OpenvSwitch{UUID: ov.root.UUID}
	ot.setKeys(root, &root.OtherConfig, ov.root.OtherConfig, nil, []string{chassisIdxPrefix + cfg.SystemID})
	if err := ot.commit(ctx); err != nil {
		return fmt.Errorf("ovs cleanup: %w", err)
	}
	m.installed = map[string]string{}
	m.state, m.seen, m.lastSeen = nil, nil, nil
	return nil
}
