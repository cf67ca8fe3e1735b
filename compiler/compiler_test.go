package compiler_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/langtest"
	"github.com/flowhq/flow/lang/parser"
	"github.com/flowhq/flow/stdlib"
)

func newCompiler(env string) *compiler.Compiler {
	conns := map[string]compiler.ConnectorLoader{}
	for k, v := range stdlib.Connectors() {
		conns[k] = v
	}
	return compiler.New(compiler.Config{Connectors: conns, Env: env})
}

// TestCheckGolden compiles the .flow files of each archive as one package
// and records every diagnostic (no error limit). An archive may hold an
// `env` file naming the env to select.
func TestCheckGolden(t *testing.T) {
	langtest.Run(t, "../testdata/check", func(t *testing.T, c *langtest.Case) map[string]string {
		env := ""
		var files []*compiler.File
		sources := map[string]*diag.Source{}
		var out strings.Builder
		for _, f := range c.Inputs() {
			if f.Name == "env" {
				env = strings.TrimSpace(string(f.Data))
				continue
			}
			src := diag.NewSource(f.Name, f.Data)
			sources[f.Name] = src
			file, d := parser.ParseFile(f.Name, f.Data)
			if d.HasErrors() {
				d.WriteText(&out, func(n string) *diag.Source { return sources[n] })
				continue
			}
			files = append(files, &compiler.File{AST: file, Source: src})
		}
		p, _, diags := newCompiler(env).Compile(files)
		diags.WriteText(&out, func(n string) *diag.Source { return sources[n] })
		res := map[string]string{"diagnostics": out.String()}
		if p != nil && !diags.HasErrors() {
			res["version"] = "plan built\n"
		}
		return res
	})
}

// TestEveryCodeHasAGolden keeps the promise that every diagnostic code is
// shown by at least one golden file.
func TestEveryCodeHasAGolden(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`\[(F\d{4})\]`)
	for _, dir := range []string{"../testdata/check", "../testdata/parse"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				seen[m[1]] = true
			}
		}
	}
	for _, c := range diag.Codes() {
		if c.Code == diag.TooManyErrors {
			continue // shown by the CLI tests
		}
		if !seen[string(c.Code)] {
			t.Errorf("code %s (%s) appears in no golden file", c.Code, c.Name)
		}
	}
}

// TestExamplesCheckClean compiles every example package without errors.
func TestExamplesCheckClean(t *testing.T) {
	dirs, _ := filepath.Glob("../flows/*")
	for _, dir := range dirs {
		names, err := compiler.FindFiles([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		pkgs, diags, err := compiler.Load(names)
		if err != nil || diags.HasErrors() {
			t.Fatalf("%s: %v %v", dir, err, diags.Err())
		}
		for _, pkg := range pkgs {
			p, _, diags := newCompiler("").Compile(pkg.Files)
			if diags.HasErrors() || p == nil {
				t.Errorf("%s: %v", dir, diags.Err())
			}
		}
	}
}
