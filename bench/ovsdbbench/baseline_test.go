package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestBaselineFillsOvsdbServerColumn: -baseline runs another ovnd build,
// as an ovnd, in ovsdb-server's column, and the table says so.
func TestBaselineFillsOvsdbServerColumn(t *testing.T) {
	sides, err := resolveSides(context.Background(), options{baseline: "/bin/true", ovnd: "/bin/false"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(sides) != 2 {
		t.Fatalf("%d sides, want 2", len(sides))
	}
	if s := sides[0]; s.name != sideOvsdbServer || s.kind != sideOvnd || s.bin != "/bin/true" {
		t.Errorf("first side = %+v, want the baseline ovnd in the %s column", *s, sideOvsdbServer)
	}
	if s := sides[1]; s.name != sideOvnd || s.kind != sideOvnd || s.bin != "/bin/false" {
		t.Errorf("second side = %+v, want the ovnd under test", *s)
	}
	var b strings.Builder
	if err := writeTable(&b, baselineHeader, nil, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| ovnd baseline | ovnd | ovnd/baseline |") {
		t.Errorf("header %q does not name the baseline", b.String())
	}
}

func TestBaselineRejectsTwinAndMissingBinary(t *testing.T) {
	err := run(context.Background(), options{baseline: "/bin/true", twin: true, repeat: 1}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-baseline and -twin") {
		t.Errorf("-baseline with -twin: err = %v", err)
	}
	_, err = resolveSides(context.Background(), options{baseline: "/no/such/ovnd", ovnd: "/bin/true"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "-baseline") {
		t.Errorf("missing baseline binary: err = %v", err)
	}
}
