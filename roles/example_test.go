package roles

import (
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

const examplePath = "../ovnd.toml.example"

// The example documents every key the code accepts, no other key, and
// shows each with the code's default.
func TestExampleMatchesCode(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(examplePath, data)
	if err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	if diff := cmp.Diff(Default(), cfg); diff != "" {
		t.Errorf("example values differ from Default() (-code +example):\n%s", diff)
	}

	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		t.Fatal(err)
	}
	var inExample []string
	for _, k := range md.Keys() {
		inExample = append(inExample, k.String())
	}
	slices.Sort(inExample)
	inCode := slices.Sorted(maps.Keys(configKeys()))
	if diff := cmp.Diff(inCode, inExample); diff != "" {
		t.Errorf("keys differ (-code +example):\n%s", diff)
	}
}

// Every key in the example has a comment right above it (tables excepted:
// their keys carry the comments).
func TestExampleKeysAreCommented(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for key, line := range keyLines(data) {
		if t, ok := configKeys()[key]; !ok || t.Kind() == reflect.Struct {
			continue
		}
		if above := strings.TrimSpace(lines[line-2]); !strings.HasPrefix(above, "#") {
			t.Errorf("%s:%d: key %s has no comment above it", examplePath, line, key)
		}
	}
}
