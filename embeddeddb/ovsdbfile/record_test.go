package ovsdbfile

import (
	"errors"
	"testing"
)

// TestEncodeMatchesOVSDB checks the framing against a record that
// ovsdb-tool 3.1 transact wrote.
func TestEncodeMatchesOVSDB(t *testing.T) {
	body := `{"_date":1795466650868,"Logical_Switch":{"847f22aa-cc1e-4c5b-acd2-24b15dee0ef7":null},"_is_diff":true}`
	want := "OVSDB JSON 103 d754b996930236b7bccb46bb6e8b2d58fb1ac489\n" + body + "\n"
	got := encodeRecord(nil, []byte(body))
	if string(got) != want {
		t.Fatalf("encodeRecord:\n got %q\nwant %q", got, want)
	}
	if recordSize([]byte(body)) != len(want) {
		t.Fatalf("recordSize = %d, want %d", recordSize([]byte(body)), len(want))
	}
	h, b, n, err := nextRecord(got)
	if err != nil || h.magic != magicJSON || string(b) != body+"\n" || n != len(want) {
		t.Fatalf("nextRecord = %+v %q %d %v", h, b, n, err)
	}
}

func TestParseHeaderRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"OVSDB JSON",
		"OVSDB  JSON 3 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON 3  d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON -3 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON 0 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON +3 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON 99999999999999999999 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
		"OVSDB JSON 3 d754b996930236b7bccb46bb6e8b2d58fb1ac48",
		"OVSDB JSON 3 d754b996930236b7bccb46bb6e8b2d58fb1ac48g",
		"OVSDB JSON 3 d754b996930236b7bccb46bb6e8b2d58fb1ac489 x",
		"ovsdb JSON 3 d754b996930236b7bccb46bb6e8b2d58fb1ac489",
	} {
		if _, err := parseHeader([]byte(line)); err == nil {
			t.Errorf("parseHeader(%q) succeeded", line)
		}
	}
}

func TestNextRecordShort(t *testing.T) {
	full := encodeRecord(nil, rec(1))
	for cut := 1; cut < len(full); cut++ {
		_, _, _, err := nextRecord(full[:cut])
		if !errors.Is(err, errShort) {
			t.Errorf("cut at %d: err = %v, want errShort", cut, err)
		}
	}
}
