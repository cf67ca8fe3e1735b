package compiler

import (
	"sort"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
)

// CompilePackages compiles packages in parallel, as `flowc check` does, with
// c's caches shared between them. It returns the plan (nil when the package
// has errors) and the Info of each package, in the order of pkgs, and every
// diagnostic, sorted.
func (c *Compiler) CompilePackages(pkgs []*Package) ([]*plan.Plan, []*Info, diag.List) {
	plans := make([]*plan.Plan, len(pkgs))
	infos := make([]*Info, len(pkgs))
	diags := make([]diag.List, len(pkgs))
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plans[i], infos[i], diags[i] = c.Compile(pkg.Files)
		}()
	}
	wg.Wait()
	var all diag.List
	for _, d := range diags {
		all = append(all, d...)
	}
	return plans, infos, all.Sort()
}

// Expression is a CEL expression as the checker type-checks it.
type Expression struct {
	File string
	Expr *ast.Expr
	// Env is the environment it checks in: cel-go's, built from the
	// package's base environment (the standard library and the connectors'
	// types) and the declarations in scope at the expression.
	Env *cel.Env
	// Type is the type the checker found; nil when it reported an error.
	Type *cel.Type
}

// Expressions compiles packages and returns every CEL expression the
// checker type-checks, in source order (files in the order of pkgs), and
// the diagnostics. It is for tools that need the expressions with their
// environments, such as the benchmark that measures cel-go alone on them.
func Expressions(cfg Config, pkgs []*Package) ([]Expression, diag.List) {
	c := New(cfg)
	var mu sync.Mutex
	var out []Expression
	c.trace = func(x Expression) {
		mu.Lock()
		out = append(out, x)
		mu.Unlock()
	}
	_, _, diags := c.CompilePackages(pkgs)
	order := map[string]int{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			order[f.Source.Name] = len(order)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return order[a.File] < order[b.File]
		}
		return a.Expr.Pos.Offset < b.Expr.Pos.Offset
	})
	return out, diags
}
