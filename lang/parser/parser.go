package parser

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
)

var fileParser = participle.MustBuild[ast.File](
	participle.Lexer(Lexer),
	participle.Elide("Comment", "Whitespace"),
	participle.Union[ast.Decl](&ast.Import{}, &ast.Param{}, &ast.Secret{}, &ast.Table{}, &ast.Env{}, &ast.Aggregate{}, &ast.Flow{}, &ast.Ledger{}),
	participle.Union[ast.Stmt](&ast.On{}, &ast.OrderBy{}, &ast.Let{}, &ast.When{}, &ast.Review{}, &ast.Lookup{}, &ast.Write{}, &ast.For{}, &ast.If{}, &ast.GroupBy{}, &ast.Journal{}),
	participle.Union[ast.JournalItem](&ast.Header{}, &ast.Posting{}, &ast.LineField{}),
	participle.UseLookahead(0), // commit to a branch at its first token: errors point at the real mistake
)

// ParseFile parses one .flow file. It returns a partial *ast.File even when
// diags holds a syntax error; the file is nil only when nothing could be read.
func ParseFile(name string, src []byte) (*ast.File, diag.List) {
	source := diag.NewSource(name, src)
	text := string(src) // tokens and expression texts are substrings of it
	f, err := fileParser.ParseString(name, text)
	var diags diag.List
	if err != nil {
		diags.Add(syntaxError(source, err))
	}
	if f != nil {
		fillText(reflect.ValueOf(f), text)
	}
	return f, diags
}

// Comment is a `//` comment with its offsets.
type Comment struct {
	Offset, EndOffset int
	Text              string // including the slashes
}

// Comments returns the comments of a file in order. Comments never affect
// parsing; the formatter puts them back.
func Comments(name string, src []byte) []Comment {
	lex, err := Lexer.Lex(name, bytes.NewReader(src))
	if err != nil {
		return nil
	}
	comment := Lexer.Symbols()["Comment"]
	var out []Comment
	for {
		t, err := lex.Next()
		if err != nil || t.EOF() {
			return out
		}
		if t.Type == comment {
			out = append(out, Comment{Offset: t.Pos.Offset, EndOffset: t.Pos.Offset + len(t.Value), Text: strings.TrimRight(t.Value, " \t\r")})
		}
	}
}

var (
	exprType = reflect.TypeOf(ast.Expr{})
	spanType = reflect.TypeOf(ast.Span{}) // holds no expression
)

// fillText sets the Text of every expression from its span (a substring of
// src: one copy of the source serves every expression).
func fillText(v reflect.Value, src string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fillText(v.Elem(), src)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			fillText(v.Index(i), src)
		}
	case reflect.Struct:
		switch v.Type() {
		case spanType:
			return
		case exprType:
			e := v.Addr().Interface().(*ast.Expr)
			if s, end := e.Pos.Offset, e.EndPos.Offset; s >= 0 && end <= len(src) && s <= end {
				e.Text = src[s:end]
			}
			return
		}
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() {
				fillText(v.Field(i), src)
			}
		}
	}
}

func syntaxError(src *diag.Source, err error) diag.Diagnostic {
	var perr participle.Error
	pos := src.Pos(len(src.Text))
	msg := err.Error()
	if errors.As(err, &perr) {
		pos = src.Pos(perr.Position().Offset)
		msg = perr.Message()
	}
	d := diag.Diagnostic{Pos: pos, Severity: diag.Error, Code: diag.SyntaxError}
	var lerr *lexer.Error
	var uerr *participle.UnexpectedTokenError
	switch {
	case errors.As(err, &lerr):
		d.Code = diag.InvalidToken
		r := []rune(string(src.Text[min(pos.Offset, len(src.Text)):]))
		if len(r) > 0 {
			d.Message = fmt.Sprintf("invalid character %q", r[0])
			d.End = src.Pos(pos.Offset + len(string(r[0])))
		} else {
			d.Message = "invalid character"
		}
		if len(r) > 0 && r[0] == '"' {
			d.Message = "string is never closed"
			d.Suggestion = "strings end on the line they start; use \"\"\" for text over several lines"
		}
	case errors.As(err, &uerr):
		d.Message = fmt.Sprintf("unexpected %s, expected %s", describeToken(uerr.Unexpected), expected(uerr))
		if !uerr.Unexpected.EOF() {
			d.End = src.Pos(pos.Offset + len(uerr.Unexpected.Value))
		}
		d.Suggestion = hint(uerr)
	default:
		d.Message = lowerFirst(humanize(msg))
	}
	return d
}

func describeToken(t lexer.Token) string {
	switch {
	case t.EOF():
		return "end of file"
	case ast.Keywords[t.Value]:
		return fmt.Sprintf("keyword %q", t.Value)
	case strings.HasPrefix(t.Value, `"`) || strings.HasPrefix(t.Value, `'`):
		return "string " + t.Value
	case len(t.Value) > 0 && t.Value[0] >= '0' && t.Value[0] <= '9':
		return "number " + t.Value
	case len(t.Value) > 0 && (t.Value[0] == '_' || (t.Value[0]|0x20 >= 'a' && t.Value[0]|0x20 <= 'z')):
		return fmt.Sprintf("name %q", t.Value)
	}
	return fmt.Sprintf("%q", t.Value)
}

// grammar names, as participle prints them, in words.
var words = map[string]string{
	"Decl":        "a declaration (import, param, secret, table, env, aggregate, flow or ledger)",
	"Stmt":        "a statement (on, order by, let, when, lookup, create, upsert, update, for, if, group by or journal)",
	"Expr":        "an expression",
	"CondExpr":    "an expression",
	"ForExpr":     "an expression",
	"Stmts":       `"{"`,
	"GroupExpr":   "an expression",
	"PostingExpr": "an account expression",
	"Ident":       "a name",
	"Path":        "a name",
	"Field":       "a field (Name: value)",
	"AggField":    "a field (name: type)",
	"Block":       `"{"`,
	"TypeExpr":    "a type",
	"StringLit":   "a quoted string",
	"Package":     `"package"`,
	"Cond":        "a condition (Field == value)",
	"Miss":        "a miss policy (create, skip, fail or wait)",
	"Arg":         "an argument (name: value)",
	"GroupKey":    "a grouping (expression as name)",
	"Posting":     `a posting ("debit" or "credit")`,
	"<ident>":     "a name",
	"<string>":    "a quoted string",
	"<duration>":  "a duration such as 72h",
	"<number>":    "a number",
}

var grammarElem = regexp.MustCompile(`<\w+>|"[^"]*"|\b[A-Z]\w*\b|\(|\)[?*+]?`)

// expected turns participle's expectation (the EBNF of what remains of the
// failed rule, such as `Ident "=" Expr` or `"as" Ident)? Block?`) into words:
// the first element, plus the ones before it that were optional.
func expected(u *participle.UnexpectedTokenError) string {
	m := u.Message()
	i := strings.Index(m, "(expected ")
	if i < 0 {
		if u.Unexpected.Pos.Offset == 0 {
			return `"package" (every file starts with a package clause)`
		}
		return words["Decl"]
	}
	elems := grammarElem.FindAllString(strings.TrimSuffix(m[i+len("(expected "):], ")"), -1)
	var seen []string
	depth, optional := 0, false
	for j, e := range elems {
		switch {
		case e == "(":
			depth++
			// Is this group optional? Find its closing element.
			d := 0
			for _, c := range elems[j:] {
				if c == "(" {
					d++
				} else if strings.HasPrefix(c, ")") {
					d--
					if d == 0 {
						optional = c == ")?" || c == ")*"
						break
					}
				}
			}
			continue
		case strings.HasPrefix(e, ")"):
			depth--
			continue
		}
		w := e
		if h, ok := words[w]; ok {
			w = h
		}
		if !contains(seen, w) {
			seen = append(seen, w)
		}
		if depth == 0 || !optional {
			break
		}
		// Skip the rest of an optional group: its first element is enough.
		for depth > 0 && j+1 < len(elems) {
			j++
			if elems[j] == "(" {
				depth++
			} else if strings.HasPrefix(elems[j], ")") {
				depth--
			}
		}
		return joinOr(append(seen, expectedAfter(elems[j+1:])...))
	}
	if len(seen) == 0 {
		return "something else"
	}
	return joinOr(seen)
}

func expectedAfter(elems []string) []string {
	for _, e := range elems {
		if e == "(" || strings.HasPrefix(e, ")") {
			continue
		}
		if h, ok := words[e]; ok {
			return []string{h}
		}
		return []string{e}
	}
	return nil
}

func hint(u *participle.UnexpectedTokenError) string {
	exp := u.Message()
	switch {
	case strings.Contains(exp, `"key"`) && u.Unexpected.Value != "key":
		return ""
	case u.Unexpected.Value == "=" && strings.Contains(exp, `":"`):
		return `fields are written "Name: value"`
	case ast.Keywords[u.Unexpected.Value] && strings.Contains(exp, "Ident"):
		return fmt.Sprintf("%q is a keyword and cannot be used as a name", u.Unexpected.Value)
	}
	return ""
}

func joinOr(items []string) string {
	switch len(items) {
	case 1:
		return items[0]
	case 2:
		return items[0] + " or " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func humanize(msg string) string {
	msg = strings.ReplaceAll(msg, "<ident>", "a name")
	return msg
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
