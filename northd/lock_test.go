package northd

import (
	"context"
	"testing"
)

func TestLockable(t *testing.T) {
	got := lockable([]string{"ssl:10.0.0.1:6642", "tcp:10.0.0.2:6642", "unix:/run/sb.sock"})
	if len(got) != 2 || got[0] != "tcp:10.0.0.2:6642" || got[1] != "unix:/run/sb.sock" {
		t.Errorf("lockable = %q", got)
	}
}

// Without a remote to lock on, the lock is held until ctx ends.
func TestLockWithoutRemote(t *testing.T) {
	changed := make(chan struct{}, 1)
	l := &sbLock{changed: func() { changed <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.RoutineLock(ctx); close(done) }()
	<-changed
	if !l.Held() {
		t.Error("lock not held")
	}
	cancel()
	<-done
}
