package roles

import (
	"log/slog"
	"testing"

	"github.com/ovnd/ovnd/northd"
)

func TestNorthdWiring(t *testing.T) {
	cfg := configWith("northd")
	cfg.Northd = NorthdConfig{NB: "unix:/a/nb.sock", SB: "tcp:10.0.0.1:6642"}
	log := slog.New(slog.DiscardHandler)
	got := cfg.northdConfig(log)
	if got != (northd.Config{NB: "unix:/a/nb.sock", SB: "tcp:10.0.0.1:6642", Logger: log}) {
		t.Errorf("northdConfig = %+v", got)
	}
	if r, err := newNorthd(cfg, log); err != nil || r == nil {
		t.Errorf("newNorthd = %v, %v", r, err)
	}
}
