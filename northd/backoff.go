package northd

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// newBackoff is the reconnect schedule: quick at first, at most 8 s apart,
// forever.
func newBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 250 * time.Millisecond
	b.MaxInterval = 8 * time.Second
	b.MaxElapsedTime = 0
	return b
}
