package lsp

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
)

// maxCache bounds the entries of the compiler's caches (environments,
// parsed and checked expressions) before the checker starts a fresh
// compiler: every keystroke in an expression adds a text.
const maxCache = 20000

// file is one source file of a snapshot.
type file struct {
	path  string
	text  *text
	ast   *ast.File // nil when nothing parsed; partial when syntax is true
	parse diag.List // syntax errors
	// syntax reports a syntax error: the file is left out of the package,
	// as `flowc check` leaves it out, and ast may be partial.
	syntax bool
}

// snapshot is the result of checking one package (a directory) as the
// editor has it.
type snapshot struct {
	dir   string
	gen   int              // the package's edit generation it was built from
	files map[string]*file // by path
	info  *compiler.Info   // nil when no file of the package parsed
	exprs map[string][]compiler.Expression
	diags map[string]diag.List // by path, sorted
}

// checker compiles packages. One check runs at a time; its compiler and
// parsed files carry over to the next check.
type checker struct {
	mu     sync.Mutex
	comp   *compiler.Compiler
	parsed map[string]*file                 // by path: the last parse of each file
	pieces map[string]map[string]chunkParse // by path: its declarations' parses

	traceMu sync.Mutex
	traced  []compiler.Expression
}

func newChecker() *checker {
	return &checker{parsed: map[string]*file{}, pieces: map[string]map[string]chunkParse{}}
}

// compiler returns the compiler to use, a new one when the caches of the
// old one have grown past maxCache.
func (c *checker) compiler() *compiler.Compiler {
	if c.comp == nil || c.comp.CacheSize() > maxCache {
		cfg := compiler.Config{Connectors: map[string]compiler.ConnectorLoader{}}
		for name, load := range stdlib.Connectors() {
			cfg.Connectors[name] = load
		}
		c.comp = compiler.NewTracing(cfg, c.trace)
	}
	return c.comp
}

func (c *checker) trace(x compiler.Expression) {
	c.traceMu.Lock()
	c.traced = append(c.traced, x)
	c.traceMu.Unlock()
}

// parse parses src as path, reusing the last parse when the text is the same.
func (c *checker) parse(path string, src []byte) *file {
	if f, ok := c.parsed[path]; ok && bytes.Equal(f.text.src, src) {
		return f
	}
	if c.pieces[path] == nil {
		c.pieces[path] = map[string]chunkParse{}
	}
	a, diags := parseFile(path, src, c.pieces[path])
	f := &file{path: path, text: newText(src), ast: a, parse: diags, syntax: diags.HasErrors() || a == nil}
	c.parsed[path] = f
	return f
}

// packageFiles lists the .flow files of dir on disk, and the overlays in it.
func packageFiles(dir string, overlay map[string][]byte) []string {
	seen := map[string]bool{}
	var out []string
	if dir != "" {
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".flow") {
					p := filepath.Join(dir, e.Name())
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	for p := range overlay {
		if !seen[p] && dirOf(p) == dir {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// dirOf returns a document's package directory: "" for a document that is
// not a file (an unsaved buffer), which is a package alone.
func dirOf(path string) string {
	if !filepath.IsAbs(path) {
		return ""
	}
	return filepath.Dir(path)
}

// check compiles the package in dir with the overlays (the editor's unsaved
// documents, by path) in place of the files on disk; only is the one
// document of a package without a directory.
func (c *checker) check(dir string, gen int, overlay map[string][]byte, only string) *snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap := &snapshot{dir: dir, gen: gen, files: map[string]*file{}, exprs: map[string][]compiler.Expression{}, diags: map[string]diag.List{}}
	paths := []string{only}
	if dir != "" {
		paths = packageFiles(dir, overlay)
	}
	var files []*compiler.File
	var all diag.List
	for _, p := range paths {
		src, ok := overlay[p]
		if !ok {
			var err error
			if src, err = os.ReadFile(p); err != nil {
				continue
			}
		}
		f := c.parse(p, src)
		snap.files[p] = f
		all = append(all, f.parse...)
		if !f.syntax {
			files = append(files, &compiler.File{AST: f.ast, Source: diag.NewSource(p, src)})
		}
	}
	for p := range c.parsed {
		if dirOf(p) == dir && snap.files[p] == nil {
			delete(c.parsed, p) // deleted or renamed
			delete(c.pieces, p)
		}
	}
	if len(files) > 0 {
		comp := c.compiler()
		c.traced = nil
		_, info, diags := comp.Compile(files)
		snap.info = info
		all = append(all, diags...)
		for _, x := range c.traced {
			snap.exprs[x.File] = append(snap.exprs[x.File], x)
		}
		for _, xs := range snap.exprs {
			sort.Slice(xs, func(i, j int) bool { return xs[i].Expr.Pos.Offset < xs[j].Expr.Pos.Offset })
		}
		c.traced = nil
	}
	for _, d := range all.Sort() {
		snap.diags[d.Pos.File] = append(snap.diags[d.Pos.File], d)
	}
	return snap
}
