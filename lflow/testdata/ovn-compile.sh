#!/bin/sh
# ovn-compile.sh asks a real OVN 23.03 how it compiles match expressions:
# it reads one match per line on stdin, installs each as a to-lport drop
# ACL (priority 1001, 1002, ...) on a switch with a port bound to a
# private chassis (ovs-vswitchd on a netdev bridge plus ovn-controller,
# all in a temp dir), and prints the OpenFlow flows ovn-controller
# installed for them, one "priority: flow match" per line, followed by
# the controller's parse errors. It is a manual oracle for the symbol
# table and normalisation; the tests do not run it.
#
# Usage (as root, in a private network namespace so the bridge's
# internal port stays out of the host's):
#
#	printf '%s\n' 'ip6.mcast_flood' 'reg0 == 1 && xreg0[32..63] == 2' |
#		unshare -n sh lflow/testdata/ovn-compile.sh
set -eu
dir=$(mktemp -d)
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

serve() { # name schema remote
	ovsdb-tool create "$dir/$1.db" "$2"
	ovsdb-server "$dir/$1.db" --remote="punix:$dir/$3" --unixctl="$dir/$1.ctl" \
		--pidfile="$dir/$1.pid" --log-file="$dir/$1.log" >/dev/null 2>&1 &
	pids="$pids $!"
}
serve nb /usr/share/ovn/ovn-nb.ovsschema nb.sock
serve sb /usr/share/ovn/ovn-sb.ovsschema sb.sock
serve conf /usr/share/openvswitch/vswitch.ovsschema db.sock
for i in $(seq 1 20); do [ -S "$dir/db.sock" ] && [ -S "$dir/sb.sock" ] && break; sleep 0.2; done

vsctl() { ovs-vsctl --db="unix:$dir/db.sock" "$@"; }
vsctl --no-wait init
ovs-vswitchd "unix:$dir/db.sock" --unixctl="$dir/vswitchd.ctl" --pidfile="$dir/vswitchd.pid" \
	--log-file="$dir/vswitchd.log" >/dev/null 2>&1 &
pids="$pids $!"
vsctl --no-wait set open_vswitch . external_ids:system-id=hv1 \
	external_ids:ovn-remote="unix:$dir/sb.sock" external_ids:ovn-encap-type=geneve \
	external_ids:ovn-encap-ip=127.0.0.1 external_ids:ovn-bridge=br-chk
vsctl add-br br-chk -- set bridge br-chk datapath_type=netdev fail-mode=secure
ovn-northd --ovnnb-db="unix:$dir/nb.sock" --ovnsb-db="unix:$dir/sb.sock" \
	--unixctl="$dir/northd.ctl" --pidfile="$dir/northd.pid" --log-file="$dir/northd.log" >/dev/null 2>&1 &
pids="$pids $!"
ovn-controller "unix:$dir/db.sock" --pidfile="$dir/controller.pid" \
	--log-file="$dir/controller.log" >/dev/null 2>&1 &
pids="$pids $!"

nb() { ovn-nbctl --db="unix:$dir/nb.sock" "$@"; }
nb ls-add sw0
nb lsp-add sw0 p1 -- lsp-set-addresses p1 "50:54:00:00:00:01 10.0.0.11"
# Bind the port only once the chassis is registered, or the claim can be
# missed.
for i in $(seq 1 50); do
	[ -n "$(ovn-sbctl --db="unix:$dir/sb.sock" --bare --columns=name list Chassis)" ] && break
	sleep 0.2
done
vsctl add-port br-chk p1 -- set interface p1 type=internal external_ids:iface-id=p1
prio=1000
while IFS= read -r match; do
	prio=$((prio + 1))
	nb acl-add sw0 to-lport "$prio" "$match" drop
done
nb --wait=sb sync
ofctl() { ovs-ofctl dump-flows "unix:$dir/br-chk.mgmt" --no-stats 2>/dev/null; }
# Wait for the flow count to settle: ovn-controller installs in batches.
last=-1
for i in $(seq 1 60); do
	n=$(ofctl | grep -c 'priority=2[0-9][0-9][0-9],' || true)
	[ "$n" -gt 0 ] && [ "$n" = "$last" ] && break
	last=$n
	sleep 1
done
ofctl | sed -n 's/.*priority=\(2[0-9][0-9][0-9]\),\(.*\) actions=.*/\1: \2/p' | LC_ALL=C sort
grep 'error parsing match' "$dir/controller.log" | sed 's/.*lflow|WARN|//' || true
