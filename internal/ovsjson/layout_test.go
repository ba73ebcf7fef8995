package ovsjson

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

var layoutSeeds = []string{
	`{"id":1,"method":"transact","params":["OVN_Southbound",{"op":"insert","row":{"a":[1,{"b":":,"}]}},  {"op":"commit"} ]}`,
	`{}{ }[1,2]{"a":[]} {"a":[ ],"b":{"c":[1,2]},"d":"[,]"}`,
	` { "k" : [ "x" , [ ] , { } , "\"]," ] , "e" : 1.5e3 } `,
	`{"a\\":1,"a":[true,false,null]}`,
	`[{"a":[1]}]{"x":"y"}`,
}

// FuzzLayout checks LastMembers and LastElements against Members and
// Elements on every message a Splitter returns from arbitrary bytes read
// in chunks of a fuzzed size: the same members and elements, byte for
// byte, for every object and every array member value; false for
// anything else.
func FuzzLayout(f *testing.F) {
	for _, s := range append(layoutSeeds, splitSeeds...) {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) >= MaxDepth {
			t.Skip("deeper than MaxDepth allows")
		}
		sp := NewSplitter(&chunkReader{data: data, n: int(chunk%64) + 1}, 1<<20)
		for {
			m, err := sp.Next()
			if err != nil {
				return
			}
			if err := sameLayout(sp, m); err != nil {
				t.Fatalf("%q: message %q: %v", data, m, err)
			}
		}
	})
}

// sameLayout compares the Splitter's view of m, its last message, with
// Members and Elements.
func sameLayout(sp *Splitter, m []byte) error {
	got, ok := sp.LastMembers(m, nil)
	want, err := Members(m, nil)
	if m[0] == '[' {
		if ok {
			return fmt.Errorf("LastMembers takes an array")
		}
		_, ok := sp.LastElements(m, nil)
		if ok {
			return fmt.Errorf("LastElements takes the message itself")
		}
		return nil
	}
	if err != nil || !ok {
		return fmt.Errorf("Members: %v; LastMembers: %v", err, ok)
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		return fmt.Errorf("LastMembers %q, Members %q", got, want)
	}
	for _, mem := range got {
		ge, ok := sp.LastElements(mem.Value, nil)
		we, err := Elements(mem.Value, nil)
		if mem.Value[0] != '[' {
			if ok {
				return fmt.Errorf("LastElements takes %q", mem.Value)
			}
			continue
		}
		if err != nil || !ok {
			return fmt.Errorf("%q: Elements: %v; LastElements: %v", mem.Value, err, ok)
		}
		if fmt.Sprintf("%q", ge) != fmt.Sprintf("%q", we) {
			return fmt.Errorf("LastElements %q, Elements %q", ge, we)
		}
		if len(ge) > 0 {
			// A nested array is not a member value: the Splitter did not note it.
			if _, ok := sp.LastElements(ge[0], nil); ok && ge[0][0] == '[' {
				return fmt.Errorf("LastElements takes the nested %q", ge[0])
			}
		}
	}
	return nil
}

// TestLastMembersOtherMessage: the Splitter's view is of its last
// message only: an earlier message, a copy, or anything after Shrink
// let the buffer go is refused.
func TestLastMembersOtherMessage(t *testing.T) {
	big := `{"a":["` + strings.Repeat("x", 2<<20) + `"]}`
	sp := NewSplitter(strings.NewReader(`{"a":[1]}{"b":[2]}`+big), 4<<20)
	first, _ := sp.Next()
	firstCopy := append([]byte(nil), first...)
	if _, ok := sp.LastMembers(firstCopy, nil); ok {
		t.Errorf("LastMembers takes a copy of the message")
	}
	mem, ok := sp.LastMembers(first, nil)
	if !ok || len(mem) != 1 {
		t.Fatalf("LastMembers(first) = %q, %v", mem, ok)
	}
	arr := mem[0].Value
	sp.Next()
	if _, ok := sp.LastMembers(first, nil); ok {
		t.Errorf("LastMembers takes the message before the last")
	}
	if _, ok := sp.LastElements(arr, nil); ok {
		t.Errorf("LastElements takes a value of the message before the last")
	}
	m, err := sp.Next()
	if err != nil {
		t.Fatal(err)
	}
	sp.Shrink()
	if _, ok := sp.LastMembers(m, nil); ok {
		t.Errorf("LastMembers takes a message after Shrink let it go")
	}
}
