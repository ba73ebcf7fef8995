package lab

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// teardown stops and removes everything this lab started and created, in
// the reverse order: controller and roles, VIFs, br-int and the OVS
// settings (or the private OVS), then the files.
func (l *lab) teardown() error {
	if l.j == nil {
		return nil // prepare failed: nothing was changed
	}
	l.p.step("stopping the lab")
	l.echo.Set(slog.LevelError + 1)
	var errs []error
	if err := l.central.stop(); err != nil {
		errs = append(errs, fmt.Errorf("ovnd roles: %w", err))
	}
	if err := sweepVIFs(); err != nil {
		errs = append(errs, err)
	}
	if l.ovs != nil && l.ovs.private {
		l.ovs.stop()
	}
	if err := undoHostOVS(l.j); err != nil {
		errs = append(errs, err)
	}
	undoOVNRunDir(l.j)
	if l.logFile != nil {
		l.logFile.Close()
	}
	if err := os.RemoveAll(l.dir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		l.p.step("stopped; removed %s and everything the lab created", l.dir)
	}
	return errors.Join(errs...)
}

// undoHostOVS deletes the br-int the lab added to the host's OVS and
// restores the external_ids it changed.
func undoHostOVS(j *journal) error {
	if j.HostOVS == "" {
		return nil
	}
	o := &localOVS{sock: j.HostOVS}
	if !answers(o.sock) {
		return fmt.Errorf("cannot restore the Open vSwitch on %s: it does not answer; restore external_ids %s by hand", o.sock, describeIDs(j.ExternalIDs))
	}
	var errs []error
	if j.CreatedBridge {
		if _, err := o.vsctl("--if-exists", "del-br", integrationBridge); err != nil {
			errs = append(errs, err)
		}
	}
	if err := o.setExternalIDs(j.ExternalIDs); err != nil {
		errs = append(errs, fmt.Errorf("restore external_ids: %w", err))
	}
	return errors.Join(errs...)
}

func describeIDs(ids map[string]*string) string {
	var parts []string
	for k, v := range ids {
		if v == nil {
			parts = append(parts, k+" (unset)")
		} else {
			parts = append(parts, k+"="+*v)
		}
	}
	return strings.Join(parts, ", ")
}

// undoOVNRunDir removes /var/run/ovn if the lab created it and it is
// empty again.
func undoOVNRunDir(j *journal) {
	if j.CreatedOVNRunDir {
		os.Remove(filepath.Dir(defaultNBSocket))
	}
}

// recoverStale undoes the changes an earlier lab recorded in dir and
// empties dir.
func recoverStale(dir string, j *journal) error {
	errs := []error{
		killStale(filepath.Join(dir, "ovn-controller.pid"), dir),
		stopStalePrivateOVS(filepath.Join(dir, "ovs")),
		sweepVIFs(),
		undoHostOVS(j),
	}
	undoOVNRunDir(j)
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
