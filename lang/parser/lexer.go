package parser

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Lexer is the .flow token set. CEL expressions use the same tokens, so an
// expression's text can be handed to cel-go unchanged.
//
// It is written by hand: it produces exactly the tokens, in the same types
// and positions, as participle's lexer.MustSimple with these rules, tried in
// order (lexer_test.go keeps them and compares the two):
//
//	Comment     //[^\n]*
//	Whitespace  [ \t\r\n]+
//	String      [rRbB]?("""(?s:.*?)"""|'''(?s:.*?)'''|"(\\.|[^"\\\n])*"|'(\\.|[^'\\\n])*')
//	Duration    \d+(ms|s|m|h|d)\b
//	Number      (0[xX][0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)[uU]?
//	Ident       [a-zA-Z_][a-zA-Z0-9_]*
//	Punct       &&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,=(){}\[\]]
var Lexer = &Definition{}

// Token types, numbered as participle numbers the rules of a simple lexer.
const (
	commentToken lexer.TokenType = lexer.EOF - 1 - iota
	whitespaceToken
	stringToken
	durationToken
	numberToken
	identToken
	punctToken
)

// Definition is the lexer.Definition of .flow source.
type Definition struct{}

var (
	_ lexer.Definition       = (*Definition)(nil)
	_ lexer.StringDefinition = (*Definition)(nil)
	_ lexer.BytesDefinition  = (*Definition)(nil)
)

// Symbols returns the token types by name.
func (*Definition) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":        lexer.EOF,
		"Comment":    commentToken,
		"Whitespace": whitespaceToken,
		"String":     stringToken,
		"Duration":   durationToken,
		"Number":     numberToken,
		"Ident":      identToken,
		"Punct":      punctToken,
	}
}

// Lex tokenises what r holds.
func (d *Definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		return nil, err
	}
	return d.LexString(filename, b.String())
}

// LexString tokenises s.
func (*Definition) LexString(filename string, s string) (lexer.Lexer, error) {
	return &scanner{src: s, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

// LexBytes tokenises b.
func (d *Definition) LexBytes(filename string, b []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(b))
}

// scanner is the lexer.Lexer of one source text.
type scanner struct {
	src string // what is left to read
	pos lexer.Position
}

// Next returns the next token, an EOF token at the end, or a *lexer.Error
// at a character no token can start with.
func (l *scanner) Next() (lexer.Token, error) {
	if l.src == "" {
		return lexer.EOFToken(l.pos), nil
	}
	typ, n := scan(l.src)
	if n == 0 {
		sample := []rune(l.src)
		if len(sample) > 16 {
			sample = append(sample[:16], []rune("...")...)
		}
		return lexer.Token{}, &lexer.Error{Msg: fmt.Sprintf("lexer: invalid input text %q", string(sample)), Pos: l.pos}
	}
	t := lexer.Token{Type: typ, Value: l.src[:n], Pos: l.pos}
	l.pos.Advance(t.Value)
	l.src = l.src[n:]
	return t, nil
}

// scan returns the type and length of the token s starts with; the length
// is 0 when no token matches. Rules are tried in the order of the table
// above, and the first that matches wins.
func scan(s string) (lexer.TokenType, int) {
	c := s[0]
	switch {
	case c == '/' && len(s) > 1 && s[1] == '/':
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			return commentToken, i
		}
		return commentToken, len(s)
	case isSpace(c):
		n := 1
		for n < len(s) && isSpace(s[n]) {
			n++
		}
		return whitespaceToken, n
	}
	if n := scanString(s); n > 0 {
		return stringToken, n
	}
	if isDigit(c) {
		if n := scanDuration(s); n > 0 {
			return durationToken, n
		}
		return numberToken, scanNumber(s)
	}
	if isLetter(c) {
		n := 1
		for n < len(s) && (isLetter(s[n]) || isDigit(s[n])) {
			n++
		}
		return identToken, n
	}
	if len(s) > 1 {
		switch s[:2] {
		case "&&", "||", "==", "!=", "<=", ">=":
			return punctToken, 2
		}
	}
	if strings.IndexByte("-+*/%!<>?:.,=(){}[]", c) >= 0 {
		return punctToken, 1
	}
	return 0, 0
}

// scanString returns the length of the string literal s starts with, or 0.
// Bytes stand for runes here: a multi-byte rune never holds a quote, a
// backslash or a newline byte.
func scanString(s string) int {
	i := 0
	switch s[0] {
	case 'r', 'R', 'b', 'B':
		i = 1
	}
	if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
		return 0
	}
	q := s[i]
	if len(s) >= i+3 && s[i+1] == q && s[i+2] == q {
		if end := strings.Index(s[i+3:], s[i:i+3]); end >= 0 {
			return i + 3 + end + 3
		}
		// Unclosed: the one-line form may still match (`""`).
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case q:
			return j + 1
		case '\n':
			return 0
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\n' {
				return 0
			}
			j++
		}
	}
	return 0
}

// scanDuration returns the length of the duration s starts with, or 0.
func scanDuration(s string) int {
	d := 1
	for d < len(s) && isDigit(s[d]) {
		d++
	}
	for _, unit := range [...]string{"ms", "s", "m", "h", "d"} {
		n := d + len(unit)
		if strings.HasPrefix(s[d:], unit) && (n == len(s) || !isWord(s[n])) {
			return n
		}
	}
	return 0
}

// scanNumber returns the length of the number s starts with (s starts with
// a digit).
func scanNumber(s string) int {
	digits := func(j int) int {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return j
	}
	var j int
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		j = 3
		for j < len(s) && isHex(s[j]) {
			j++
		}
	} else {
		j = digits(1)
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j = digits(j + 2)
		}
		if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				j = digits(k + 1)
			}
		}
	}
	if j < len(s) && (s[j] == 'u' || s[j] == 'U') {
		j++
	}
	return j
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isWord(c byte) bool   { return isLetter(c) || isDigit(c) }
func isHex(c byte) bool    { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
