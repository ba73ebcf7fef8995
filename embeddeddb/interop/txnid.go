package interop

import "regexp"

var (
	txnIDWire = regexp.MustCompile(`(\[(?:true|false),"|"update3","params":\[[^,]*,")[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"`)
	txnIDText = regexp.MustCompile(`(last_id: )[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// zeroTxnIDs replaces the transaction ids of monitor_cond_since replies and
// update3 notifications (on the wire, or as ovsdb-client prints them) with
// the all-zero id. ovnd sends real ids on purpose, so that a reconnecting
// client resumes from its last one, where a standalone ovsdb-server always
// sends zeros; everything else in those messages must still match.
func zeroTxnIDs(s string) string {
	s = txnIDWire.ReplaceAllString(s, "${1}"+zeroUUID+`"`)
	return txnIDText.ReplaceAllString(s, "${1}"+zeroUUID)
}
