package roles

import (
	"log/slog"
	"os"
	"runtime/debug"
	"testing"
)

// The controller role sets its own GC target only when the operator has
// not chosen one with GOGC.
func TestControllerGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	old, had := os.LookupEnv("GOGC")
	defer func() {
		if had {
			os.Setenv("GOGC", old)
		} else {
			os.Unsetenv("GOGC")
		}
	}()
	cfg := &Config{Controller: ControllerConfig{OVS: "unix:/nonexistent/db.sock"}}
	log := slog.New(slog.DiscardHandler)

	os.Unsetenv("GOGC")
	if _, err := newController(cfg, log); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != controllerGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, controllerGCPercent)
	}

	os.Setenv("GOGC", "100")
	if _, err := newController(cfg, log); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100: GC percent %d, want 100 (the operator's)", got)
	}
}
