package lflow

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/script/*.txt goldens with the actual output")

// A script is a testdata file of cases:
//
//	# comment
//	command arg=value...
//	input line
//	----
//	expected output lines
//
// Cases are separated by blank lines; output may not contain blank lines.
type scriptCase struct {
	cmd    string
	args   map[string]string
	input  string
	output string
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		c, comments := parseCase(block)
		out.WriteString(comments)
		if c.cmd == "" {
			out.WriteString("\n")
			continue
		}
		got := strings.TrimRight(runCase(c), "\n")
		if got != c.output && !*rewrite {
			t.Errorf("%s: %s\n%s\n---- got:\n%s\n---- want:\n%s", path, c.cmd, c.input, got, c.output)
		}
		out.WriteString(c.cmd + "\n" + c.input + "\n----\n" + got + "\n\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func parseCase(block string) (scriptCase, string) {
	var c scriptCase
	var comments strings.Builder
	lines := strings.Split(block, "\n")
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		comments.WriteString(lines[i] + "\n")
	}
	if i == len(lines) {
		return c, comments.String()
	}
	c.cmd = lines[i]
	fields := strings.Fields(c.cmd)
	c.args = map[string]string{}
	for _, a := range fields[1:] {
		k, v, _ := strings.Cut(a, "=")
		c.args[k] = v
	}
	var in, out []string
	seen := false
	for _, l := range lines[i+1:] {
		switch {
		case l == "----" && !seen:
			seen = true
		case seen:
			out = append(out, l)
		default:
			in = append(in, l)
		}
	}
	c.input, c.output = strings.Join(in, "\n"), strings.Join(out, "\n")
	return c, comments.String()
}
