package roles

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/ovnd/ovnd/controller"
)

// controllerGCPercent is the GC target the controller role sets when the
// GOGC environment variable is unset. The controller's live heap is
// mostly long-lived tables (the SB replica, the compiled and the desired
// flows), so Go's default of 100 lets the heap grow to twice that between
// collections; 50 keeps the resident size near the live heap between
// changes. Bulk work (the initial load, a full recompute) runs with
// other settings until it is over (controller/bulkgc.go).
const controllerGCPercent = 50

// newController builds the controller role from the [controller] section.
// It does not connect: the role connects to the local OVS, then to the SB
// that OVS's external_ids:ovn-remote names, as it serves.
func newController(cfg *Config, log *slog.Logger) (role, error) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(controllerGCPercent)
	}
	return controller.New(controller.Config{OVS: cfg.Controller.OVS, Logger: log}), nil
}
