package lflow

import (
	"fmt"
	"strings"
)

// Kind is the kind of a token.
type Kind int

// Token kinds. Punctuation kinds are named after what they look like.
const (
	EOF        Kind = iota
	Ident           // eth.src, next, reg0
	Int             // any integer constant, possibly masked: 80, 0x10/0xf0, 10.0.0.0/8
	String          // "p1"
	AddrSet         // $name
	PortGroup       // @name
	Eq              // ==
	Ne              // !=
	Lt              // <
	Le              // <=
	Gt              // >
	Ge              // >=
	AndAnd          // &&
	OrOr            // ||
	Bang            // !
	LParen          // (
	RParen          // )
	LBrace          // {
	RBrace          // }
	LSquare         // [
	RSquare         // ]
	Comma           // ,
	Semicolon       // ;
	Equals          // =
	Swap            // <->
	MinusMinus      // --
	Ellipsis        // ..
	Colon           // :
	Minus           // -
)

var kindText = map[Kind]string{
	EOF: "end of input", Eq: "==", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=",
	AndAnd: "&&", OrOr: "||", Bang: "!", LParen: "(", RParen: ")", LBrace: "{",
	RBrace: "}", LSquare: "[", RSquare: "]", Comma: ",", Semicolon: ";",
	Equals: "=", Swap: "<->", MinusMinus: "--", Ellipsis: "..", Colon: ":",
	Minus: "-",
}

// Token is one lexeme. Pos is its 1-based column in the input.
type Token struct {
	Kind  Kind
	Pos   int
	Text  string // identifier, string contents, or set name (without $/@)
	Const Const  // for Int
}

// String renders the token the way it would be written.
func (t Token) String() string {
	switch t.Kind {
	case Ident:
		return t.Text
	case Int:
		return t.Const.String()
	case String:
		return quote(t.Text)
	case AddrSet:
		return "$" + t.Text
	case PortGroup:
		return "@" + t.Text
	}
	return kindText[t.Kind]
}

// Error is a lexing or parsing error at a column of the input.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Lex splits s into tokens, ending with an EOF token. Comments (// to end
// of line and /* ... */) are skipped.
func Lex(s string) ([]Token, error) {
	return lexInto(make([]Token, 0, len(s)/5+2), s) // lflow text runs about 5 bytes a token
}

// lexInto is Lex appending to toks.
func lexInto(toks []Token, s string) ([]Token, error) {
	l := lexer{s: s}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.Kind == EOF {
			return toks, nil
		}
	}
}

type lexer struct {
	s string
	i int
}

var puncts = []struct {
	text string
	kind Kind
}{
	{"<->", Swap}, {"==", Eq}, {"!=", Ne}, {"<=", Le}, {">=", Ge},
	{"&&", AndAnd}, {"||", OrOr}, {"--", MinusMinus}, {"..", Ellipsis},
	{"<", Lt}, {">", Gt}, {"!", Bang}, {"(", LParen}, {")", RParen},
	{"{", LBrace}, {"}", RBrace}, {"[", LSquare}, {"]", RSquare},
	{",", Comma}, {";", Semicolon}, {"=", Equals}, {":", Colon}, {"-", Minus},
}

func (l *lexer) next() (Token, error) {
	if err := l.skipSpace(); err != nil {
		return Token{}, err
	}
	pos := l.i + 1
	if l.i >= len(l.s) {
		return Token{Kind: EOF, Pos: pos}, nil
	}
	c := l.s[l.i]
	switch {
	case c == '"':
		return l.str()
	case c == '$' || c == '@':
		return l.setName()
	case isDigit(c) || isIdentStart(c):
		return l.word()
	case strings.HasPrefix(l.s[l.i:], "::"):
		if _, n, _ := scanConst(l.s[l.i:], pos); n > 0 {
			return l.word()
		}
	}
	for _, p := range puncts {
		if p.text[0] == c && strings.HasPrefix(l.s[l.i:], p.text) {
			l.i += len(p.text)
			return Token{Kind: p.kind, Pos: pos}, nil
		}
	}
	return Token{}, errAt(pos, "invalid character `%c'", c)
}

func (l *lexer) skipSpace() error {
	for l.i < len(l.s) {
		switch {
		case l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == '\r' || l.s[l.i] == '\n':
			l.i++
		case strings.HasPrefix(l.s[l.i:], "//"):
			for l.i < len(l.s) && l.s[l.i] != '\n' {
				l.i++
			}
		case strings.HasPrefix(l.s[l.i:], "/*"):
			end := strings.Index(l.s[l.i+2:], "*/")
			if end < 0 {
				return errAt(l.i+1, "unterminated comment")
			}
			l.i += end + 4
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) str() (Token, error) {
	pos := l.i + 1
	// Without escapes the contents are a substring of the input.
	if end := strings.IndexAny(l.s[l.i+1:], `"\\`); end >= 0 && l.s[l.i+1+end] == '"' {
		text := l.s[l.i+1 : l.i+1+end]
		l.i += end + 2
		return Token{Kind: String, Pos: pos, Text: text}, nil
	}
	var b strings.Builder
	for l.i++; l.i < len(l.s); l.i++ {
		c := l.s[l.i]
		switch c {
		case '"':
			l.i++
			return Token{Kind: String, Pos: pos, Text: b.String()}, nil
		case '\\':
			l.i++
			if l.i >= len(l.s) {
				return Token{}, errAt(pos, "unterminated string")
			}
			e, ok := unescape[l.s[l.i]]
			if !ok {
				return Token{}, errAt(l.i, "invalid escape `\\%c' in string", l.s[l.i])
			}
			b.WriteByte(e)
		default:
			b.WriteByte(c)
		}
	}
	return Token{}, errAt(pos, "unterminated string")
}

var unescape = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (l *lexer) setName() (Token, error) {
	pos := l.i + 1
	kind := AddrSet
	if l.s[l.i] == '@' {
		kind = PortGroup
	}
	l.i++
	start := l.i
	for l.i < len(l.s) && isIdentChar(l.s[l.i]) {
		l.i++
	}
	if start == l.i {
		return Token{}, errAt(pos, "`%c' must be followed by a name", l.s[start-1])
	}
	return Token{Kind: kind, Pos: pos, Text: l.s[start:l.i]}, nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '.' }
func isHexChar(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// word lexes an identifier or a constant. Addresses are tried first, since
// "fe80::1" and "ff:ff:ff:ff:ff:ff" start like identifiers.
func (l *lexer) word() (Token, error) {
	pos := l.i + 1
	c, n, err := scanConst(l.s[l.i:], pos)
	if err != nil {
		return Token{}, err
	}
	if n == 0 && !isIdentStart(l.s[l.i]) {
		return Token{}, errAt(pos, "invalid constant")
	}
	if n == 0 {
		start := l.i
		for l.i < len(l.s) && isIdentChar(l.s[l.i]) && !strings.HasPrefix(l.s[l.i:], "..") {
			l.i++
		}
		return Token{Kind: Ident, Pos: pos, Text: l.s[start:l.i]}, nil
	}
	l.i += n
	if l.i < len(l.s) && l.s[l.i] == '/' && !strings.HasPrefix(l.s[l.i:], "/*") && !strings.HasPrefix(l.s[l.i:], "//") {
		l.i++
		m, n, err := scanConst(l.s[l.i:], l.i+1)
		if err != nil {
			return Token{}, err
		}
		if n == 0 {
			return Token{}, errAt(l.i+1, "mask expected after `/'")
		}
		l.i += n
		if c, err = c.withMask(m); err != nil {
			return Token{}, errAt(pos, "%v", err)
		}
	}
	return Token{Kind: Int, Pos: pos, Const: c}, nil
}
