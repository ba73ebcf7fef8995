// Command build packages an ovnd binary as a .deb and an .rpm with nfpm,
// from the declaration in packaging/nfpm.yaml. `make package` (.ci/package)
// builds the binary and runs it:
//
//	cd packaging && go run ./build -binary ../dist/build/ovnd \
//	    -version "$(git describe --tags --always --dirty)" \
//	    -commits "$(git rev-list --count HEAD)" -out ../dist
//
// It lives in its own module (packaging/go.mod) so that nfpm and its many
// dependencies stay out of ovnd's module and binary.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Formats are the package formats built, in this order.
var Formats = []string{"deb", "rpm"}

// Options say what to package and where.
type Options struct {
	Root     string  // the repository root: nfpm.yaml's sources are relative to it
	Config   string  // the nfpm config, relative to Root
	Binary   string  // the ovnd binary to ship as /usr/bin/ovnd
	Version  Version // the package version
	Arch     string  // GOARCH of the binary
	OutDir   string  // where the packages go
	Formats  []string
	Maintain string // the Maintainer field; empty keeps nfpm.yaml's
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "package: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var o Options
	var describe string
	var commits int
	fs.StringVar(&o.Root, "root", "..", "repository root")
	fs.StringVar(&o.Config, "config", "packaging/nfpm.yaml", "nfpm config, relative to -root")
	fs.StringVar(&o.Binary, "binary", "", "ovnd binary to package (required)")
	fs.StringVar(&describe, "version", "", "version: git describe --tags --always --dirty output, or X.Y.Z (required)")
	fs.IntVar(&commits, "commits", 0, "commits in the history (git rev-list --count HEAD); orders untagged builds")
	fs.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH the binary was built for")
	fs.StringVar(&o.OutDir, "out", "dist", "output directory")
	fs.StringVar(&o.Maintain, "maintainer", os.Getenv("MAINTAINER"), "Maintainer field (default: nfpm.yaml's, or $MAINTAINER)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.Binary == "" || describe == "" {
		return errors.New("-binary and -version are required")
	}
	v, err := PackageVersion(describe, commits)
	if err != nil {
		return err
	}
	o.Version = v
	o.Formats = Formats
	paths, err := Build(o)
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return err
}

// Build writes one package per format into o.OutDir and returns their
// paths.
func Build(o Options) ([]string, error) {
	binary, err := filepath.Abs(o.Binary)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	} else if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("binary %s: not an executable file", binary)
	}
	out, err := filepath.Abs(o.OutDir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	env := map[string]string{"BINARY": binary, "ARCH": o.Arch}
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(root, o.Config), func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.Config, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, format := range o.Formats {
		p, err := buildOne(cfg, format, root, out, o)
		if err != nil {
			return paths, fmt.Errorf("%s: %w", format, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func buildOne(cfg nfpm.Config, format, root, out string, o Options) (string, error) {
	info, err := cfg.Get(format)
	if err != nil {
		return "", err
	}
	info.Version = o.Version.Base
	info.Prerelease = o.Version.Prerelease
	info.VersionMetadata = o.Version.Metadata
	if o.Maintain != "" {
		info.Maintainer = o.Maintain
	}
	resolve(info, root)
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", err
	}
	pkgr, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(out, pkgr.ConventionalFileName(info))
	return path, writePackage(pkgr, info, path)
}

// resolve makes the relative source paths of nfpm.yaml relative to root
// rather than to the working directory, which is where nfpm looks.
func resolve(info *nfpm.Info, root string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	for _, c := range info.Contents {
		if c.Type != files.TypeSymlink { // a symlink's source is its target
			abs(&c.Source)
		}
	}
	for _, p := range []*string{
		&info.Scripts.PreInstall, &info.Scripts.PostInstall,
		&info.Scripts.PreRemove, &info.Scripts.PostRemove,
	} {
		abs(p)
	}
}

// writePackage writes to a temp file and renames it into place, so that a
// failed build never leaves a truncated package behind.
func writePackage(pkgr nfpm.Packager, info *nfpm.Info, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
