package bench

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/cmd/flowgen/gen"
	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
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

// config is flowc's compiler configuration: the standard connectors.
func config() compiler.Config {
	conns := map[string]compiler.ConnectorLoader{}
	for name, load := range stdlib.Connectors() {
		conns[name] = load
	}
	return compiler.Config{Connectors: conns}
}

// load finds and parses the files under dir.
func load(dir string) ([]string, []*compiler.Package, diag.List, error) {
	files, err := compiler.FindFiles([]string{dir})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, nil, fmt.Errorf("no .flow files in %s", dir)
	}
	pkgs, diags, err := compiler.Load(files)
	return files, pkgs, diags, err
}

// check does what `flowc check DIR` does, short of printing: find and parse
// the files, read them for printing, and compile every package in parallel
// with one fresh compiler (each flowc run starts cold).
func check(dir string) (diag.List, map[string]*diag.Source, error) {
	files, pkgs, diags, err := load(dir)
	if err != nil {
		return nil, nil, err
	}
	sources := map[string]*diag.Source{}
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			sources[name] = diag.NewSource(name, src)
		}
	}
	_, _, more := compiler.New(config()).CompilePackages(pkgs)
	return append(diags, more...).Sort(), sources, nil
}

func TestCorpusChecksClean(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and checks 1,000 flows")
	}
	dir, c := getCorpus(t)
	diags, sources, err := check(dir)
	if err != nil {
		t.Fatal(err)
	}
	errs, warns := diags.Count()
	if errs > 0 {
		var b strings.Builder
		diags.Limit(20).WriteText(&b, func(f string) *diag.Source { return sources[f] })
		t.Fatalf("corpus has %d errors, %d warnings:\n%s", errs, warns, b.String())
	}
	t.Logf("%s: 0 errors, %d warnings", c.Summary(), warns)

	// The floor compiles exactly the expressions the generator wrote, and
	// cel-go alone finds the type the checker found for each.
	fl, err := newFloor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.exprs) != c.Exprs {
		t.Errorf("floor collected %d expressions, the generator wrote %d", len(fl.exprs), c.Exprs)
	}
	for _, x := range fl.exprs {
		a, iss := x.Env.Compile(x.Expr.Text)
		if iss != nil && iss.Err() != nil {
			t.Errorf("floor: %q: %v", x.Expr.Text, iss.Err())
			continue
		}
		if x.Type == nil || a.OutputType().String() != x.Type.String() {
			t.Errorf("%s: %q: cel-go finds %s, the checker %v", x.File, x.Expr.Text, a.OutputType(), x.Type)
		}
	}
	t.Logf("floor: %d expressions in %d environments", len(fl.exprs), fl.envs)
}

// BenchmarkCheck measures a whole `flowc check DIR` run (without printing),
// and its ratio to the parallel floor.
func BenchmarkCheck(b *testing.B) {
	dir, c := getCorpus(b)
	// The floor once, outside the timer, for the ratio metric.
	fl, err := newFloor(dir)
	if err != nil {
		b.Fatal(err)
	}
	floor := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		fl.compile(runtime.GOMAXPROCS(0))
		floor = min(floor, time.Since(start))
	}
	b.ResetTimer()
	for b.Loop() {
		diags, _, err := check(dir)
		if err != nil {
			b.Fatal(err)
		}
		if diags.HasErrors() {
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
		if _, _, _, err := load(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Flows)/(b.Elapsed().Seconds()/float64(b.N)), "flows/s")
}

// BenchmarkCELFloor measures cel-go compiling (parsing and type-checking)
// every expression of the corpus in environments built beforehand: the
// check's work with nothing of ours in the loop.
func BenchmarkCELFloor(b *testing.B) {
	dir, c := getCorpus(b)
	fl, err := newFloor(dir)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, workers int) {
		b.ResetTimer()
		for b.Loop() {
			fl.compile(workers)
		}
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(c.Flows)/per, "flows/s")
		b.ReportMetric(float64(len(fl.exprs))/per, "exprs/s")
	}
	b.Run("serial", func(b *testing.B) { run(b, 1) })
	b.Run("parallel", func(b *testing.B) { run(b, runtime.GOMAXPROCS(0)) })
}

// floor is every CEL expression of the corpus with the environment the
// checker checks it in (cel-go environments, built once by the compiler).
type floor struct {
	exprs []compiler.Expression
	envs  int // distinct environments
}

func newFloor(dir string) (*floor, error) {
	_, pkgs, diags, err := load(dir)
	if err != nil {
		return nil, err
	}
	exprs, more := compiler.Expressions(config(), pkgs)
	if diags = append(diags, more...); diags.HasErrors() {
		return nil, fmt.Errorf("the corpus has errors; run TestCorpusChecksClean")
	}
	envs := map[*cel.Env]bool{}
	for _, x := range exprs {
		envs[x.Env] = true
	}
	return &floor{exprs: exprs, envs: len(envs)}, nil
}

// compile compiles every expression in its environment with cel-go, on the
// given number of goroutines.
func (fl *floor) compile(workers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	const batch = 32
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(batch)) - batch
				if i >= len(fl.exprs) {
					return
				}
				for _, x := range fl.exprs[i:min(i+batch, len(fl.exprs))] {
					if _, iss := x.Env.Compile(x.Expr.Text); iss != nil && iss.Err() != nil {
						panic(iss.Err())
					}
				}
			}
		}()
	}
	wg.Wait()
}
