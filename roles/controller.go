package roles

import (
	"log/slog"

	"github.com/ovnd/ovnd/controller"
)

// newController builds the controller role from the [controller] section.
// It does not connect: the role connects to the local OVS, then to the SB
// that OVS's external_ids:ovn-remote names, as it serves.
func newController(cfg *Config, log *slog.Logger) (role, error) {
	return controller.New(controller.Config{OVS: cfg.Controller.OVS, Logger: log}), nil
}
