package lsp

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/stdlib/schema"
)

var (
	nodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()
	spanType = reflect.TypeOf(ast.Span{})
)

// pathTo returns the syntax nodes that contain offset, outermost first.
// A node contains the offsets from its first byte to just past its last, so
// a cursor at the end of a name is on the name. Expressions are returned as
// *ast.Expr, whatever their wrapper.
func pathTo(f *ast.File, offset int) []ast.Node {
	if f == nil {
		return nil
	}
	var out []ast.Node
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if n, ok := v.Interface().(ast.Node); ok && v.Type().Implements(nodeType) {
				if !contains(n, offset) {
					return
				}
				out = append(out, unwrapExpr(n))
			}
			walk(v.Elem())
		case reflect.Struct:
			if v.Type() == spanType {
				return
			}
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(f))
	return out
}

func contains(n ast.Node, offset int) bool {
	b, e := n.Begin(), n.End()
	return e.Offset > b.Offset && b.Offset <= offset && offset <= e.Offset
}

func unwrapExpr(n ast.Node) ast.Node {
	switch e := n.(type) {
	case *ast.CondExpr:
		return &e.Expr
	case *ast.GroupExpr:
		return &e.Expr
	case *ast.PostingExpr:
		return &e.Expr
	}
	return n
}

// bodyOf returns the flow or ledger declaration of f named name.
func bodyOf(f *ast.File, name string) ast.Decl {
	if f == nil {
		return nil
	}
	for _, d := range f.Decls {
		if id, _, ok := ast.Body(d); ok && id != nil && id.Name == name {
			return d
		}
	}
	return nil
}

var flowHead = regexp.MustCompile(`(?m)^\s*(?:flow|ledger)\s+([A-Za-z_]\w*)`)

// enclosingFlow returns the name of the flow or ledger whose declaration
// comes last before offset: it works on text that does not parse.
func enclosingFlow(src []byte, offset int) string {
	offset = max(0, min(offset, len(src)))
	m := flowHead.FindAllSubmatch(src[:offset], -1)
	if len(m) == 0 {
		return ""
	}
	return string(m[len(m)-1][1])
}

// flowKinds are the kinds of symbols a flow declares; the others belong to
// the package.
func flowLocal(k compiler.SymbolKind) bool {
	switch k {
	case compiler.ParamSym, compiler.SecretSym, compiler.TableSym, compiler.ConnectorSym:
		return false
	}
	return true
}

// scope returns the names visible in the named flow (package names when
// flow is ""), from a snapshot's symbol table.
func (snap *snapshot) scope(flow string) map[string]*compiler.Symbol {
	out := map[string]*compiler.Symbol{}
	if snap == nil || snap.info == nil {
		return out
	}
	spans := map[string][2]int{} // file -> the flow's span in it
	if flow != "" {
		for path, f := range snap.files {
			if d := bodyOf(f.ast, flow); d != nil {
				spans[path] = [2]int{d.Begin().Offset, d.End().Offset}
			}
		}
	}
	for id, sym := range snap.info.Defs {
		if !flowLocal(sym.Kind) {
			out[sym.Name] = sym
			continue
		}
		if sp, ok := spans[sym.File]; ok && id.Pos.Offset >= sp[0] && id.Pos.Offset < sp[1] {
			out[sym.Name] = sym
		}
	}
	return out
}

// object returns a connector object type by its qualified name.
func (snap *snapshot) object(name string) *schema.Object {
	if snap == nil || snap.info == nil {
		return nil
	}
	for _, c := range snap.info.Connectors {
		if o, ok := c.Objects[name]; ok {
			return o
		}
		for _, o := range c.Entities {
			if o.Name == name {
				return o
			}
		}
	}
	return nil
}

// connector returns the connector imported as alias.
func (snap *snapshot) connector(alias string) *schema.Connector {
	if snap == nil || snap.info == nil {
		return nil
	}
	return snap.info.Connectors[alias]
}

// entity returns the ERP entity a path such as erp.CustomersV3 names.
func (snap *snapshot) entity(p *ast.Path) *schema.Object {
	if p == nil || len(p.Parts) != 2 {
		return nil
	}
	return snap.entityNamed(p.Parts[0].Name, p.Parts[1].Name)
}

func (snap *snapshot) entityNamed(alias, set string) *schema.Object {
	c := snap.connector(alias)
	if c == nil {
		return nil
	}
	return c.Entities[set]
}

// journalHeader returns the header entity of a journal's line entity.
func (snap *snapshot) journalHeader(p *ast.Path) *schema.Object {
	if p == nil || len(p.Parts) != 2 {
		return nil
	}
	c := snap.connector(p.Parts[0].Name)
	if c == nil || c.Journals[p.Parts[1].Name] == nil {
		return nil
	}
	return c.Entities[c.Journals[p.Parts[1].Name].Header]
}

// fieldDoc documents a field of an object in Markdown.
func fieldDoc(o *schema.Object, f *schema.Field) string {
	var b strings.Builder
	b.WriteString("```flow\n" + o.ShortName() + "." + f.Name + ": " + f.Type.String() + "\n```\n")
	var notes []string
	if f.Required {
		notes = append(notes, "required")
	}
	if f.Key {
		notes = append(notes, "key")
	}
	if f.MaxLength > 0 {
		notes = append(notes, "at most "+strconv.Itoa(f.MaxLength)+" characters")
	}
	if len(f.Type.Enum) > 0 && len(f.Type.Enum) <= 20 {
		notes = append(notes, "one of "+strings.Join(f.Type.Enum, ", "))
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "; ") + "\n")
	}
	if f.Doc != "" {
		b.WriteString("\n" + f.Doc + "\n")
	}
	return b.String()
}

// objectDoc documents an object type in Markdown.
func objectDoc(o *schema.Object) string {
	s := "```flow\n" + o.Name + "\n```\n"
	if len(o.Keys) > 0 {
		s += "\nkey: " + strings.Join(o.Keys, ", ") + "\n"
	}
	if o.Doc != "" {
		s += "\n" + o.Doc + "\n"
	}
	return s
}
