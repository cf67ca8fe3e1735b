package bench

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/cmd/flowgen/gen"
	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

var (
	flowsN = flag.Int("flows", 1000, "flows in the generated corpus")
	seed   = flag.Uint64("seed", 1, "corpus seed")
)

// corpus is generated once per test binary run.
type corpusDir struct {
	dir    string
	corpus *gen.Corpus
	err    error
}

var (
	corpusOnce sync.Once
	theCorpus  corpusDir
)

func getCorpus(tb testing.TB) (string, *gen.Corpus) {
	tb.Helper()
	corpusOnce.Do(func() {
		c := gen.Generate(gen.Options{Flows: *flowsN, Seed: *seed})
		dir, err := os.MkdirTemp("", "flowbench")
		if err == nil {
			err = c.Write(dir)
		}
		theCorpus = corpusDir{dir: dir, corpus: c, err: err}
	})
	if theCorpus.err != nil {
		tb.Fatal(theCorpus.err)
	}
	return theCorpus.dir, theCorpus.corpus
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if theCorpus.dir != "" {
		os.RemoveAll(theCorpus.dir)
	}
	os.Exit(code)
}

// --- the check, as flowc check runs it ---

type checkResult struct {
	diags   diag.List
	sources map[string]*diag.Source
	pkgs    []*compiler.Package
	infos   []*compiler.Info
}

// checkPaths is cmd/flowc's checkPaths (package main, so copied): find and
// load every file, then compile the packages in parallel with one shared
// compiler and its environment cache.
func checkPaths(paths []string, cfg compiler.Config) (*checkResult, error) {
	files, err := compiler.FindFiles(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .flow files in %s", strings.Join(paths, " "))
	}
	pkgs, diags, err := compiler.Load(files)
	if err != nil {
		return nil, err
	}
	res := &checkResult{sources: map[string]*diag.Source{}, pkgs: pkgs}
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			res.sources[name] = diag.NewSource(name, src)
		}
	}
	cfg.Connectors = map[string]compiler.ConnectorLoader{}
	for name, load := range stdlib.Connectors() {
		cfg.Connectors[name] = load
	}
	c := compiler.New(cfg)
	var mu sync.Mutex
	var wg sync.WaitGroup
	res.infos = make([]*compiler.Info, len(pkgs))
	for i, pkg := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, info, d := c.Compile(pkg.Files)
			mu.Lock()
			diags = append(diags, d...)
			mu.Unlock()
			res.infos[i] = info
		}()
	}
	wg.Wait()
	res.diags = diags.Sort()
	return res, nil
}

func TestCorpusChecksClean(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and checks 1,000 flows")
	}
	dir, c := getCorpus(t)
	res, err := checkPaths([]string{dir}, compiler.Config{})
	if err != nil {
		t.Fatal(err)
	}
	errs, warns := res.diags.Count()
	if errs > 0 {
		var b strings.Builder
		res.diags.Limit(20).WriteText(&b, func(f string) *diag.Source { return res.sources[f] })
		t.Fatalf("corpus has %d errors, %d warnings:\n%s", errs, warns, b.String())
	}
	t.Logf("%s: 0 errors, %d warnings", c.Summary(), warns)

	// The floor compiles exactly the expressions the generator wrote, and
	// each compiles in its environment.
	fl, err := collectFloor(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.items) != c.Exprs {
		t.Errorf("floor collected %d expressions, the generator wrote %d", len(fl.items), c.Exprs)
	}
	for _, it := range fl.items {
		if _, iss := it.env.Compile(it.text); iss != nil && iss.Err() != nil {
			t.Errorf("floor: %q: %v", it.text, iss.Err())
		}
	}
	t.Logf("floor: %d expressions in %d environments", len(fl.items), fl.envs)
}

// BenchmarkCheck measures a whole `flowc check DIR` run (without printing):
// a fresh compiler each iteration, as each flowc run starts cold.
func BenchmarkCheck(b *testing.B) {
	dir, c := getCorpus(b)
	// The floor once, outside the timer, for the ratio metric.
	res, err := checkPaths([]string{dir}, compiler.Config{})
	if err != nil {
		b.Fatal(err)
	}
	fl, err := collectFloor(res)
	if err != nil {
		b.Fatal(err)
	}
	floor := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		fl.compileParallel(runtime.GOMAXPROCS(0))
		floor = min(floor, time.Since(start))
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := checkPaths([]string{dir}, compiler.Config{})
		if err != nil {
			b.Fatal(err)
		}
		if res.diags.HasErrors() {
			b.Fatal("the corpus has errors; run TestCorpusChecksClean")
		}
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(c.Flows)/per, "flows/s")
	b.ReportMetric(float64(c.Exprs)/per, "exprs/s")
	b.ReportMetric(per/floor.Seconds(), "x-floor")
}

// BenchmarkLoad measures finding and parsing the files alone (the part of
// a check that is not CEL).
func BenchmarkLoad(b *testing.B) {
	dir, c := getCorpus(b)
	for b.Loop() {
		files, err := compiler.FindFiles([]string{dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := compiler.Load(files); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Flows)/(b.Elapsed().Seconds()/float64(b.N)), "flows/s")
}

// BenchmarkCELFloor measures cel-go compiling (parse and type-check) every
// expression of the corpus in environments built beforehand: what a check
// cannot avoid.
func BenchmarkCELFloor(b *testing.B) {
	dir, c := getCorpus(b)
	res, err := checkPaths([]string{dir}, compiler.Config{})
	if err != nil {
		b.Fatal(err)
	}
	fl, err := collectFloor(res)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, workers int) {
		b.ResetTimer()
		for b.Loop() {
			fl.compileParallel(workers)
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(c.Flows)/per, "flows/s")
		b.ReportMetric(float64(len(fl.items))/per, "exprs/s")
	}
	b.Run("serial", func(b *testing.B) { run(b, 1) })
	b.Run("parallel", func(b *testing.B) { run(b, runtime.GOMAXPROCS(0)) })
}

// --- the floor ---

type floorItem struct {
	env  *cel.Env
	text string
}

type floor struct {
	items []floorItem
	envs  int
}

// compileParallel compiles every item with the given number of goroutines.
func (fl *floor) compileParallel(workers int) {
	if workers <= 1 {
		for _, it := range fl.items {
			if _, iss := it.env.Compile(it.text); iss != nil && iss.Err() != nil {
				panic(iss.Err())
			}
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	const batch = 32
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(batch)) - batch
				if i >= len(fl.items) {
					return
				}
				for _, it := range fl.items[i:min(i+batch, len(fl.items))] {
					if _, iss := it.env.Compile(it.text); iss != nil && iss.Err() != nil {
						panic(iss.Err())
					}
				}
			}
		}()
	}
	wg.Wait()
}

// floorBuilder reproduces the compiler's environments (compiler/globals.go
// baseEnv, compiler/cel.go check, compiler/scope.go variables): a base
// environment of stdlib.Library() and the package's connector types, extended
// with the variables in scope at each expression (and the ledger aggregates
// for postings), built once per distinct set.
type floorBuilder struct {
	fl    *floor
	bases map[string]*cel.Env
	envs  map[string]*cel.Env
}

// collectFloor walks the parsed packages in the order the checker does and
// pairs every checked expression with its environment. Variable types come
// from the symbols the checker declared (Info.Defs).
func collectFloor(res *checkResult) (*floor, error) {
	fb := &floorBuilder{fl: &floor{}, bases: map[string]*cel.Env{}, envs: map[string]*cel.Env{}}
	for i, pkg := range res.pkgs {
		if err := fb.pkg(pkg, res.infos[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", pkg.Dir, err)
		}
	}
	fb.fl.envs = len(fb.envs)
	return fb.fl, nil
}

type variable struct {
	name string
	typ  *schema.Type
}

func (fb *floorBuilder) pkg(pkg *compiler.Package, info *compiler.Info) error {
	// The base environment, one per connector set (as baseEnv keys it).
	var keys []string
	var conns []*schema.Connector
	for alias, c := range info.Connectors {
		keys = append(keys, fmt.Sprintf("%s=%s@%p", alias, c.Name, c))
		conns = append(conns, c)
	}
	sort.Strings(keys)
	baseKey := strings.Join(keys, ",")
	base, ok := fb.bases[baseKey]
	if !ok {
		var err error
		base, err = cel.NewEnv(stdlib.Library(), cel.CustomTypeProvider(newProvider(conns)))
		if err != nil {
			return err
		}
		fb.bases[baseKey] = base
	}
	// Package scope: params and tables, in declaration order.
	var pkgVars []variable
	sym := func(id *ast.Ident) *compiler.Symbol {
		if id == nil {
			return nil
		}
		return info.Defs[id]
	}
	for _, f := range pkg.Files {
		for _, d := range f.AST.Decls {
			switch d := d.(type) {
			case *ast.Param:
				if s := sym(d.Name); s != nil {
					pkgVars = append(pkgVars, variable{s.Name, s.Type})
				}
			case *ast.Table:
				if s := sym(d.Name); s != nil {
					pkgVars = append(pkgVars, variable{s.Name, s.Type})
				}
			}
		}
	}
	add := func(vars []variable, agg bool, e *ast.Expr) error {
		if e == nil {
			return nil
		}
		env, err := fb.env(baseKey, base, vars, agg)
		if err != nil {
			return err
		}
		fb.fl.items = append(fb.fl.items, floorItem{env: env, text: e.Text})
		return nil
	}
	addBlock := func(vars []variable, b *ast.Block) error {
		if b == nil {
			return nil
		}
		for _, fld := range b.Fields {
			if err := add(vars, false, fld.Value); err != nil {
				return err
			}
		}
		return nil
	}
	// Constants: param defaults, tables, env values (in package scope).
	for _, f := range pkg.Files {
		for _, d := range f.AST.Decls {
			var err error
			switch d := d.(type) {
			case *ast.Param:
				err = add(pkgVars, false, d.Default)
			case *ast.Table:
				err = add(pkgVars, false, d.Value)
			case *ast.Env:
				err = addBlock(pkgVars, d.Values)
			}
			if err != nil {
				return err
			}
		}
	}
	// Flows: each statement sees the names the ones before it declared.
	for _, f := range pkg.Files {
		for _, d := range f.AST.Decls {
			_, stmts, ok := ast.Body(d)
			if !ok {
				continue
			}
			vars := append([]variable(nil), pkgVars...)
			declare := func(id *ast.Ident) {
				if s := sym(id); s != nil {
					vars = append(vars, variable{s.Name, s.Type})
				}
			}
			for _, s := range stmts {
				var err error
				switch s := s.(type) {
				case *ast.On:
					declare(s.Alias)
				case *ast.OrderBy:
					err = add(vars, false, s.Key)
				case *ast.Let:
					err = add(vars, false, s.Value)
					declare(s.Name)
				case *ast.When:
					err = add(vars, false, s.Cond)
				case *ast.Lookup:
					for _, c := range s.Where {
						if err = add(vars, false, &c.Value.Expr); err != nil {
							return err
						}
					}
					if s.Miss != nil {
						err = addBlock(vars, s.Miss.Create)
					}
					declare(s.Name)
				case *ast.Write:
					if err = add(vars, false, s.Key); err != nil {
						return err
					}
					err = addBlock(vars, s.Body)
					if s.Bound != nil {
						declare(s.Name())
					}
				case *ast.For:
					for _, a := range s.Args {
						if err = add(vars, false, a.Value); err != nil {
							return err
						}
					}
					declare(s.Var)
				case *ast.GroupBy:
					for _, k := range s.Keys {
						if err = add(vars, false, &k.Value.Expr); err != nil {
							return err
						}
						declare(k.Name)
					}
				case *ast.Journal:
					if err = add(vars, false, s.Key); err != nil {
						return err
					}
					for _, it := range s.Items {
						switch it := it.(type) {
						case *ast.Header:
							err = addBlock(vars, it.Fields)
						case *ast.LineField:
							err = add(vars, false, it.Field.Value)
						case *ast.Posting:
							if err = add(vars, true, &it.Account.Expr); err == nil {
								err = add(vars, true, it.Amount)
							}
						}
						if err != nil {
							return err
						}
					}
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// env returns the environment for a variable set, built once.
func (fb *floorBuilder) env(baseKey string, base *cel.Env, vars []variable, agg bool) (*cel.Env, error) {
	var key strings.Builder
	key.WriteString(baseKey)
	key.WriteByte('|')
	for _, v := range vars {
		key.WriteString(v.name)
		key.WriteByte(':')
		key.WriteString(v.typ.String())
		key.WriteByte(';')
	}
	if agg {
		key.WriteString("|aggregates")
	}
	if env, ok := fb.envs[key.String()]; ok {
		return env, nil
	}
	var opts []cel.EnvOption
	for _, v := range vars {
		opts = append(opts, cel.Variable(v.name, celType(v.typ)))
	}
	if agg {
		opts = append(opts, aggregates...)
	}
	env, err := base.Extend(opts...)
	if err != nil {
		return nil, err
	}
	fb.envs[key.String()] = env
	return env, nil
}

// --- copies of the compiler's unexported environment pieces ---

// celType is compiler/types.go celType.
func celType(t *schema.Type) *cel.Type {
	if t == nil {
		return cel.DynType
	}
	switch t.Kind {
	case schema.String:
		return cel.StringType
	case schema.Int:
		return cel.IntType
	case schema.Bool:
		return cel.BoolType
	case schema.Double:
		return cel.DoubleType
	case schema.Decimal:
		return stdlib.DecimalType
	case schema.Minor:
		return stdlib.MinorType
	case schema.Timestamp:
		return cel.TimestampType
	case schema.List:
		return cel.ListType(celType(t.Elem))
	case schema.Map:
		return cel.MapType(celType(t.Key), celType(t.Elem))
	case schema.Struct:
		return cel.ObjectType(t.Object)
	}
	return cel.DynType
}

// aggregates is compiler/ledger.go aggregates.
var aggregates = []cel.EnvOption{
	cel.Function("sum",
		cel.Overload("sum_minor", []*cel.Type{stdlib.MinorType}, stdlib.MinorType, cel.UnaryBinding(identity)),
		cel.Overload("sum_decimal", []*cel.Type{stdlib.DecimalType}, stdlib.DecimalType, cel.UnaryBinding(identity)),
		cel.Overload("sum_int", []*cel.Type{cel.IntType}, cel.IntType, cel.UnaryBinding(identity))),
	cel.Function("count",
		cel.Overload("count_items", []*cel.Type{}, cel.IntType, cel.FunctionBinding(func(...ref.Val) ref.Val { return types.Int(1) }))),
}

func identity(v ref.Val) ref.Val { return v }

// provider is compiler/provider.go provider: the connectors' object types.
type provider struct {
	*types.Registry
	objects map[string]*schema.Object
}

func newProvider(conns []*schema.Connector) *provider {
	p := &provider{Registry: types.NewEmptyRegistry(), objects: map[string]*schema.Object{}}
	for _, c := range conns {
		for name, o := range c.Objects {
			p.objects[name] = o
		}
	}
	tick, err := schema.NewObject("schedule.Tick", "a scheduled run", []*schema.Field{
		{Name: "id", Type: schema.StringType},
		{Name: "time", Type: schema.TimestampType},
	}, nil)
	if err != nil {
		panic(err)
	}
	p.objects[tick.Name] = tick
	return p
}

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if o, ok := p.objects[name]; ok {
		return o.FieldNames(), true
	}
	return p.Registry.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	o, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	f, ok := o.Field(field)
	if !ok {
		return nil, false
	}
	return &types.FieldType{
		Type: celType(f.Type),
		IsSet: func(target any) bool {
			m, ok := target.(map[string]any)
			if !ok {
				return false
			}
			v, ok := m[field]
			return ok && v != nil
		},
		GetFrom: func(target any) (any, error) {
			m, ok := target.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("value is not an object")
			}
			return m[field], nil
		},
	}, true
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.objects[name]; ok {
		return types.NewErr("%s values cannot be constructed in an expression", name)
	}
	return p.Registry.NewValue(name, fields)
}
