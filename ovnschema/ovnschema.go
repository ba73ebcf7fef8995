// Package ovnschema owns the OVN database schemas that ovnd speaks: the
// OVN_Northbound 7.0.0 and OVN_Southbound 20.27.0 schemas of OVN 23.03, as
// the Debian ovn-common package installs them, embedded in the binary.
package ovnschema

import _ "embed"

// Northbound is the OVN_Northbound schema in its .ovsschema JSON form.
//
//go:embed ovn-nb.ovsschema
var Northbound []byte

// Southbound is the OVN_Southbound schema in its .ovsschema JSON form.
//
//go:embed ovn-sb.ovsschema
var Southbound []byte

// Names of the two databases, as they appear on the wire.
const (
	NorthboundName = "OVN_Northbound"
	SouthboundName = "OVN_Southbound"
)
