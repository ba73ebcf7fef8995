package difftest

import (
	"context"
	"regexp"
	"slices"
	"strings"
)

// SBTables are the Southbound tables (and columns) compared besides the
// logical flows. UUIDs are masked: they differ between any two databases.
// Tunnel keys are compared as sets, apart from the rows: ovn-northd hands
// them out in its hash order when several rows appear at once, so which
// switch or port gets which key is not reproducible.
var SBTables = []struct{ Table, Columns string }{
	{"SB_Global", "nb_cfg"},
	{"Datapath_Binding", "external_ids"},
	{"Datapath_Binding", "tunnel_key"},
	{"Port_Binding", "logical_port,type,mac,port_security,options,external_ids,tag,parent_port,up"},
	{"Port_Binding", "tunnel_key"},
	{"Multicast_Group", "name,tunnel_key,ports"},
	{"Port_Group", "name,ports"},
	{"Address_Set", "name,addresses"},
	{"Logical_DP_Group", "datapaths"},
	{"DNS", "records,datapaths,external_ids"},
	{"DHCP_Options", "name,code,type"},
	{"DHCPv6_Options", "name,code,type"},
	{"RBAC_Role", "name"},
	{"RBAC_Permission", "table,authorization,insert_delete,update"},
}

// dpKeyRE is the datapath tunnel key that prefixes SB Port_Group names.
var dpKeyRE = regexp.MustCompile(`^[0-9]+_`)

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// Rows lists table's columns in sb, one sorted line per row, UUIDs
// masked. The svc_monitor_mac address set is left out: it is random.
func Rows(ctx context.Context, sb, table, columns string) ([]string, error) {
	out, err := SBCtl(ctx, sb, "--format=csv", "--data=bare", "--no-headings", "--columns="+columns, "list", table)
	if err != nil {
		return nil, err
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" || strings.HasPrefix(l, "svc_monitor_mac,") {
			continue
		}
		l = uuidRE.ReplaceAllString(l, "<uuid>")
		if table == "Port_Group" {
			l = dpKeyRE.ReplaceAllString(l, "<dp>_")
		}
		rows = append(rows, l)
	}
	slices.Sort(rows)
	return rows, nil
}

// NBPorts lists what northd writes back to Logical_Switch_Port (name,
// up, tag), one sorted line per port.
func NBPorts(ctx context.Context, nb string) ([]string, error) {
	out, err := NBCtl(ctx, nb, "--format=csv", "--data=bare", "--no-headings", "--columns=name,up,tag", "list", "Logical_Switch_Port")
	if err != nil {
		return nil, err
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(rows)
	return rows, nil
}

// FlowRows counts Logical_Flow rows: with datapath groups a flow shared
// by several switches is one row, so the counts agree only when ovnd
// groups flows as ovn-northd does.
func FlowRows(ctx context.Context, sb string) (int, error) {
	out, err := SBCtl(ctx, sb, "--bare", "--columns=_uuid", "list", "Logical_Flow")
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(out)), nil
}
