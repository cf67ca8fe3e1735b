package parser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowhq/flow/lang/parser"
)

// reference is the regular-expression lexer the hand-written one replaces;
// the two must agree on every input.
var reference = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "String", Pattern: `[rRbB]?("""(?s:.*?)"""|'''(?s:.*?)'''|"(\\.|[^"\\\n])*"|'(\\.|[^'\\\n])*')`},
	{Name: "Duration", Pattern: `\d+(ms|s|m|h|d)\b`},
	{Name: "Number", Pattern: `(0[xX][0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)[uU]?`},
	{Name: "Ident", Pattern: `[a-zA-Z_][a-zA-Z0-9_]*`},
	{Name: "Punct", Pattern: `&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,=(){}\[\]]`},
})

// tokens lexes src to the end or the first error, in a comparable form.
func tokens(def lexer.Definition, src string) []string {
	lex, err := def.Lex("f.flow", strings.NewReader(src))
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for {
		t, err := lex.Next()
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		out = append(out, fmt.Sprintf("%d %q %#v", t.Type, t.Value, t.Pos))
		if t.EOF() {
			return out
		}
	}
}

func sameTokens(t *testing.T, src string) {
	t.Helper()
	want, got := tokens(reference, src), tokens(parser.Lexer, src)
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("lexing %q: token %d is\n\t%s\nwant\n\t%s", src, i, g, w)
		}
	}
}

func TestLexerSymbols(t *testing.T) {
	want, got := reference.Symbols(), parser.Lexer.Symbols()
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("symbols %v, want %v", got, want)
	}
}

var lexerCases = []string{
	"", " ", "\t\r\n", "// c", "// c\nx", "/", "/ /", "a//b\n",
	`"s"`, `""`, `"""`, `""""`, `""""""`, `"""a"""`, `"""a""""`, `"""a`, `"""a
b"""`, `'''x'''`, `'''`, `''`, `'a\'b'`, `"a\"b"`, `"a\\"`, `"\`, `"\
"`, `"a
"`, `"unclosed`, `r"raw\d"`, `R'x'`, `b"\x00"`, `B"""q"""`, `rx`, `r`, `r"`, `b'`, `bar"x"`,
	"\"é\"", "\"\xff\"", "'\\\xe2\x82\xac'",
	"1", "10", "0x1F", "0x", "0xg", "0X1u", "1.5", "1.", "1.e3", "1e3", "1e", "1e+", "1E-2", "1e+5u", "1u", "12U",
	"10ms", "10m", "10s", "1h", "2d", "10mss", "5m5", "5ms5", "3h_", "3hé", "7days", "1.5h", "72h}", "0m",
	"a", "_", "_a1", "A_b_9", "é", "a.b", "x-1",
	"&&", "||", "==", "!=", "<=", ">=", "&", "|", "=", "!", "<", ">", "-+*/%?:.,(){}[]", "=>", "<<", "!==",
	"@", "#", "$", ";", "~", "^", "`", "\v", "\f", "\u00a0", "\xff", "a @ b", "abcdefghijklmnopqrstuvwxyz @",
	"x\ny\r\n  z // tail\n\"s\" 1.5 'q'",
}

func TestLexerMatchesReference(t *testing.T) {
	for _, src := range lexerCases {
		sameTokens(t, src)
	}
	inputs, _ := filepath.Glob("../../flows/*/*.flow")
	more, _ := filepath.Glob("../../testdata/*/*.txtar")
	for _, p := range append(inputs, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameTokens(t, string(b))
	}
}

// FuzzLexer compares the hand-written lexer with the reference on any input.
func FuzzLexer(f *testing.F) {
	for _, src := range lexerCases {
		f.Add([]byte(src))
	}
	for _, seed := range seeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sameTokens(t, string(src))
	})
}
