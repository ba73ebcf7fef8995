package lflowc

import "testing"

// The cookie is the first 32 bits of the lflow's UUID, as
// ovn-controller sets it, 0 when the UUID does not start with 8 hex
// digits; it costs no allocation.
func TestCookieOf(t *testing.T) {
	for uuid, want := range map[string]uint64{
		"9da1755b-1a1c-4a8c-aff6-92d561593c8c": 0x9da1755b,
		"00000001-0000-0000-0000-000000000000": 1,
		"FFFFFFFF-0000-0000-0000-000000000000": 0xffffffff,
		"ffffffff":                             0xffffffff,
		"9da1755-b1a1c-4a8c-aff6-92d561593c8c": 0,
		"9da1755g-1a1c-4a8c-aff6-92d561593c8c": 0,
		"+da1755b-1a1c-4a8c-aff6-92d561593c8c": 0,
		"":                                     0,
	} {
		if got := cookieOf(uuid); got != want {
			t.Errorf("cookieOf(%q) = %#x, want %#x", uuid, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { cookieOf("9da1755b-1a1c-4a8c-aff6-92d561593c8c") }); n != 0 {
		t.Errorf("cookieOf allocates %.0f times", n)
	}
}
