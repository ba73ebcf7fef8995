package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ovndBinary is built at most once per test process.
var ovndBinary struct {
	once sync.Once
	path string
	err  error
}

// ovndPath returns the ovnd binary: $OVND_BIN, or one built from the module
// root into a temporary directory.
func ovndPath() (string, error) {
	ovndBinary.once.Do(func() {
		if p := os.Getenv("OVND_BIN"); p != "" {
			ovndBinary.path = p
			return
		}
		ovndBinary.path, ovndBinary.err = buildOVND()
	})
	return ovndBinary.path, ovndBinary.err
}

func buildOVND() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	// A later run's sweep removes the directory once this process is gone.
	dir := filepath.Join(baseDir(), fmt.Sprintf("bin-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build ovnd: %w", err)
	}
	out := filepath.Join(dir, "ovnd")
	cmd := exec.Command("go", "build", "-o", out, "github.com/ovnd/ovnd")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ovnd: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// moduleRoot walks up from the working directory (the package directory
// under go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string { return strconv.Quote(s) }

// ovndDatabaseConfig is the TOML for the database role.
func ovndDatabaseConfig(dir, nbSock, sbSock string) string {
	return fmt.Sprintf("roles = [\"database\"]\n\n[database]\ndir = %s\nnb_remotes = [%s]\nsb_remotes = [%s]\n",
		tomlString(dir), tomlString("punix:"+nbSock), tomlString("punix:"+sbSock))
}

// ovndNorthdConfig is the TOML for the northd role.
func ovndNorthdConfig(nbSock, sbSock string) string {
	return fmt.Sprintf("roles = [\"northd\"]\n\n[northd]\nnb = %s\nsb = %s\n",
		tomlString("unix:"+nbSock), tomlString("unix:"+sbSock))
}

// ovndControllerConfig is the TOML for the controller role; the rest comes
// from the chassis's Open_vSwitch external_ids, as for ovn-controller.
func ovndControllerConfig(ovsSock string) string {
	return fmt.Sprintf("roles = [\"controller\"]\n\n[controller]\novs = %s\n", tomlString("unix:"+ovsSock))
}

// startOVND writes cfg next to output and runs "ovnd run --config".
func startOVND(name, output, ns string, env []string, cfg string) (*daemon, error) {
	bin, err := ovndPath()
	if err != nil {
		return nil, err
	}
	cfgPath := strings.TrimSuffix(output, filepath.Ext(output)) + ".toml"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("write %s config: %w", name, err)
	}
	return startDaemon(name, output, ns, env, bin, "run", "--config", cfgPath)
}
