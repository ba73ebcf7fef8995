#!/bin/sh
# gen-ovn-flows.sh records how a real OVN 23.03 compiles every match in
# ovn-matches.txt (via ovn-compile.sh), as the golden for
# TestOVNEquivalence: each match, then its flows indented, then a blank
# line; a match that yields no flows (false, or rejected by OVN) is followed by
# "  (no flows)".
#
# Usage (as root): unshare -n sh lflow/testdata/gen-ovn-flows.sh > lflow/testdata/ovn-flows-23.03.txt
set -eu
here=$(dirname "$0")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for try in 1 2 3; do
	sh "$here/ovn-compile.sh" < "$here/ovn-matches.txt" > "$out"
	grep -q '^2' "$out" && break
done
awk -v flows="$out" '
BEGIN {
	while ((getline line < flows) > 0) {
		if (line ~ /^2[0-9][0-9][0-9]: /) {
			p = substr(line, 1, 4) - 2000
			f = substr(line, 7)
			gsub(/(^|,)metadata=0x[0-9a-f]+/, "", f)
			sub(/^,/, "", f)
			got[p] = got[p] "  " f "\n"
		}
	}
}
{ n++; printf "%s\n%s\n", $0, (n in got) ? got[n] : "  (no flows)\n" }
' "$here/ovn-matches.txt"
