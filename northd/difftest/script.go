package difftest

import (
	"errors"
	"strings"
)

// ParseScript reads a differential scenario: one ovn-nbctl command per
// line, words split as a shell would for plain and quoted words ('...' or
// "..."); blank lines and lines starting with # are skipped.
func ParseScript(text string) ([][]string, error) {
	var cmds [][]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitWords(line)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, words)
	}
	return cmds, nil
}

func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote in: " + line)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
