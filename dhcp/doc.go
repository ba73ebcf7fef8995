// Package dhcp is the native DHCP server of the controller: it answers
// the DHCPv4 and DHCPv6 requests that logical flows hand to the
// controller through put_dhcp_opts and put_dhcpv6_opts, the way
// ovn-controller 23.03 does.
//
// It is pure packet logic: a request frame and the options the logical
// flow carries go in, the reply frame comes out. No I/O, no goroutines,
// no clock. The controller's packet-in handler (controller/pinctrl)
// decodes the action's userdata, calls ReplyV4 or ReplyV6 and resumes the
// paused pipeline with the reply in place of the request, so that the
// next stage (ls_in_dhcp_response) sets the addresses and sends it back.
//
// The reply keeps the request's Ethernet and IP headers (except the IPv4
// destination), as ovn-controller's does; the logical pipeline rewrites
// them. Requests are decoded with github.com/insomniacslk/dhcp; replies
// are laid out byte for byte as ovn-controller lays them out (message
// type first, then the options in the order of the action, padding, end),
// which that library's encoder does not reproduce.
//
// The package is a leaf: it imports nothing of the module, so that the
// controller (and anything else) may use it.
package dhcp
