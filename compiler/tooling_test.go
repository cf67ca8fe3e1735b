package compiler_test

import (
	"sync"
	"testing"

	"github.com/flowhq/flow/compiler"
)

// TestNewTracing checks that a tracing compiler reports each expression
// with an environment that declares the names in scope, and that its caches
// grow and are counted.
func TestNewTracing(t *testing.T) {
	_, names := writeTree(t, map[string]string{"p/a.flow": pkgSource("p", "int", "1", "n + 1")})
	pkgs, diags, err := compiler.Load(names)
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	var mu sync.Mutex
	seen := map[string]compiler.Expression{}
	c := compiler.NewTracing(compiler.Config{}, func(x compiler.Expression) {
		mu.Lock()
		seen[x.Expr.Text] = x
		mu.Unlock()
	})
	if n := c.CacheSize(); n != 0 {
		t.Fatalf("a new compiler caches %d entries", n)
	}
	if _, _, diags := c.Compile(pkgs[0].Files); diags.HasErrors() {
		t.Fatal(diags)
	}
	x, ok := seen["n + 1"]
	if !ok {
		t.Fatalf("n + 1 was not traced; traced: %v", seen)
	}
	if x.Type == nil || x.Type.String() != "int" {
		t.Errorf("n + 1 has type %v, want int", x.Type)
	}
	ast, iss := x.Env.Compile("n * 2")
	if iss.Err() != nil || ast.OutputType().String() != "int" {
		t.Errorf("the traced environment does not declare n: %v", iss.Err())
	}
	if y, ok := seen["y == y"]; !ok || y.Type.String() != "bool" {
		t.Errorf("y == y traced as %v, want bool", y.Type)
	}
	if c.CacheSize() == 0 {
		t.Error("CacheSize is 0 after a compile")
	}
}
