package compiler

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

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
// say why). Files are parsed in parallel (at most GOMAXPROCS at a time); the
// packages, their files and the diagnostics keep the order of files.
func Load(files []string) ([]*Package, diag.List, error) {
	parsed := make([]loaded, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(files); i = int(next.Add(1)) - 1 {
				parsed[i] = load(files[i])
			}
		}()
	}
	wg.Wait()

	var diags diag.List
	byDir := map[string]*Package{}
	var order []string
	for i, name := range files {
		l := parsed[i]
		if l.err != nil {
			return nil, nil, l.err
		}
		diags = append(diags, l.diags...)
		if l.file == nil {
			continue
		}
		dir := filepath.Dir(name)
		pkg, ok := byDir[dir]
		if !ok {
			pkg = &Package{Dir: dir}
			byDir[dir] = pkg
			order = append(order, dir)
		}
		pkg.Files = append(pkg.Files, l.file)
	}
	out := make([]*Package, 0, len(order))
	for _, dir := range order {
		out = append(out, byDir[dir])
	}
	return out, diags, nil
}

// loaded is one file as Load read it: file is nil when it has syntax errors.
type loaded struct {
	file  *File
	diags diag.List
	err   error
}

func load(name string) loaded {
	src, err := os.ReadFile(name)
	if err != nil {
		return loaded{err: fmt.Errorf("read %s: %w", name, err)}
	}
	f, d := parser.ParseFile(name, src)
	if d.HasErrors() || f == nil {
		return loaded{diags: d}
	}
	return loaded{file: &File{AST: f, Source: diag.NewSource(name, src)}, diags: d}
}
