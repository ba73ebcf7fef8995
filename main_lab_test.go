package main

import (
	"bytes"
	"strings"
	"testing"
)

// The lab's command line: bad flags and stray arguments are usage errors,
// before anything is checked or started.
func TestLabCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"lab", "--frob"}, exitUsage, "flag provided but not defined: -frob"},
		{[]string{"lab", "extra"}, exitUsage, `ovnd lab: unexpected arguments ["extra"]`},
		{[]string{"lab", "-h"}, exitOK, "-exit-after-demo"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("ovnd %v = %d, stderr %q; want %d, stderr containing %q", tt.args, code, stderr.String(), tt.code, tt.stderr)
		}
	}
	var stdout bytes.Buffer
	run([]string{"help"}, &stdout, &stdout)
	if !strings.Contains(stdout.String(), "lab [--demo] [--exit-after-demo] [--state-dir DIR]") {
		t.Errorf("help does not describe lab:\n%s", stdout.String())
	}
}
