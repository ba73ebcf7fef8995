package lflow

// shape says how an action is written.
type shape struct {
	args   argUse // whether it takes (...)
	body   argUse // whether it takes { ... }
	result argUse // whether it is "R = name(...)"
	bits   int    // the width R must have, 0 for any
	lb     bool   // ct_lb-style backend arguments
}

type argUse int

const (
	never argUse = iota
	optional
	required
)

// actionShapes lists every action of OVN 23.03 (ovn-sb(5), "actions"), with
// how it is written.
var actionShapes = map[string]shape{
	"output":               {},
	"drop":                 {},
	"next":                 {args: optional},
	"ct_next":              {},
	"ct_commit":            {args: optional, body: optional},
	"ct_commit_nat":        {},
	"ct_clear":             {},
	"ct_dnat":              {args: optional},
	"ct_snat":              {args: optional},
	"ct_dnat_in_czone":     {args: optional},
	"ct_snat_in_czone":     {args: optional},
	"ct_lb":                {args: optional, lb: true},
	"ct_lb_mark":           {args: optional, lb: true},
	"ct_snat_to_vip":       {},
	"clone":                {body: required},
	"arp":                  {body: required},
	"nd_ns":                {body: required},
	"nd_na":                {body: required},
	"nd_na_router":         {body: required},
	"icmp4":                {body: required},
	"icmp4_error":          {body: required},
	"icmp6":                {body: required},
	"icmp6_error":          {body: required},
	"tcp_reset":            {body: required},
	"sctp_abort":           {body: required},
	"reject":               {body: required},
	"igmp":                 {},
	"get_arp":              {args: required},
	"put_arp":              {args: required},
	"get_nd":               {args: required},
	"put_nd":               {args: required},
	"put_fdb":              {args: required},
	"get_fdb":              {args: required, result: required},
	"lookup_arp":           {args: required, result: required, bits: 1},
	"lookup_arp_ip":        {args: required, result: required, bits: 1},
	"lookup_nd":            {args: required, result: required, bits: 1},
	"lookup_nd_ip":         {args: required, result: required, bits: 1},
	"lookup_fdb":           {args: required, result: required, bits: 1},
	"put_dhcp_opts":        {args: required, result: required, bits: 1},
	"put_dhcpv6_opts":      {args: required, result: required, bits: 1},
	"put_nd_ra_opts":       {args: required, result: required, bits: 1},
	"dns_lookup":           {args: required, result: required, bits: 1},
	"check_in_port_sec":    {args: required, result: required, bits: 1},
	"check_out_port_sec":   {args: required, result: required, bits: 1},
	"chk_lb_hairpin":       {args: required, result: required, bits: 1},
	"chk_lb_hairpin_reply": {args: required, result: required, bits: 1},
	"chk_lb_aff":           {args: required, result: required, bits: 1},
	"chk_ecmp_nh":          {args: required, result: required, bits: 1},
	"chk_ecmp_nh_mac":      {args: required, result: required, bits: 1},
	"select":               {args: required, result: required},
	"check_pkt_larger":     {args: required, result: required, bits: 1},
	"set_queue":            {args: required},
	"set_meter":            {args: required},
	"log":                  {args: required},
	"fwd_group":            {args: required},
	"trigger_event":        {args: required},
	"bind_vport":           {args: required},
	"handle_svc_check":     {args: required},
	"handle_dhcpv6_reply":  {},
	"commit_ecmp_nh":       {args: required},
	"commit_lb_aff":        {args: required},
	"sample":               {args: required},
	"push":                 {args: required},
	"pop":                  {args: required},
}
