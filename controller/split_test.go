package controller

import (
	"context"
	"testing"
	"time"
)

// When one SB connection has handed over an nb_cfg the other has not,
// the round waits for the other (a poke of the loop) and takes another
// pass, so that one bundle installs both halves and nb_cfg is reported
// in that round; it waits at most splitWait from the round's start, and
// not again for a split that outlasted the wait.
func TestRoundWaitsForTheOtherConnection(t *testing.T) {
	ctx := context.Background()
	l := testLoop()
	l.kick = make(chan struct{}, 1)

	l.clientNbCfg, l.replicaNbCfg = 4, 4
	if l.awaitOtherSide(ctx, time.Now()) {
		t.Fatal("both connections at nb_cfg 4: another pass")
	}

	// The replica's part of nb_cfg 5 is in, the client's comes 1 ms on.
	l.replicaNbCfg = 5
	time.AfterFunc(time.Millisecond, func() { poke(l.kick) })
	start := time.Now()
	if !l.awaitOtherSide(ctx, start) {
		t.Fatal("split nb_cfg 4/5: no other pass")
	}
	if d := time.Since(start); d >= splitWait {
		t.Errorf("waited %v for a poke 1 ms away", d)
	}

	// Nothing comes: the wait ends at splitWait, one pass more, then
	// the round installs what it has.
	start = time.Now()
	if !l.awaitOtherSide(ctx, start) {
		t.Fatal("split nb_cfg 4/5, no poke: no other pass")
	}
	if d := time.Since(start); d < splitWait-time.Millisecond {
		t.Errorf("gave up after %v, want about %v", d, splitWait)
	}
	if l.awaitOtherSide(ctx, start) {
		t.Fatal("another pass after splitWait")
	}
	// The same split in the next round (a connection that lags for
	// good) is not waited for again; a new one is.
	if l.awaitOtherSide(ctx, time.Now()) {
		t.Fatal("waited again for the split that outlasted the wait")
	}
	l.clientNbCfg, l.replicaNbCfg = 5, 6
	poke(l.kick)
	if !l.awaitOtherSide(ctx, time.Now()) {
		t.Fatal("a new split (5/6) not waited for")
	}
}
