package format

import (
	"bytes"
	"strings"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/parser"
)

// expr returns an expression's canonical text. A one-line expression is
// re-spaced token by token; one that spans lines keeps its line structure
// (and any comments inside it), re-indented under the current line.
func (p *printer) expr(e *ast.Expr) string {
	text := e.Text
	if strings.Contains(text, "\n") {
		p.skipComments(e.Begin().Offset, e.End().Offset)
		return p.reindent(text)
	}
	return Expr(text)
}

func (p *printer) reindent(text string) string {
	lines := strings.Split(text, "\n")
	common := -1
	for _, l := range lines[1:] {
		if t := strings.TrimSpace(l); t == "" || isCloser(t[0]) {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	base := strings.Repeat(indentUnit, p.indent)
	var b strings.Builder
	b.WriteString(strings.TrimRight(lines[0], " \t"))
	for _, l := range lines[1:] {
		b.WriteByte('\n')
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if t := strings.TrimSpace(l); isCloser(t[0]) {
			b.WriteString(base + t)
			continue
		}
		rest := strings.ReplaceAll(l[min(max(common, 0), len(l)):], "\t", indentUnit)
		b.WriteString(base + indentUnit + rest)
	}
	return b.String()
}

// Expr re-spaces a one-line CEL expression: binary operators get a space on
// each side, commas and map colons a space after, nothing else gets spaces.
func Expr(text string) string {
	lex, err := parser.Lexer.Lex("", bytes.NewReader([]byte(text)))
	if err != nil {
		return strings.TrimSpace(text)
	}
	ws := parser.Lexer.Symbols()["Whitespace"]
	var toks []string
	for {
		t, err := lex.Next()
		if err != nil {
			return strings.TrimSpace(text)
		}
		if t.EOF() {
			break
		}
		if t.Type != ws {
			toks = append(toks, t.Value)
		}
	}
	var b strings.Builder
	var brackets []string // open brackets; "?" marks a pending ternary
	prev := ""
	for i, t := range toks {
		space := false
		switch {
		case i == 0:
		case t == "," || t == ")" || t == "]" || t == ".":
		case prev == "(" || prev == "[" || prev == "." || prev == "!":
		case prev == "-" && unary(toks, i-1):
		case t == "(" || t == "[":
			space = (!isName(prev) || prev == "in") && prev != ")" && prev != "]" && prev != "}"
		case t == ":":
			space = len(brackets) > 0 && brackets[len(brackets)-1] == "?"
		case t == "}":
			space = prev != "{"
		case prev == "{":
			space = true
		default:
			space = true
		}
		if space {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		switch t {
		case "(", "[", "{":
			brackets = append(brackets, t)
		case ")", "]", "}":
			if len(brackets) > 0 {
				brackets = brackets[:len(brackets)-1]
			}
		case "?":
			brackets = append(brackets, "?")
		case ":":
			if len(brackets) > 0 && brackets[len(brackets)-1] == "?" {
				brackets = brackets[:len(brackets)-1]
			}
		}
		prev = t
	}
	return b.String()
}

// unary reports whether the "-" at toks[i] is a sign rather than a minus.
func unary(toks []string, i int) bool {
	if i == 0 {
		return true
	}
	switch toks[i-1] {
	case "(", "[", "{", ",", ":", "?", "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "in":
		return true
	}
	return false
}

func isCloser(c byte) bool { return c == '}' || c == ']' || c == ')' }

func isName(t string) bool {
	if t == "" {
		return false
	}
	c := t[0]
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9')
}
