package compiler

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// File is one parsed source file of a package.
type File struct {
	AST    *ast.File
	Source *diag.Source
}

// ConnectorLoader builds a connector schema from an import's constant
// configuration; dir is the directory of the importing file, for relative
// paths such as a tenant's $metadata file.
type ConnectorLoader func(config map[string]string, dir string) (*schema.Connector, error)

// Config configures a Compiler.
type Config struct {
	// Connectors maps import paths ("stripe", "d365fo") to their loaders.
	Connectors map[string]ConnectorLoader
	// Env selects the param values of an `env NAME { ... }` block; "" uses
	// the defaults.
	Env string
	// Params overrides param values (from the command line); values are
	// parsed as the param's type.
	Params map[string]string
	// Parallelism bounds how many flows are checked at once; 0 means
	// GOMAXPROCS.
	Parallelism int
}

// Compiler compiles flow packages. It caches CEL environments, parsed and
// checked expressions across packages (see cache.go), so one Compiler should
// serve a whole `flowc check` run. It is safe for concurrent use.
type Compiler struct {
	cfg Config

	mu      sync.Mutex
	envs    map[string]*envEntry   // by declarations (see cachedEnv)
	parsed  map[string]*parseEntry // by expression text (see parse)
	checked map[string]*checkEntry // by text and declarations used (see check)

	trace func(Expression) // if set, called for every expression checked (see Expressions)
}

type envEntry struct {
	once sync.Once
	env  *cel.Env
	err  error
}

// New returns a Compiler.
func New(cfg Config) *Compiler {
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = runtime.GOMAXPROCS(0)
	}
	return &Compiler{cfg: cfg, envs: map[string]*envEntry{}, parsed: map[string]*parseEntry{}, checked: map[string]*checkEntry{}}
}

// Info is what the checker learned about a package, keyed by syntax node.
// Tools (plan printing, the language server) read it; it is complete only
// for the parts of the source that checked without errors.
type Info struct {
	// Types holds the type of every expression that checked.
	Types map[*ast.Expr]*cel.Type
	// Refs maps a declaring identifier to its symbol.
	Defs map[*ast.Ident]*Symbol
	// Connectors maps import aliases to their schemas.
	Connectors map[string]*schema.Connector
	// Envs maps a flow's name to the CEL environment in which every
	// expression of its plan (aggregate rewrites included) checks; the
	// runtime compiles the plan's expressions in it.
	Envs map[string]*cel.Env
}

// unit is the state of one package compilation.
type unit struct {
	c      *Compiler
	files  []*File
	diags  diag.List
	info   *Info
	pkg    *scope
	prov   *provider
	conns  map[string]*importedConnector // by alias
	params []*paramDecl
	tables []*tableDecl
	flows  []*flowUnit
	aggs   map[string]*aggDecl // by name
	name   string

	mu sync.Mutex // guards pending and info during parallel passes
	// pending holds diagnostics while passes run: each is its own
	// allocation, so a caller may still set its Suggestion after another
	// goroutine has reported more. flush moves them into diags.
	pending []*diag.Diagnostic
}

type importedConnector struct {
	alias  string
	conn   *schema.Connector
	decl   *ast.Import
	file   *File
	config map[string]string
}

// pass is one stage of compilation.
type pass struct {
	name string
	run  func(*unit)
}

// passes run in order; each depends on those before it.
var passes = []pass{
	{"imports", (*unit).resolveImports}, // needs: parsed files
	{"globals", (*unit).declareGlobals}, // needs: imports (connector config may name secrets; table types may name objects)
	{"bodies", (*unit).checkBodies},     // needs: globals (scope, CEL environment)
	{"package", (*unit).checkPackage},   // needs: bodies (usage marks, triggers)
}

// Compile checks the files of one package and lowers them to a plan. The plan
// is nil when the diagnostics hold an error.
func (c *Compiler) Compile(files []*File) (*plan.Plan, *Info, diag.List) {
	return c.compile(files, "")
}

// CompileUntil runs the passes up to and including the named one, for tests.
func (c *Compiler) CompileUntil(files []*File, last string) (*Info, diag.List) {
	_, info, diags := c.compile(files, last)
	return info, diags
}

func (c *Compiler) compile(files []*File, last string) (*plan.Plan, *Info, diag.List) {
	u := &unit{c: c, files: files, info: &Info{Types: map[*ast.Expr]*cel.Type{}, Defs: map[*ast.Ident]*Symbol{}, Connectors: map[string]*schema.Connector{}, Envs: map[string]*cel.Env{}},
		pkg: newScope(nil), conns: map[string]*importedConnector{}}
	for _, p := range passes {
		p.run(u)
		u.flush()
		if p.name == last {
			return nil, u.info, u.diags.Sort()
		}
	}
	if u.diags.HasErrors() {
		return nil, u.info, u.diags.Sort()
	}
	pl, err := u.lower()
	if err != nil {
		// Lowering a checked package cannot fail on user input; an error
		// here is a compiler bug, reported rather than hidden.
		u.report(u.files[0].Source.Pos(0), diag.Pos{}, diag.Error, diag.Misplaced, "internal error while building the plan: %v", err)
		u.flush()
		return nil, u.info, u.diags.Sort()
	}
	return pl, u.info, u.diags.Sort()
}

// span converts a node into a diagnostic range.
func span(f *File, n ast.Node) (diag.Pos, diag.Pos) {
	return f.Source.Pos(n.Begin().Offset), f.Source.Pos(n.End().Offset)
}

func (u *unit) errorf(f *File, n ast.Node, code diag.Code, format string, args ...any) *diag.Diagnostic {
	pos, end := span(f, n)
	return u.report(pos, end, diag.Error, code, format, args...)
}

func (u *unit) warnf(f *File, n ast.Node, code diag.Code, format string, args ...any) *diag.Diagnostic {
	pos, end := span(f, n)
	return u.report(pos, end, diag.Warning, code, format, args...)
}

// report records a diagnostic; the caller may add a suggestion to it.
func (u *unit) report(pos, end diag.Pos, sev diag.Severity, code diag.Code, format string, args ...any) *diag.Diagnostic {
	d := &diag.Diagnostic{Pos: pos, End: end, Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)}
	u.mu.Lock()
	u.pending = append(u.pending, d)
	u.mu.Unlock()
	return d
}

// flush moves the pending diagnostics into diags.
func (u *unit) flush() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, d := range u.pending {
		u.diags.Add(*d)
	}
	u.pending = nil
}

// suggest sets a did-you-mean suggestion when a candidate is close.
func suggest(d *diag.Diagnostic, name string, candidates []string) {
	if c := diag.Closest(name, candidates); c != "" {
		d.Suggestion = fmt.Sprintf("did you mean %q?", c)
	}
}
