package lsp

import (
	"context"
	"sort"
	"strings"
	"sync"

	celast "github.com/google/cel-go/common/ast"
	"go.lsp.dev/protocol"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

func (s *Server) hover(_ context.Context, p *protocol.HoverParams) (any, error) {
	snap, f := s.fileAt(p.TextDocument.URI)
	if f == nil || f.syntax {
		return nil, nil
	}
	off := f.text.offset(p.Position)
	md, start, end := snap.hoverAt(f, off)
	if md == "" {
		return nil, nil
	}
	r := f.text.rangeOf(start, end)
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: md}, Range: &r}, nil
}

// hoverAt describes what is at offset in Markdown, and the byte range it
// describes.
func (snap *snapshot) hoverAt(f *file, off int) (string, int, int) {
	for _, x := range snap.exprs[f.path] {
		if x.Expr.Pos.Offset <= off && off <= x.Expr.EndPos.Offset {
			if md, s, e := snap.exprHover(f, x, off); md != "" {
				return md, s, e
			}
		}
	}
	path := pathTo(f.ast, off)
	if len(path) == 0 {
		return "", 0, 0
	}
	id, ok := path[len(path)-1].(*ast.Ident)
	if !ok {
		return "", 0, 0
	}
	start, end := id.Pos.Offset, id.EndPos.Offset
	if sym := snap.info.Defs[id]; sym != nil {
		return symbolDoc(sym), start, end
	}
	if len(path) < 2 {
		return "", 0, 0
	}
	switch parent := path[len(path)-2].(type) {
	case *ast.Flow, *ast.Ledger:
		kind := "flow"
		if _, ok := parent.(*ast.Ledger); ok {
			kind = "ledger"
		}
		return "```flow\n" + kind + " " + id.Name + "\n```\n", start, end
	case *ast.Field:
		if o := snap.blockObject(path); o != nil {
			if fld, ok := o.Field(id.Name); ok {
				return fieldDoc(o, fld), start, end
			}
		}
		if imp := findLast[*ast.Import](path); imp != nil {
			if c := snap.importedBy(imp); c != nil {
				for _, fld := range c.Config {
					if fld.Name == id.Name {
						return "```flow\n" + c.Name + " " + fld.Name + ": " + fld.Type.String() + "\n```\n\n" + fld.Doc + "\n", start, end
					}
				}
			}
		}
	case *ast.Cond:
		if lk := findLast[*ast.Lookup](path); lk != nil {
			if o := snap.entity(lk.Entity); o != nil {
				if fld, ok := o.Field(id.Name); ok {
					return fieldDoc(o, fld), start, end
				}
			}
		}
	case *ast.Path:
		return snap.pathHover(path, parent, id)
	}
	return "", 0, 0
}

// pathHover describes an entity, an event or a list source named by a path.
func (snap *snapshot) pathHover(path []ast.Node, p *ast.Path, id *ast.Ident) (string, int, int) {
	start, end := p.Pos.Offset, p.EndPos.Offset
	c := snap.connector(p.Parts[0].Name)
	if c == nil {
		return "", 0, 0
	}
	if id == p.Parts[0] {
		return "```flow\nimport \"" + c.Name + "\" // " + c.Kind.String() + "\n```\n\n" + c.Doc + "\n", id.Pos.Offset, id.EndPos.Offset
	}
	rest := strings.TrimPrefix(p.String(), p.Parts[0].Name+".")
	if on := findLast[*ast.On](path); on != nil && on.Event == p {
		if ev := c.Events[rest]; ev != nil {
			md := "```flow\non " + p.String() + " as ev // ev: " + ev.Envelope + "\n```\n\nev.data.object is " + ev.Object + "\n"
			if o := snap.object(ev.Object); o != nil && o.Doc != "" {
				md += "\n" + o.Doc + "\n"
			}
			return md, start, end
		}
	}
	if l := c.Lists[rest]; l != nil {
		var params []string
		for _, pr := range l.Params {
			params = append(params, pr.Name+": "+pr.Type.String())
		}
		return "```flow\n" + p.String() + "(" + strings.Join(params, ", ") + ") -> list(" + l.Elem + ")\n```\n\n" + l.Doc + "\n", start, end
	}
	if o := c.Entities[rest]; o != nil {
		return objectDoc(o), start, end
	}
	return "", 0, 0
}

// blockObject returns the object whose fields a block in path sets: a
// write's entity, a lookup's entity (else create), a journal's header or
// line entity.
func (snap *snapshot) blockObject(path []ast.Node) *schema.Object {
	for i := len(path) - 1; i >= 0; i-- {
		switch n := path[i].(type) {
		case *ast.Write:
			return snap.entity(n.Entity())
		case *ast.Lookup:
			return snap.entity(n.Entity)
		case *ast.Header:
			if j := findLast[*ast.Journal](path); j != nil {
				return snap.journalHeader(j.Entity)
			}
			return nil
		case *ast.LineField:
			if j := findLast[*ast.Journal](path); j != nil {
				return snap.entity(j.Entity)
			}
			return nil
		case *ast.Import, *ast.Env:
			return nil
		}
	}
	return nil
}

// importedBy returns the connector an import loads.
func (snap *snapshot) importedBy(imp *ast.Import) *schema.Connector {
	if snap.info == nil {
		return nil
	}
	for id, sym := range snap.info.Defs {
		if sym.Kind == compiler.ConnectorSym && id.Pos.Offset >= imp.Pos.Offset && id.Pos.Offset <= imp.EndPos.Offset {
			return snap.info.Connectors[sym.Name]
		}
	}
	return nil
}

func findLast[T ast.Node](path []ast.Node) T {
	for i := len(path) - 1; i >= 0; i-- {
		if n, ok := path[i].(T); ok {
			return n
		}
	}
	var zero T
	return zero
}

// symbolDoc describes a declared name.
func symbolDoc(sym *compiler.Symbol) string {
	t := "dyn"
	if sym.Type != nil {
		t = sym.Type.String()
	}
	switch sym.Kind {
	case compiler.ConnectorSym:
		return "```flow\nconnector " + sym.Name + "\n```\n"
	case compiler.SecretSym:
		return "```flow\nsecret " + sym.Name + "\n```\n"
	}
	return "```flow\n" + sym.Kind.String() + " " + sym.Name + ": " + t + "\n```\n"
}

// celNode is a node of a CEL expression with its place in the text: own is
// the range of its own token (a name, an operator, a function's name and
// parenthesis), full the range of the whole subexpression, both in bytes
// of the expression's text.
type celNode struct {
	e         celast.NavigableExpr
	own, full [2]int
}

// exprHover describes the subexpression at off: its type, and the schema
// documentation of a selected field or a called function.
func (snap *snapshot) exprHover(f *file, x compiler.Expression, off int) (string, int, int) {
	text := x.Expr.Text
	rel := off - x.Expr.Pos.Offset
	a, iss := x.Env.Compile(text)
	if iss.Err() != nil {
		if a, iss = x.Env.Parse(text); iss.Err() != nil {
			return "", 0, 0
		}
	}
	native := a.NativeRep()
	nodes := layout(native, text)
	var at *celNode
	for i := range nodes {
		n := &nodes[i]
		if n.own[0] <= rel && rel <= n.own[1] && (at == nil || n.own[1]-n.own[0] < at.own[1]-at.own[0]) {
			at = n
		}
	}
	if at == nil {
		return "", 0, 0
	}
	base := x.Expr.Pos.Offset
	start, end := base+at.full[0], base+at.full[1]
	typ := "dyn"
	if t := at.e.Type(); t != nil && a.IsChecked() {
		typ = t.String()
	}
	var md strings.Builder
	md.WriteString("```flow\n" + strings.TrimSpace(text[at.full[0]:at.full[1]]) + ": " + typ + "\n```\n")
	switch at.e.Kind() {
	case celast.SelectKind:
		sel := at.e.AsSelect()
		if t := navType(at.e, native, sel.Operand()); t != "" {
			if o := snap.object(t); o != nil {
				if fld, ok := o.Field(sel.FieldName()); ok {
					return fieldDoc(o, fld), start, end
				}
			}
		}
	case celast.IdentKind:
		name := at.e.AsIdent()
		if sym := snap.scope(enclosingFlow(f.text.src, off))[name]; sym != nil {
			md.WriteString("\n" + sym.Kind.String() + " " + name + "\n")
		}
	case celast.CallKind:
		if docs := functionDocs()[at.e.AsCall().FunctionName()]; len(docs) > 0 {
			md.WriteString("\n```flow\n")
			for _, d := range docs {
				md.WriteString(d.Signature + "\n")
			}
			md.WriteString("```\n\n" + docs[0].Doc + "\n")
		}
	}
	return md.String(), start, end
}

// navType returns the type name of a child expression of a checked AST.
func navType(_ celast.NavigableExpr, a *celast.AST, child celast.Expr) string {
	if t := a.GetType(child.ID()); t != nil {
		return t.TypeName()
	}
	return ""
}

// layout computes the own and full ranges of every node of a parsed or
// checked expression. CEL records one offset range per node: a name's, an
// operator's, a call's opening parenthesis, a selection's dot.
func layout(a *celast.AST, text string) []celNode {
	runes := make([]int, 0, len(text)+1) // byte offset of each rune
	for i := range text {
		runes = append(runes, i)
	}
	runes = append(runes, len(text))
	byteAt := func(r int32) int { return runes[max(0, min(int(r), len(runes)-1))] }
	var out []celNode
	var visit func(e celast.NavigableExpr) (int, int, bool)
	visit = func(e celast.NavigableExpr) (int, int, bool) {
		r, ok := a.SourceInfo().GetOffsetRange(e.ID())
		own := [2]int{byteAt(r.Start), byteAt(r.Stop)}
		full := own
		for _, c := range e.Children() {
			if s, t, ok2 := visit(c); ok2 {
				if !ok {
					full, ok = [2]int{s, t}, true
					continue
				}
				full[0], full[1] = min(full[0], s), max(full[1], t)
			}
		}
		if !ok {
			return 0, 0, false
		}
		switch e.Kind() {
		case celast.SelectKind:
			own[1] = min(len(text), own[0]+1+len(e.AsSelect().FieldName()))
			full[1] = max(full[1], own[1])
		case celast.CallKind, celast.ComprehensionKind:
			if own[0] < len(text) && (text[own[0]] == '(' || text[own[0]] == '[') {
				open := text[own[0]]
				// A call's name comes before its parenthesis.
				s := own[0]
				for s > 0 && isWordByte(text[s-1]) {
					s--
				}
				own[0] = s
				full[0] = min(full[0], s)
				full[1] = max(full[1], closing(text, own[1]-1, open))
			}
		}
		out = append(out, celNode{e: e, own: own, full: full})
		return full[0], full[1], true
	}
	visit(celast.NavigateAST(a))
	return out
}

// closing returns the offset just past the bracket that closes the one at
// open (the end of text when it is never closed), skipping strings.
func closing(text string, open int, kind byte) int {
	want := map[byte]byte{'(': ')', '[': ']'}[kind]
	depth := 0
	for i := open; i < len(text); i++ {
		switch c := text[i]; c {
		case '"', '\'':
			for i++; i < len(text) && text[i] != c; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case kind:
			depth++
		case want:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(text)
}

// functionDocs indexes the standard library's functions by name.
var functionDocs = sync.OnceValue(func() map[string][]stdlib.FuncDoc {
	out := map[string][]stdlib.FuncDoc{}
	for _, d := range stdlib.Functions() {
		out[d.Name] = append(out[d.Name], d)
	}
	return out
})

// functionNames returns the standard library's function names, sorted.
func functionNames() []string {
	var out []string
	for name := range functionDocs() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
