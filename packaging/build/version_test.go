package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestPackageVersion(t *testing.T) {
	tests := []struct {
		describe string
		commits  int
		want     string
	}{
		{"v1.2.3", 0, "1.2.3"},
		{"1.2.3", 0, "1.2.3"},
		{"v1.2.3-rc1", 0, "1.2.3~rc1"},
		{"v1.2.3-rc.1", 0, "1.2.3~rc.1"},
		{"v1.2.3-5-gabcdef0", 0, "1.2.3+git5.abcdef0"},
		{"v1.2.3-rc1-5-gabcdef0", 0, "1.2.3~rc1+git5.abcdef0"},
		{"v1.2.3-5-gabcdef0-dirty", 0, "1.2.3+git5.abcdef0.dirty"},
		{"v1.2.3-dirty", 0, "1.2.3+dirty"},
		{"ce28d94", 224, "0.0.0~git224.ce28d94"},
		{"ce28d94-dirty", 224, "0.0.0~git224.ce28d94+dirty"},
		{" v0.1.0\n", 0, "0.1.0"},
	}
	for _, tt := range tests {
		v, err := PackageVersion(tt.describe, tt.commits)
		if err != nil {
			t.Errorf("PackageVersion(%q, %d): %v", tt.describe, tt.commits, err)
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("PackageVersion(%q, %d) = %q, want %q", tt.describe, tt.commits, got, tt.want)
		}
	}
}

func TestPackageVersionErrors(t *testing.T) {
	for _, describe := range []string{"", "dev", "v1.2", "1.2.3.4", "v1.2.3-rc_1", "v1.2.3-5-gXYZ", "release-1.2.3", "ce28d94", "-dirty"} {
		commits := 10
		if describe == "ce28d94" {
			commits = -1
		}
		if v, err := PackageVersion(describe, commits); err == nil {
			t.Errorf("PackageVersion(%q, %d) = %q, want an error", describe, commits, v)
		}
	}
}

// Builds in history order get increasing versions, as dpkg and rpm compare
// them: untagged builds by commit count, then the first tag's release
// candidate, the release, commits after it, and the next release.
var historyOrder = []struct {
	describe string
	commits  int
}{
	{"abcdef0", 9},
	{"1234567", 10},
	{"1234567-dirty", 10},
	{"0123abc", 100},
	{"v0.1.0-rc1", 0},
	{"v0.1.0-rc1-3-g00aa11b", 0},
	{"v0.1.0-rc2", 0},
	{"v0.1.0", 0},
	{"v0.1.0-dirty", 0},
	{"v0.1.0-2-gffee000", 0},
	{"v0.1.0-10-g0011aab", 0},
	{"v0.1.1", 0},
	{"v0.10.0", 0},
}

func TestPackageVersionOrderDpkg(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg to compare versions with")
	}
	forEachPair(t, func(older, newer string) bool {
		return exec.Command("dpkg", "--compare-versions", older, "lt", newer).Run() == nil
	})
}

func TestPackageVersionOrderRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("no rpm to compare versions with (apt-get install rpm)")
	}
	forEachPair(t, func(older, newer string) bool {
		out, err := exec.Command("rpm", "--eval", `%{lua: print(rpm.vercmp("`+older+`", "`+newer+`"))}`).Output()
		if err != nil {
			t.Fatalf("rpm --eval vercmp: %v", err)
		}
		return strings.TrimSpace(string(out)) == "-1"
	})
}

func forEachPair(t *testing.T, less func(older, newer string) bool) {
	t.Helper()
	var versions []string
	for _, h := range historyOrder {
		v, err := PackageVersion(h.describe, h.commits)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v.String())
	}
	for i := 1; i < len(versions); i++ {
		if !less(versions[i-1], versions[i]) {
			t.Errorf("%s (from %s) does not sort before %s (from %s)",
				versions[i-1], historyOrder[i-1].describe, versions[i], historyOrder[i].describe)
		}
	}
}
