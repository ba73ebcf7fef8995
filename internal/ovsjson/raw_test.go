package ovsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var rawSeeds = []string{
	`{"id":1,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"T","row":{"a":["set",[1,2.5e-3,-0,true,false,null]]}}]}`,
	` [ 1 , "a\"b\\u00e9\n" , {} , [] , {"":""} ] `,
	`{"a":1,}`, `[1,]`, `[01]`, `[1.]`, `[.5]`, `[1e]`, `[-]`, `["\x"]`, `["\u12g4"]`, "[\"a\x01\"]",
	`{"a" 1}`, `{1:2}`, `[tru]`, `[nul]`, `[1 2]`, `{"a":1}{}`, `[`, `]`, ``, `"s"`, `12`,
	strings.Repeat("[", 299) + strings.Repeat("]", 299),
	strings.Repeat("[", 301) + strings.Repeat("]", 301),
}

// FuzzElements: for any input, Elements and Members succeed exactly when
// encoding/json decodes it as an array or object, and return the same
// values (as raw text) in the same order.
func FuzzElements(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) >= maxRawDepth {
			t.Skip("deep")
		}
		var want []json.RawMessage
		werr := json.Unmarshal(b, &want)
		isNull := string(bytes.TrimSpace(b)) == "null" // decodes into a nil slice or map
		if isNull {
			werr = errors.New("null")
		}
		got, err := Elements(b, nil)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Elements(%q): %v, encoding/json: %v", b, err, werr)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("Elements(%q): error %v does not wrap ErrSyntax", b, err)
		}
		if err == nil {
			if len(got) != len(want) {
				t.Fatalf("Elements(%q): %d elements, encoding/json %d", b, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
					t.Fatalf("Elements(%q)[%d] = %q, encoding/json %q", b, i, got[i], want[i])
				}
			}
		}
		var obj map[string]json.RawMessage
		oerr := json.Unmarshal(b, &obj)
		if isNull {
			oerr = errors.New("null")
		}
		members, err := Members(b, nil)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("Members(%q): %v, encoding/json: %v", b, err, oerr)
		}
		if err != nil {
			return
		}
		for _, m := range members {
			var k string
			if err := json.Unmarshal(append(append([]byte{'"'}, m.Key...), '"'), &k); err != nil {
				t.Fatalf("Members(%q): key %q does not decode: %v", b, m.Key, err)
			}
			if _, ok := obj[k]; !ok {
				t.Fatalf("Members(%q): key %q unknown to encoding/json", b, k)
			}
		}
	})
}

func TestMembers(t *testing.T) {
	b := []byte(` {"id" : 7, "method":"transact" ,"params":[ "db" , {"op":"x"} ]} `)
	ms, err := Members(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, string(m.Key)+"="+string(m.Value))
	}
	want := `id=7 method="transact" params=[ "db" , {"op":"x"} ]`
	if strings.Join(got, " ") != want {
		t.Errorf("Members: got %q, want %q", strings.Join(got, " "), want)
	}
	es, err := Elements(ms[2].Value, nil)
	if err != nil || len(es) != 2 || string(es[0]) != `"db"` || string(es[1]) != `{"op":"x"}` {
		t.Errorf("Elements(%s) = %q, %v", ms[2].Value, es, err)
	}
	for _, bad := range []string{`[1]`, `{"a":1`, `{"a":1} x`, `{"a":01}`} {
		if _, err := Members([]byte(bad), nil); !errors.Is(err, ErrSyntax) {
			t.Errorf("Members(%s): want ErrSyntax, got %v", bad, err)
		}
	}
}
