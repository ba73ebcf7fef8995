package interop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BinEnv names a prebuilt ovnd binary to use instead of building one.
const BinEnv = "OVND_BIN"

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// OVNDBinary returns the path of an ovnd binary: $OVND_BIN, or one built
// from this module once per test process.
func OVNDBinary() (string, error) {
	if bin := os.Getenv(BinEnv); bin != "" {
		return bin, nil
	}
	build.once.Do(buildOVND)
	return build.bin, build.err
}

func buildOVND() {
	root, err := moduleRoot()
	if err != nil {
		build.err = fmt.Errorf("build ovnd: %w", err)
		return
	}
	build.dir, build.err = os.MkdirTemp("", "ovnd-interop-")
	if build.err != nil {
		return
	}
	bin := filepath.Join(build.dir, "ovnd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/ovnd/ovnd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		build.err = fmt.Errorf("ovnd does not build (go build github.com/ovnd/ovnd in %s): %v\n%s", root, err, out)
		return
	}
	build.bin = bin
}

// RemoveBuild deletes the binary built by OVNDBinary; TestMain calls it.
func RemoveBuild() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// moduleRoot walks up from the working directory to the dir with go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
