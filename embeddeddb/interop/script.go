package interop

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A script is a testdata/*.txt file of client commands and what they must
// print. One command per line:
//
//	nbctl ARGS...      ovn-nbctl against the NB database
//	sbctl ARGS...      ovn-sbctl against the SB database
//	client ARGS...     ovsdb-client; ${NB} and ${SB} name the remotes
//	alt ARGS...        another ovn-sbctl, set up by the test (TestRBAC)
//
// Args are split like a POSIX shell splits words with single and double
// quotes. A command may be prefixed by "!" (it must exit non-zero) and by
// "sort" (its stdout is compared with records, or lines, sorted). Lines
// after a command starting with "> " are its exact stdout and with "2> "
// its exact stderr; a command with no "> " lines must print nothing on
// stdout, and stderr is only checked when "2> " lines are given. In
// expected text "<uuid>" matches any UUID. "save NAME" stores the first
// UUID the previous command printed as ${NAME}. "#" starts a comment.
type script struct {
	name  string
	steps []*step
}

type step struct {
	line     int
	text     string // the command as written, before ${} expansion
	tool     string
	args     []string
	fail     bool
	sorted   bool
	stdout   []string
	stderr   []string
	saveName string
}

// loadScript parses testdata/NAME.
func loadScript(t testing.TB, name string) *script {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := &script{name: name}
	in := bufio.NewScanner(f)
	for n := 1; in.Scan(); n++ {
		if err := sc.parseLine(n, in.Text()); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
	}
	return sc
}

func (sc *script) parseLine(n int, line string) error {
	last := sc.last()
	switch {
	case strings.HasPrefix(line, "> ") || line == ">":
		if last == nil {
			return fmt.Errorf("output before any command")
		}
		last.stdout = append(last.stdout, strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "))
	case strings.HasPrefix(line, "2> ") || line == "2>":
		if last == nil {
			return fmt.Errorf("output before any command")
		}
		last.stderr = append(last.stderr, strings.TrimPrefix(strings.TrimPrefix(line, "2>"), " "))
	case strings.HasPrefix(line, "save "):
		if last == nil {
			return fmt.Errorf("save before any command")
		}
		last.saveName = strings.TrimSpace(strings.TrimPrefix(line, "save "))
	case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
	default:
		st, err := parseStep(n, line)
		if err != nil {
			return err
		}
		sc.steps = append(sc.steps, st)
	}
	return nil
}

func (sc *script) last() *step {
	if len(sc.steps) == 0 {
		return nil
	}
	return sc.steps[len(sc.steps)-1]
}

func parseStep(n int, line string) (*step, error) {
	words, err := splitWords(line)
	if err != nil {
		return nil, err
	}
	st := &step{line: n, text: line}
	for len(words) > 0 && (words[0] == "!" || words[0] == "sort") {
		st.fail = st.fail || words[0] == "!"
		st.sorted = st.sorted || words[0] == "sort"
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("no command")
	}
	switch words[0] {
	case "nbctl", "sbctl", "client", "alt":
	default:
		return nil, fmt.Errorf("unknown command %q", words[0])
	}
	st.tool, st.args = words[0], words[1:]
	return st, nil
}

// splitWords splits s like a POSIX shell: whitespace separates words,
// single quotes are literal, double quotes allow \" and \\ escapes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			j, err := scanDouble(s[i+1:], &cur)
			if err != nil {
				return nil, err
			}
			i += j + 1
		default:
			cur.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// scanDouble copies the inside of a double-quoted string to cur and
// returns the index of the closing quote in s.
func scanDouble(s string, cur *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			return i, nil
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		default:
			cur.WriteByte(s[i])
		}
	}
	return 0, fmt.Errorf("unterminated double quote")
}

// clients is what a script runs against.
type clients struct {
	nb, sb *Ctl
	// alt is another ovn-sbctl, set up by the test, for "alt" steps.
	alt *Ctl
	// dir is the server's temp dir, written "<dir>" in output.
	dir string
	// vars holds ${NAME} values: NB, SB and those saved by "save".
	vars map[string]string
}

func newClients(s *Server, nb, sb *Ctl) *clients {
	return &clients{nb: nb, sb: sb, dir: s.Dir, vars: map[string]string{"NB": s.NB(), "SB": s.SB()}}
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (c *clients) expand(arg string) string {
	return varRE.ReplaceAllStringFunc(arg, func(m string) string {
		if v, ok := c.vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// run runs one step and returns its result, with Args set to the step as
// written so that transcripts name no sockets or saved UUIDs.
func (c *clients) run(t testing.TB, st *step) Result {
	t.Helper()
	args := make([]string, len(st.args))
	for i, a := range st.args {
		args[i] = c.expand(a)
	}
	var r Result
	switch st.tool {
	case "nbctl":
		r = c.nb.Run(t, args...)
	case "sbctl":
		r = c.sb.Run(t, args...)
	case "alt":
		r = c.alt.Run(t, args...)
	case "client":
		r = Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=5"}, args...)...)
	}
	r.Args = []string{st.text}
	r.Stdout = strings.ReplaceAll(r.Stdout, c.dir, "<dir>")
	r.Stderr = strings.ReplaceAll(r.Stderr, c.dir, "<dir>")
	if st.saveName != "" {
		c.vars[st.saveName] = uuidRE.FindString(r.Stdout)
	}
	return r
}

// runScript runs every step and checks it against the script's
// expectations.
func (c *clients) runScript(t testing.TB, sc *script) {
	t.Helper()
	for _, st := range sc.steps {
		r := c.run(t, st)
		if msg := st.check(r); msg != "" {
			t.Errorf("%s:%d: %s\n%s", sc.name, st.line, st.text, msg)
		}
		if r.Stuck() {
			t.Fatalf("%s:%d: %s: ran %v (exit %d); giving up on the script:\n%s", sc.name, st.line, st.text, r.Took.Round(time.Millisecond), r.Code, r.Stderr)
		}
	}
}

// check returns what is wrong with r, or "".
func (st *step) check(r Result) string {
	var problems []string
	if st.fail != (r.Code != 0) {
		problems = append(problems, fmt.Sprintf("exit %d, want fail=%v; stderr: %s", r.Code, st.fail, r.Stderr))
	}
	if d := diffLines(st.stdout, maskedLines(r.Stdout, st.sorted)); d != "" {
		problems = append(problems, "stdout (-want +got):\n"+d)
	}
	if st.stderr != nil {
		if d := diffLines(st.stderr, maskedLines(r.Stderr, false)); d != "" {
			problems = append(problems, "stderr (-want +got):\n"+d)
		}
	}
	return strings.Join(problems, "\n")
}

const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

var uuidRE = regexp.MustCompile(uuidPattern)

// maskedLines splits out into lines with every UUID replaced by <uuid>,
// records or lines sorted if asked.
func maskedLines(out string, sorted bool) []string {
	out = canonical(out)
	if sorted {
		out = sortRecordsMasked(out)
	}
	out = uuidRE.ReplaceAllString(out, "<uuid>")
	if out == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

func diffLines(want, got []string) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}
