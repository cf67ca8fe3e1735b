package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestEveryCodeIsDocumented keeps Codes() in step with the constants.
func TestEveryCodeIsDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	seen := map[Code]bool{}
	for _, c := range Codes() {
		documented[c.Name] = true
		if seen[c.Code] {
			t.Errorf("code %s documented twice", c.Code)
		}
		seen[c.Code] = true
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				if !documented[n.Name] {
					t.Errorf("code constant %s is missing from Codes()", n.Name)
				}
			}
		}
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cands    []string
		want     string
	}{
		{"typo", "amout", []string{"amount", "currency"}, "amount"},
		{"case", "customeraccount", []string{"CustomerAccount"}, "CustomerAccount"},
		{"too far", "xyz", []string{"amount"}, ""},
		{"short names need close matches", "id", []string{"ab"}, ""},
		{"exact is not a suggestion", "amount", []string{"amount"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Closest(tc.in, tc.cands); got != tc.want {
				t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSourcePos(t *testing.T) {
	s := NewSource("f", []byte("ab\nçd\n"))
	for _, tc := range []struct {
		off, line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 2}, {7, 3, 1}, {99, 3, 1}} {
		p := s.Pos(tc.off)
		if p.Line != tc.line || p.Col != tc.col {
			t.Errorf("Pos(%d) = %d:%d, want %d:%d", tc.off, p.Line, p.Col, tc.line, tc.col)
		}
	}
}
