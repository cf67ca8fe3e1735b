package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
)

// paramFlags collects repeated --param k=v flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }
func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	p[k] = v
	return nil
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", `Usage: flowc check [--format text|json|sarif|github] [--env NAME] [--param name=value]... [--all-errors] [PATH...]

Type-checks the .flow files under each PATH (default "."; directories are
walked, each directory is one package). Prints diagnostics sorted by position
and exits 0 when there are no errors (warnings allowed), 1 when there are
errors, 2 on a usage or I/O error.`, stderr)
	format := fs.String("format", "text", "output format: text, json, sarif or github")
	env := fs.String("env", "", "check with the param values of `env NAME { ... }`")
	all := fs.Bool("all-errors", false, "report every error instead of stopping after 10 per file")
	params := paramFlags{}
	fs.Var(params, "param", "override a param: name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	switch *format {
	case "text", "json", "sarif", "github":
	default:
		fmt.Fprintf(stderr, "flowc check: unknown format %q (text, json, sarif or github)\n", *format)
		return 2
	}
	res, err := checkPaths(fs.Args(), compiler.Config{Env: *env, Params: params})
	if err != nil {
		fmt.Fprintf(stderr, "flowc check: %v\n", err)
		return 2
	}
	diags := res.diags
	if !*all {
		diags = diags.Limit(10)
	}
	if err := writeDiags(stdout, stderr, *format, diags, res.sources); err != nil {
		fmt.Fprintf(stderr, "flowc check: %v\n", err)
		return 2
	}
	if diags.HasErrors() {
		return 1
	}
	return 0
}

func usageExit(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}

// checkResult is the outcome of checking some paths.
type checkResult struct {
	diags   diag.List
	sources map[string]*diag.Source
	plans   []*plan.Plan
}

// checkPaths loads and compiles every package under paths, packages in
// parallel, with one shared compiler (and its environment cache).
func checkPaths(paths []string, cfg compiler.Config) (*checkResult, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
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
	res := &checkResult{sources: map[string]*diag.Source{}}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			res.sources[f.Source.Name] = f.Source
		}
	}
	for _, name := range files { // files left out of a package for a syntax error
		if res.sources[name] == nil {
			if src, err := os.ReadFile(name); err == nil {
				res.sources[name] = diag.NewSource(name, src)
			}
		}
	}
	cfg.Connectors = map[string]compiler.ConnectorLoader{}
	for name, load := range stdlib.Connectors() {
		cfg.Connectors[name] = load
	}
	plans, _, more := compiler.New(cfg).CompilePackages(pkgs)
	res.diags = append(diags, more...).Sort()
	res.plans = plans
	return res, nil
}

func writeDiags(stdout, stderr io.Writer, format string, diags diag.List, sources map[string]*diag.Source) error {
	switch format {
	case "json":
		return diags.WriteJSON(stdout)
	case "sarif":
		return diags.WriteSARIF(stdout, "flowc", version, rules())
	case "github":
		return diags.WriteGitHub(stdout)
	}
	if err := diags.WriteText(stderr, func(f string) *diag.Source { return sources[f] }); err != nil {
		return err
	}
	if e, w := diags.Count(); e+w > 0 {
		fmt.Fprintf(stderr, "%s, %s\n", plural(e, "error"), plural(w, "warning"))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

const version = "0.1.0"

// rules describes every diagnostic code for SARIF consumers.
func rules() []diag.Rule {
	out := make([]diag.Rule, 0, len(diag.Codes()))
	for _, c := range diag.Codes() {
		out = append(out, diag.Rule{Code: c.Code, Name: c.Name, Help: c.Help})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// relPath makes a path relative to the working directory when it is below it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
