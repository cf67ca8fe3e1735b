package stdlib

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types/ref"
	"github.com/shopspring/decimal"
)

// testVars are the variables every test environment declares, with the
// values evalCase binds unless a case overrides them.
var testVars = map[string]*cel.Type{
	"m":    MinorType,      // 2000
	"n":    MinorType,      // -150
	"big":  MinorType,      // max int64
	"d":    DecimalType,    // 12.345
	"cur":  cel.StringType, // "usd"
	"secs": cel.IntType,    // 2024-03-10T04:30:00.250Z, in whole seconds
	"ts":   cel.TimestampType,
	"x":    cel.DynType, // set per case
}

// midnightEdge is 04:30 UTC on 10 March 2024: still the 9th in New York
// (23:30 EST), already the 10th in Berlin (05:30 CET).
var midnightEdge = time.Date(2024, 3, 10, 4, 30, 0, 250_000_000, time.UTC)

func testBindings() map[string]any {
	return map[string]any{
		"m":    Minor(2000),
		"n":    Minor(-150),
		"big":  Minor(1<<63 - 1),
		"d":    Decimal{Decimal: decimal.RequireFromString("12.345")},
		"cur":  "usd",
		"secs": midnightEdge.Unix(),
		"ts":   midnightEdge,
		"x":    Minor(7),
	}
}

func newTestEnv(tb testing.TB, opts ...Option) *cel.Env {
	tb.Helper()
	envOpts := []cel.EnvOption{Library(opts...)}
	for name, t := range testVars {
		envOpts = append(envOpts, cel.Variable(name, t))
	}
	env, err := cel.NewEnv(envOpts...)
	if err != nil {
		tb.Fatalf("NewEnv: %v", err)
	}
	return env
}

// evalExpr compiles and evaluates src with the test bindings, overridden by
// vars. A CEL error value comes back as err.
func evalExpr(tb testing.TB, env *cel.Env, src string, vars map[string]any) (ref.Val, error) {
	tb.Helper()
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		tb.Fatalf("compile %s: %v", src, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		tb.Fatalf("program %s: %v", src, err)
	}
	act := testBindings()
	for k, v := range vars {
		act[k] = v
	}
	v, _, err := prg.Eval(act)
	return v, err
}

// evalCase is one expression and what it must give: want is compared with
// the value's Go form (fmt %v), wantErr with the error text (substring).
type evalCase struct {
	name    string
	src     string
	vars    map[string]any
	want    string
	wantErr string
}

func runEvalCases(t *testing.T, env *cel.Env, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := evalExpr(t, env, tc.src, tc.vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s = %v, %v; want error containing %q", tc.src, v, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: unexpected error %v", tc.src, err)
			}
			if got := fmt.Sprint(v); got != tc.want {
				t.Errorf("%s = %s (%T); want %s", tc.src, got, v, tc.want)
			}
		})
	}
}

func TestFunctionsListing(t *testing.T) {
	docs := Functions()
	if !sort.SliceIsSorted(docs, func(i, j int) bool {
		if docs[i].Name != docs[j].Name {
			return docs[i].Name < docs[j].Name
		}
		return docs[i].Signature < docs[j].Signature
	}) {
		t.Error("Functions() is not sorted by name and signature")
	}
	bySig := map[string]FuncDoc{}
	for _, d := range docs {
		if strings.HasPrefix(d.Name, "_") || strings.HasPrefix(d.Name, "-") {
			t.Errorf("operator listed: %+v", d)
		}
		if d.Doc == "" {
			t.Errorf("%s has no doc", d.Signature)
		}
		if _, dup := bySig[d.Signature]; dup {
			t.Errorf("duplicate signature %s", d.Signature)
		}
		bySig[d.Signature] = d
	}
	for _, sig := range []string{
		"money(minor, string) -> decimal",
		"minor(decimal, string) -> minor",
		"decimal(string) -> decimal",
		"decimal(int) -> decimal",
		"round(decimal, int) -> decimal",
		"round_bank(decimal, int) -> decimal",
		"abs(decimal) -> decimal",
		"abs(minor) -> minor",
		"string(decimal) -> string",
		"exponent(string) -> int",
		"upper(string) -> string",
		"truncate(string, int) -> string",
		"street(string, string) -> string",
		"country3(string) -> string",
		"unix(int) -> timestamp",
		"date(int, string) -> timestamp",
		"date(timestamp, string) -> timestamp",
		"format_time(timestamp, string, string) -> string",
		"now() -> timestamp",
		"string.charAt(int) -> string", // from ext.Strings
	} {
		if _, ok := bySig[sig]; !ok {
			t.Errorf("Functions() lacks %s", sig)
		}
	}
	if _, ok := bySig["decimal(double) -> decimal"]; ok {
		t.Error("decimal(double) must not exist: money is never a float")
	}
	for _, d := range docs {
		if want := d.Name != "now"; d.Deterministic != want {
			t.Errorf("%s: Deterministic = %v, want %v", d.Signature, d.Deterministic, want)
		}
	}
}

func TestOverloadIDsUnique(t *testing.T) {
	seen := map[string]string{}
	for _, f := range allFunctions(newConfig(nil)) {
		for _, o := range f.overloads {
			if prev, dup := seen[o.id]; dup {
				t.Errorf("overload id %q used by %s and %s", o.id, prev, f.name)
			}
			seen[o.id] = f.name
			if (o.impl == nil) == (o.unaryOp == nil && o.binaryOp == nil) {
				t.Errorf("overload %q must have exactly one kind of binding", o.id)
			}
		}
	}
}

func TestLibraryTwice(t *testing.T) {
	env, err := cel.NewEnv(Library(), Library(), cel.Variable("m", MinorType))
	if err != nil {
		t.Fatal(err)
	}
	v, err := evalExpr(t, env, `string(money(m, "usd"))`, nil)
	if err != nil || v.Value() != "20.00" {
		t.Fatalf("got %v, %v", v, err)
	}
}

// TestConcurrentEval runs one program from many goroutines (meant for -race).
func TestConcurrentEval(t *testing.T) {
	env := newTestEnv(t)
	ast, iss := env.Compile(`[string(money(m, cur) / 3), format_time(secs, "YYYY-MM-DD", "Europe/Berlin"), string(date(ts, "Asia/Tokyo"))]`)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, _, err := prg.Eval(testBindings()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCompile compiles a typical mapping expression with the library.
func BenchmarkCompile(b *testing.B) {
	env, err := cel.NewEnv(Library(),
		cel.Variable("amount", MinorType),
		cel.Variable("amount_refunded", MinorType),
		cel.Variable("currency", cel.StringType),
		cel.Variable("name", cel.StringType),
		cel.Variable("line1", cel.StringType),
		cel.Variable("line2", cel.StringType),
		cel.Variable("country", cel.StringType),
		cel.Variable("created", cel.IntType),
	)
	if err != nil {
		b.Fatal(err)
	}
	const src = `{
		"TotalAmount": money(amount, currency) - money(amount_refunded, currency),
		"CurrencyCode": upper(currency),
		"Name": truncate(last_name(name), 20),
		"Street": street(line1, line2),
		"CountryRegionId": country3(country),
		"OrderDate": date(created, "Europe/Berlin"),
		"Paid": amount > amount_refunded,
	}`
	b.ReportAllocs()
	for b.Loop() {
		if _, iss := env.Compile(src); iss.Err() != nil {
			b.Fatal(iss.Err())
		}
	}
}
