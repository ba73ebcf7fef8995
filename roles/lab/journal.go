package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ovnd/ovnd/internal/proc"
)

// journalFile is the lab's record of what it changed outside its own
// processes, kept in the state directory as each change is made, so that
// the next lab can undo the changes of one that crashed. Its presence also
// marks a directory as a lab's.
const journalFile = "lab.json"

// journal is what the lab changed and must undo. The VIF namespaces and
// veths are not in it: their names carry the lab's prefix, and the sweep
// finds them by it.
type journal struct {
	// PID is the ovnd running the lab.
	PID int `json:"pid"`
	// HostOVS is the socket of an Open vSwitch that was already running
	// and that the lab configured; "" when the lab started its own.
	HostOVS string `json:"host_ovs,omitempty"`
	// ExternalIDs are the Open_vSwitch external_ids keys the lab set on
	// the host's OVS, each with its value before (nil: it was not set).
	ExternalIDs map[string]*string `json:"external_ids_before,omitempty"`
	// CreatedBridge is set when the lab added br-int to the host's OVS.
	CreatedBridge bool `json:"created_bridge,omitempty"`
	// CreatedOVNRunDir is set when the lab created /var/run/ovn.
	CreatedOVNRunDir bool `json:"created_ovn_run_dir,omitempty"`
}

// maxStateDir keeps the longest socket path in the state directory,
// ovs/ovs-vswitchd.PID.ctl, within the 107 bytes of sun_path.
const maxStateDir = 107 - len("/ovs/ovs-vswitchd.4194304.ctl")

// errForeignDir is returned for a state directory that holds files but
// no journal: it is not a lab's, and the lab would delete them.
var errForeignDir = errors.New("is not empty and was not made by ovnd lab")

// checkStateDir returns the journal of an earlier lab in dir (nil if the
// directory is new or empty) or why dir cannot be used.
func checkStateDir(dir string) (*journal, error) {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) == "/" {
		return nil, fmt.Errorf("state dir %q: must be an absolute path below /", dir)
	}
	if len(dir) > maxStateDir {
		return nil, fmt.Errorf("state dir %q: longer than %d bytes, too long for the unix sockets inside it", dir, maxStateDir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	j, err := loadJournal(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("state dir %s %w: pick another --state-dir", dir, errForeignDir)
	}
	if err != nil {
		// A torn journal from a crash: the directory is still the lab's;
		// the sweep by name prefix undoes what the journal would have.
		return &journal{}, nil
	}
	return j, nil
}

func loadJournal(dir string) (*journal, error) {
	data, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", journalFile, err)
	}
	return &j, nil
}

// save writes the journal atomically into dir.
func (j *journal) save(dir string) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, journalFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, journalFile)); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// liveOwner returns the pid of a running lab that owns the journal, or 0.
func (j *journal) liveOwner() int {
	if j.PID <= 1 || j.PID == os.Getpid() || !proc.Running(j.PID) || !proc.CmdlineMentions(j.PID, "lab") {
		return 0
	}
	return j.PID
}
