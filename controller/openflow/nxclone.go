package openflow

import "fmt"

// nxClone is the Nicira clone action subtype.
const nxClone = 42

// Clone runs Actions on a copy of the packet and then goes on with the
// original unchanged (NXAST_CLONE). ovn-controller sends packets across a
// logical patch port with it, so that the peer's pipeline cannot change
// what the rest of the flow sees.
type Clone struct{ Actions []Action }

func (a *Clone) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = zeros(nxHeader(b, nxClone), 6)
	b, err := appendActions(b, a.Actions)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	return fixLen(b, start), nil
}

func (a *Clone) String() string { return "clone(" + actionsString(a.Actions) + ")" }

// init runs after nxaction.go's (files initialise in name order), which
// makes nxDecoders.
func init() {
	nxDecoders[nxClone] = func(a []byte) (Action, error) {
		acts, err := decodeActions(a[16:])
		if err != nil {
			return nil, fmt.Errorf("clone: %w", err)
		}
		return &Clone{Actions: acts}, nil
	}
}
