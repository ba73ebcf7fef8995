package main

import (
	"fmt"
	"regexp"
	"strings"
)

// Version is a package version in the three parts nfpm puts together:
// Debian writes Base~Prerelease+Metadata, RPM the same in its Version tag.
// A "~" part sorts before the bare Base in both dpkg and rpm; a "+" part
// sorts after it.
type Version struct {
	Base       string // 1.2.3
	Prerelease string // rc1, or git123.abcdef0 before the first tag
	Metadata   string // git5.abcdef0 for commits after a tag; dirty
}

func (v Version) String() string {
	s := v.Base
	if v.Prerelease != "" {
		s += "~" + v.Prerelease
	}
	if v.Metadata != "" {
		s += "+" + v.Metadata
	}
	return s
}

var (
	bareHash = regexp.MustCompile(`^[0-9a-f]{4,40}$`)
	// A tag (vX.Y.Z with an optional -prerelease) and what git describe adds
	// for commits after it: -N-gHASH.
	tagged = regexp.MustCompile(`^v?(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.]+?))?(?:-(\d+)-g([0-9a-f]{4,40}))?$`)
)

// PackageVersion turns the output of `git describe --tags --always --dirty`
// (or a release version set by hand, such as 1.2.3) into a version that
// dpkg and rpm order the way the commits are ordered. commits is the number
// of commits in the history (git rev-list --count HEAD); it orders builds
// made before the first tag, when describe gives only a hash.
//
//	v1.2.3             1.2.3
//	v1.2.3-rc1         1.2.3~rc1
//	v1.2.3-5-gabcdef0  1.2.3+git5.abcdef0
//	abcdef0 (no tag)   0.0.0~git<commits>.abcdef0
//	...-dirty          the same with a dirty metadata part
func PackageVersion(describe string, commits int) (Version, error) {
	s, dirty := strings.CutSuffix(strings.TrimSpace(describe), "-dirty")
	var v Version
	var meta []string
	switch m := tagged.FindStringSubmatch(s); {
	case bareHash.MatchString(s):
		if commits < 0 {
			return Version{}, fmt.Errorf("version %q: negative commit count %d", describe, commits)
		}
		v = Version{Base: "0.0.0", Prerelease: fmt.Sprintf("git%d.%s", commits, s)}
	case m != nil:
		v = Version{Base: m[1], Prerelease: m[2]}
		if m[3] != "" {
			meta = append(meta, "git"+m[3]+"."+m[4])
		}
	default:
		return Version{}, fmt.Errorf("version %q is not a package version: want a git describe of a vX.Y.Z tag, a commit hash, or X.Y.Z (set VERSION=X.Y.Z, or build from a git checkout)", describe)
	}
	if dirty {
		meta = append(meta, "dirty")
	}
	v.Metadata = strings.Join(meta, ".")
	return v, nil
}
