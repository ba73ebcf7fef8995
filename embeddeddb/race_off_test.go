//go:build !race

package embeddeddb

const raceEnabled = false
