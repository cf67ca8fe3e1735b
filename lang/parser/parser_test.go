package parser_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/langtest"
	"github.com/flowhq/flow/lang/parser"
)

// TestParseGolden parses each in.flow of testdata/parse and records its
// syntax errors and an outline of what was parsed, with spans.
func TestParseGolden(t *testing.T) {
	langtest.Run(t, "../../testdata/parse", func(t *testing.T, c *langtest.Case) map[string]string {
		out := map[string]string{}
		for _, f := range c.Inputs() {
			file, diags := parser.ParseFile(f.Name, f.Data)
			var b strings.Builder
			src := diag.NewSource(f.Name, f.Data)
			diags.WriteText(&b, func(string) *diag.Source { return src })
			out["errors"] += b.String()
			if !diags.HasErrors() {
				out["outline"] += outline(src, file)
			}
		}
		return out
	})
}

func spanOf(src *diag.Source, n ast.Node) string {
	a, b := src.Pos(n.Begin().Offset), src.Pos(n.End().Offset)
	return fmt.Sprintf("%d:%d-%d:%d", a.Line, a.Col, b.Line, b.Col)
}

func outline(src *diag.Source, f *ast.File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s %s\n", f.Package.Name.Name, spanOf(src, f.Package))
	for _, d := range f.Decls {
		fmt.Fprintf(&b, "%s %s\n", strings.TrimPrefix(fmt.Sprintf("%T", d), "*ast."), spanOf(src, d))
		_, stmts, _ := ast.Body(d)
		for _, s := range stmts {
			fmt.Fprintf(&b, "  %s %s", strings.TrimPrefix(fmt.Sprintf("%T", s), "*ast."), spanOf(src, s))
			for _, e := range exprsOf(s) {
				fmt.Fprintf(&b, " [%s %q]", spanOf(src, e), e.Text)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func exprsOf(s ast.Stmt) []*ast.Expr {
	switch s := s.(type) {
	case *ast.Let:
		return []*ast.Expr{s.Value}
	case *ast.When:
		return []*ast.Expr{s.Cond}
	case *ast.OrderBy:
		return []*ast.Expr{s.Key}
	case *ast.Write:
		if s.Key != nil {
			return []*ast.Expr{s.Key}
		}
	case *ast.Lookup:
		var out []*ast.Expr
		for _, c := range s.Where {
			out = append(out, &c.Value.Expr)
		}
		return out
	}
	return nil
}

// FuzzParse checks that parsing never panics and every reported position
// lies inside the file.
func FuzzParse(f *testing.F) {
	for _, seed := range seeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := parser.ParseFile("fuzz.flow", src)
		for _, d := range diags {
			if d.Pos.Offset < 0 || d.Pos.Offset > len(src) || d.End.Offset > len(src) {
				t.Fatalf("diagnostic outside the file: %v (len %d)", d, len(src))
			}
		}
		if file != nil && !diags.HasErrors() {
			checkSpans(t, file, len(src))
		}
		parser.Comments("fuzz.flow", src)
	})
}

func checkSpans(t *testing.T, f *ast.File, n int) {
	for _, d := range f.Decls {
		if d.Begin().Offset < 0 || d.End().Offset > n || d.Begin().Offset > d.End().Offset {
			t.Fatalf("declaration span %d-%d outside the file (len %d)", d.Begin().Offset, d.End().Offset, n)
		}
		_, stmts, _ := ast.Body(d)
		for _, s := range stmts {
			if s.Begin().Offset < d.Begin().Offset || s.End().Offset > d.End().Offset {
				t.Fatalf("statement span %d-%d outside its declaration", s.Begin().Offset, s.End().Offset)
			}
		}
	}
}
