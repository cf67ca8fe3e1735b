package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
)

// writeTree writes files (path: content) under a temporary directory and
// returns their paths, sorted.
func writeTree(t *testing.T, files map[string]string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := compiler.FindFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, names
}

// pkgSource is a package whose param n has the given type and default, and
// whose flow checks expr.
func pkgSource(name, typ, value, expr string) string {
	return fmt.Sprintf(`package %s

param n: %s = %s

flow f {
    on schedule "0 2 * * *" as tick
    let y = %s
    when y == y
}
`, name, typ, value, expr)
}

// TestLoadKeepsOrder checks that parallel parsing keeps packages, files and
// diagnostics in the order of the files.
func TestLoadKeepsOrder(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("p%02d/a.flow", i)] = pkgSource(fmt.Sprintf("p%02d", i), "int", "1", "n")
		files[fmt.Sprintf("p%02d/b.flow", i)] = fmt.Sprintf("package p%02d\n", i)
		if i%3 == 0 {
			files[fmt.Sprintf("p%02d/c.flow", i)] = "package oops\nflow {\n"
		}
	}
	_, names := writeTree(t, files)
	pkgs, diags, err := compiler.Load(names)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			got = append(got, f.Source.Name)
		}
	}
	var want, bad []string
	for _, name := range names {
		if strings.HasSuffix(name, "c.flow") {
			bad = append(bad, name)
		} else {
			want = append(want, name)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files in packages:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(pkgs) != 20 {
		t.Errorf("%d packages, want 20", len(pkgs))
	}
	var errFiles []string
	for _, d := range diags {
		errFiles = append(errFiles, d.Pos.File)
	}
	if strings.Join(errFiles, "\n") != strings.Join(bad, "\n") {
		t.Errorf("diagnostics in:\n%s\nwant\n%s", strings.Join(errFiles, "\n"), strings.Join(bad, "\n"))
	}

	if _, _, err := compiler.Load(append(names, filepath.Join(t.TempDir(), "missing.flow"))); err == nil {
		t.Error("Load of a missing file: no error")
	}
}

// TestCheckCacheKeepsPackagesApart compiles packages that share expression
// texts, with one compiler: each gets the types and errors of its own
// declarations, at its own positions.
func TestCheckCacheKeepsPackagesApart(t *testing.T) {
	_, names := writeTree(t, map[string]string{
		"a/a.flow": pkgSource("a", "int", "1", "n + n"),
		"b/b.flow": pkgSource("b", "string", `"x"`, "n + n"),
		"c/c.flow": pkgSource("c", "int", "1", "n + true"),
		"d/d.flow": "// d\n" + pkgSource("d", "int", "1", "n + true"),
		"e/e.flow": pkgSource("e", "bool", "true", "n + true"),
	})
	pkgs, diags, err := compiler.Load(names)
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	c := compiler.New(compiler.Config{})
	_, infos, diags := c.CompilePackages(pkgs)
	types := map[string]string{}
	for i, info := range infos {
		for e, typ := range info.Types {
			if strings.HasPrefix(e.Text, "n +") {
				types[pkgs[i].Files[0].AST.Package.Name.Name] = typ.String()
			}
		}
	}
	if want := map[string]string{"a": "int", "b": "string"}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("types %v, want %v", types, want)
	}
	var got []string
	for _, d := range diags {
		if d.Severity == diag.Error {
			got = append(got, fmt.Sprintf("%s:%d:%d: %s", filepath.Base(d.Pos.File), d.Pos.Line, d.Pos.Col, d.Message))
		}
	}
	want := []string{
		"c.flow:7:15: + cannot be applied to an int and a bool",
		"d.flow:8:15: + cannot be applied to an int and a bool",
		"e.flow:7:15: + cannot be applied to a bool and a bool",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
