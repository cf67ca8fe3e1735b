package format_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowhq/flow/lang/format"
	"github.com/flowhq/flow/lang/langtest"
	"github.com/flowhq/flow/lang/parser"
)

// TestFormatGolden formats in.flow and checks that formatting the result
// changes nothing (idempotence).
func TestFormatGolden(t *testing.T) {
	langtest.Run(t, "../../testdata/format", func(t *testing.T, c *langtest.Case) map[string]string {
		for _, f := range c.Inputs() {
			out, diags := format.Source(f.Name, f.Data)
			if diags.HasErrors() {
				return map[string]string{"errors": diags.Err().Error() + "\n"}
			}
			again, _ := format.Source(f.Name, out)
			if string(again) != string(out) {
				t.Errorf("formatting is not idempotent:\n--- once\n%s--- twice\n%s", out, again)
			}
			return map[string]string{"formatted": string(out)}
		}
		return nil
	})
}

// TestExamplesAreFormatted keeps flows/ in the canonical layout.
func TestExamplesAreFormatted(t *testing.T) {
	paths, _ := filepath.Glob("../../flows/*/*.flow")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := format.Source(p, src)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", p, diags.Err())
		}
		if string(out) != string(src) {
			t.Errorf("%s is not formatted; run flowc fmt -w flows/", p)
		}
	}
}

// FuzzFormat checks that formatting never panics, keeps every comment, and
// is idempotent.
func FuzzFormat(f *testing.F) {
	paths, _ := filepath.Glob("../../flows/*/*.flow")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, diags := format.Source("f.flow", src)
		if diags.HasErrors() {
			return
		}
		if n, m := len(parser.Comments("f.flow", src)), len(parser.Comments("f.flow", out)); n != m {
			t.Fatalf("formatting dropped comments: %d before, %d after\n%s", n, m, out)
		}
		again, diags := format.Source("f.flow", out)
		if diags.HasErrors() {
			t.Fatalf("formatted output does not parse: %v\n%s", diags.Err(), out)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent:\n--- once\n%s--- twice\n%s", out, again)
		}
	})
}

func TestExpr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`a+b*c`, `a + b * c`},
		{`f( a ,b )`, `f(a, b)`},
		{`-x + - 1`, `-x + -1`},
		{`!a&&b`, `!a && b`},
		{`x ? y:z`, `x ? y : z`},
		{`{"a":1}["a"]`, `{ "a": 1 }["a"]`},
		{`x in [1,2]`, `x in [1, 2]`},
		{`ch . metadata [ "k" ]`, `ch.metadata["k"]`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := format.Expr(tc.in); got != tc.want {
				t.Errorf("Expr(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
