package compiler

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/parser"
)

// Package is the parsed files of one directory.
type Package struct {
	Dir   string
	Files []*File
}

// FindFiles expands paths (files or directories, walked recursively) into
// the .flow files they name, sorted. A named file is taken even without the
// .flow suffix; hidden directories are skipped.
func FindFiles(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			add(filepath.Clean(p))
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".flow") {
				add(filepath.Clean(path))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Load reads and parses files and groups them into packages by directory.
// Syntax errors are diagnostics; a file that cannot be read is an error.
// Files with syntax errors are left out of their package (their diagnostics
// say why).
func Load(files []string) ([]*Package, diag.List, error) {
	var diags diag.List
	byDir := map[string]*Package{}
	var order []string
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, d := parser.ParseFile(name, src)
		diags = append(diags, d...)
		if d.HasErrors() || f == nil {
			continue
		}
		dir := filepath.Dir(name)
		pkg, ok := byDir[dir]
		if !ok {
			pkg = &Package{Dir: dir}
			byDir[dir] = pkg
			order = append(order, dir)
		}
		pkg.Files = append(pkg.Files, &File{AST: f, Source: diag.NewSource(name, src)})
	}
	out := make([]*Package, 0, len(order))
	for _, dir := range order {
		out = append(out, byDir[dir])
	}
	return out, diags, nil
}
