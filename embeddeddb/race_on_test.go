//go:build race

package embeddeddb

// raceEnabled: the race detector slows byte-at-a-time scanning tenfold.
const raceEnabled = true
