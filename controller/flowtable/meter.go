package flowtable

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/ovnd/ovnd/controller/openflow"
)

// Meter is one desired OpenFlow meter (ACL log rate limits, control
// plane protection). Meter ids are global to the switch; the producer
// that allocates them owns the id space.
type Meter struct {
	ID    uint32
	Flags uint16 // openflow.Meter* flags
	Bands []openflow.MeterBand
}

// String renders the meter as the installer compares it.
func (m Meter) String() string {
	mod := openflow.MeterMod{Command: openflow.MeterAdd, Flags: m.Flags, MeterID: m.ID, Bands: m.Bands}
	return mod.String()[len("ADD "):]
}

type meterBody struct {
	meter Meter
	text  string
}

func sameMeter(a, b meterBody) bool { return a.text == b.text }

// SetMeters replaces every meter of owner by meters.
func (d *Desired) SetMeters(owner string, meters []Meter) {
	items := make([]item[uint32, meterBody], 0, len(meters))
	for _, m := range meters {
		items = append(items, item[uint32, meterBody]{m.ID, meterBody{m, m.String()}})
	}
	for _, k := range d.meters.set(owner, items) {
		d.log.Warn("conflicting meters: first owner wins", "meter_id", k.key, "winner", k.winner, "loser", k.loser)
	}
}

// RemoveMeters drops every meter of owner.
func (d *Desired) RemoveMeters(owner string) { d.meters.set(owner, nil) }

// multipartMeterDesc is OFPMP_METER_DESC (OpenFlow 1.3's METER_CONFIG).
const multipartMeterDesc = 10

// dumpMeters reads the switch's meters.
func dumpMeters(ctx context.Context, sw Switch) (map[uint32]string, error) {
	body := binary.BigEndian.AppendUint32(nil, openflow.MeterAll)
	parts, err := sw.Multipart(ctx, &openflow.MultipartRequest{MPType: multipartMeterDesc, Body: append(body, 0, 0, 0, 0)})
	if err != nil {
		return nil, fmt.Errorf("dump meters: %w", err)
	}
	out := map[uint32]string{}
	for _, p := range parts {
		r, ok := p.(*openflow.MultipartReply)
		if !ok || r.MPType != multipartMeterDesc {
			return nil, fmt.Errorf("dump meters: unexpected reply %T", p)
		}
		meters, err := decodeMeterDescs(r.Body)
		if err != nil {
			return nil, fmt.Errorf("dump meters: %w", err)
		}
		for _, m := range meters {
			out[m.ID] = m.String()
		}
	}
	return out, nil
}

// decodeMeterDescs decodes ofp_meter_desc entries: length, flags, meter
// id, then 16-byte bands.
func decodeMeterDescs(b []byte) ([]Meter, error) {
	var out []Meter
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("meter desc of %d bytes", len(b))
		}
		n := int(binary.BigEndian.Uint16(b))
		if n < 8 || n > len(b) || (n-8)%16 != 0 {
			return nil, fmt.Errorf("meter desc length %d of %d bytes", n, len(b))
		}
		m := Meter{Flags: binary.BigEndian.Uint16(b[2:]), ID: binary.BigEndian.Uint32(b[4:])}
		for p := b[8:n]; len(p) >= 16; p = p[16:] {
			band := openflow.MeterBand{Type: binary.BigEndian.Uint16(p), Rate: binary.BigEndian.Uint32(p[4:]),
				BurstSize: binary.BigEndian.Uint32(p[8:])}
			if band.Type == openflow.BandDSCPRemark {
				band.PrecLevel = p[12]
			}
			m.Bands = append(m.Bands, band)
		}
		out = append(out, m)
		b = b[n:]
	}
	return out, nil
}

// meterMods are the meter adds and changes (sent before the bundle: OVS
// takes no meter mod in a bundle, and flows may use the meters) and the
// deletes (sent after it) that make the switch's meters d's.
func (in *Installer) meterMods(d *Desired, ids map[uint32]struct{}, st *Stats) (before, after []openflow.Message) {
	for _, id := range sortedIDs(ids) {
		want, ok := d.meters.lookup(id)
		have, installed := in.meters[id]
		switch {
		case !ok && installed:
			after = append(after, &openflow.MeterMod{Command: openflow.MeterDelete, MeterID: id})
			delete(in.meters, id)
			st.MetersDeleted++
		case ok && (!installed || have != want.text):
			cmd := uint16(openflow.MeterAdd)
			if installed {
				cmd = openflow.MeterModify
				st.MetersModified++
			} else {
				st.MetersAdded++
			}
			m := want.meter
			before = append(before, &openflow.MeterMod{Command: cmd, Flags: m.Flags, MeterID: id, Bands: m.Bands})
			in.meters[id] = want.text
		}
	}
	return before, after
}

// sendMeterMods sends meter mods outside any bundle and checks, by
// reading the meters back, that the switch took them: errors for them
// would arrive on the connection's asynchronous channel, which is not
// the installer's.
func (in *Installer) sendMeterMods(ctx context.Context, mods []openflow.Message) error {
	if len(mods) == 0 {
		return nil
	}
	for _, m := range mods {
		if _, err := in.sw.Send(ctx, m); err != nil {
			return fmt.Errorf("meter mod: %w", err)
		}
	}
	if err := in.sw.Barrier(ctx); err != nil {
		return fmt.Errorf("meter mods: %w", err)
	}
	got, err := dumpMeters(ctx, in.sw)
	if err != nil {
		return err
	}
	for _, m := range mods {
		mm := m.(*openflow.MeterMod)
		text, ok := got[mm.MeterID]
		switch {
		case mm.Command == openflow.MeterDelete && ok:
			return fmt.Errorf("switch kept meter %d after its delete", mm.MeterID)
		case mm.Command != openflow.MeterDelete && text != in.meters[mm.MeterID]:
			return fmt.Errorf("switch rejected meter %d: has %q", mm.MeterID, text)
		}
	}
	return nil
}
