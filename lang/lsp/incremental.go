package lsp

import (
	"reflect"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/parser"
)

// Parsing a whole 2,000-line file takes longer than the rest of a check;
// a keystroke changes one declaration. So the checker parses a file by its
// top-level declarations, reusing the parse of each declaration whose text
// did not change, moved to its new place. A file whose pieces do not all
// parse is parsed whole, so syntax errors read exactly as `flowc check`
// reports them; TestChunkedParseIsParse checks that both parses agree.

// declWords begin top-level declarations.
var declWords = []string{"import", "param", "secret", "table", "env", "flow", "ledger"}

// chunk is the text of one or more top-level declarations.
type chunk struct {
	start, line int // byte offset and 0-based line of its first byte
	text        string
}

// chunkPrefix makes a chunk a file of its own: it is parsed after it.
const chunkPrefix = "package _\n"

// chunks splits src at the lines that begin a top-level declaration: a
// declaration word at bracket depth zero, outside strings and comments.
// The first chunk holds the package clause.
func chunks(src string) []chunk {
	var out []chunk
	start, startLine, line, depth := 0, 0, 0, 0
	atLineStart := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		if atLineStart && depth == 0 && i > start {
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
				j++
			}
			if startsDecl(src[j:]) {
				out = append(out, chunk{start: start, line: startLine, text: src[start:i]})
				start, startLine = i, line
			}
		}
		atLineStart = false
		switch {
		case c == '\n':
			line++
			atLineStart = true
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			if i+2 < len(src) && src[i+1] == c && src[i+2] == c {
				end := strings.Index(src[i+3:], strings.Repeat(string(c), 3))
				if end < 0 {
					i = len(src)
					break
				}
				line += strings.Count(src[i:i+3+end+3], "\n")
				i += 3 + end + 2
				break
			}
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			if i < len(src) && src[i] == '\n' {
				i-- // an unterminated string ends at the line's end
			}
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
	}
	return append(out, chunk{start: start, line: startLine, text: src[start:]})
}

func startsDecl(s string) bool {
	for _, w := range declWords {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || !isWordByte(s[len(w)])) {
			return true
		}
	}
	return false
}

// chunkParse is a chunk's parse, positioned as if the chunk began the file
// (after chunkPrefix for all but the first).
type chunkParse struct {
	file *ast.File
	ok   bool
	// moved is file moved to where the chunk was last found (at dOff,
	// dLine): a chunk before the edit is reused without a copy.
	moved       *ast.File
	dOff, dLine int
}

// parseChunked parses src as name from its chunks, with cache holding the
// parses of chunk texts (it is updated to hold this file's). It returns nil
// when a chunk does not parse.
func parseChunked(name, src string, cache map[string]chunkParse) *ast.File {
	parts := chunks(src)
	fresh := make(map[string]chunkParse, len(parts))
	var out *ast.File
	for i, ch := range parts {
		key := ch.text
		if i > 0 {
			key = chunkPrefix + ch.text
		}
		p, ok := cache[key]
		if !ok {
			f, diags := parser.ParseFile(name, []byte(key))
			p = chunkParse{file: f, ok: f != nil && !diags.HasErrors() && (i == 0 || len(f.Decls) > 0)}
		}
		if !p.ok {
			fresh[key] = p
			clear(cache)
			for k, v := range fresh {
				cache[k] = v
			}
			return nil
		}
		dOff, dLine := ch.start, ch.line
		if i > 0 {
			dOff -= len(chunkPrefix)
			dLine--
		}
		if p.moved == nil || p.dOff != dOff || p.dLine != dLine {
			p.moved, p.dOff, p.dLine = shifted(reflect.ValueOf(p.file), dOff, dLine).Interface().(*ast.File), dOff, dLine
		}
		fresh[key] = p
		moved := p.moved
		if i == 0 { // a new File: the cached one is shared
			out = &ast.File{Span: moved.Span, Package: moved.Package, Decls: append([]ast.Decl(nil), moved.Decls...)}
			continue
		}
		out.Decls = append(out.Decls, moved.Decls...)
		out.EndPos = moved.EndPos
	}
	clear(cache)
	for k, v := range fresh {
		cache[k] = v
	}
	return out
}

var positionType = reflect.TypeOf(lexer.Position{})

// deepFields caches, by struct type, the indexes of the fields that hold
// positions or other nodes: the rest are copied as they are.
var deepFields sync.Map // reflect.Type -> []int

func fieldsToShift(t reflect.Type) []int {
	if f, ok := deepFields.Load(t); ok {
		return f.([]int)
	}
	var out []int
	for i := range t.NumField() {
		switch t.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Struct:
			if t.Field(i).IsExported() {
				out = append(out, i)
			}
		}
	}
	deepFields.Store(t, out)
	return out
}

// shifted deep-copies a syntax tree, moving every position by dOff bytes
// and dLine lines. Strings (expression texts) are shared.
func shifted(v reflect.Value, dOff, dLine int) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(shifted(v.Elem(), dOff, dLine))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(shifted(v.Elem(), dOff, dLine))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		if v.Type() == positionType {
			p := n.Addr().Interface().(*lexer.Position)
			p.Offset += dOff
			p.Line += dLine
			return n
		}
		for _, i := range fieldsToShift(v.Type()) {
			n.Field(i).Set(shifted(v.Field(i), dOff, dLine))
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(shifted(v.Index(i), dOff, dLine))
		}
		return n
	}
	return v
}

// parseFile parses src as name, by chunks when they all parse, else whole.
func parseFile(name string, src []byte, cache map[string]chunkParse) (*ast.File, diag.List) {
	if f := parseChunked(name, string(src), cache); f != nil {
		return f, nil
	}
	return parser.ParseFile(name, src)
}
