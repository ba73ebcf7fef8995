package controller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// Config is what the controller role needs; everything else comes from
// the local Open_vSwitch table's external_ids, as for ovn-controller.
type Config struct {
	// OVS is the local Open_vSwitch database remote
	// ("unix:/var/run/openvswitch/db.sock").
	OVS string
	// SystemIDFile is read when external_ids:system-id is not set;
	// default /etc/openvswitch/system-id.conf.
	SystemIDFile string
	// RunDir is where br-int.mgmt lives; default $OVS_RUNDIR, else the
	// directory of a unix: OVS remote, else /var/run/openvswitch.
	RunDir string
	// Logger is the role's logger; nil discards.
	Logger *slog.Logger
}

// Controller is the controller role.
type Controller struct {
	cfg Config
	log *slog.Logger
}

// New returns a controller role for cfg. It does not connect: Serve does.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SystemIDFile == "" {
		cfg.SystemIDFile = "/etc/openvswitch/system-id.conf"
	}
	if cfg.RunDir == "" {
		cfg.RunDir = runDir(cfg.OVS)
	}
	return &Controller{cfg: cfg, log: cfg.Logger}
}

// runDir is where OVS keeps its sockets, as ovs_rundir() finds it.
func runDir(ovsRemote string) string {
	if d := os.Getenv("OVS_RUNDIR"); d != "" {
		return d
	}
	if p, ok := strings.CutPrefix(ovsRemote, "unix:"); ok {
		return filepath.Dir(p)
	}
	return "/var/run/openvswitch"
}

// Serve connects to the local OVS database, then to the SB it names, and
// keeps the chassis and br-int's flows right until ctx ends.
func (c *Controller) Serve(ctx context.Context) error {
	ovsModel, err := vswitch.FullDatabaseModel()
	if err != nil {
		return fmt.Errorf("ovs model: %w", err)
	}
	kick := make(chan struct{}, 1)
	ovsChanges := newChangeLog()
	ovsc, err := connect(ctx, c.log, ovsModel, c.cfg.OVS, 0, nil, ovsChanges, kick)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect ovs %s: %w", c.cfg.OVS, err)
	}
	defer ovsc.Close()
	c.log.Info("connected to the local ovs database", "remote", c.cfg.OVS)
	l := newLoop(c, ovsc, ovsChanges, kick)
	defer l.close()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-retry.C:
		}
		if err := l.round(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("round failed", "err", err)
			retry.Reset(time.Second)
		}
	}
}

// ovsRoot returns the Open_vSwitch row, or nil while there is none.
func ovsRoot(ctx context.Context, c client.Client) (*vswitch.OpenvSwitch, error) {
	var rows []vswitch.OpenvSwitch
	if err := c.List(ctx, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}
