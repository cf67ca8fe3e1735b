package stdlib

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/decls"
	"github.com/google/cel-go/common/functions"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// Option configures Library.
type Option func(*config)

// WithClock sets the clock now() reads; the default is time.Now. Tests and
// replays pass a fixed clock. A nil now is ignored.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// config is what one Library instance closes over.
type config struct {
	now   func() time.Time
	zones *zoneCache
}

func newConfig(opts []Option) *config {
	c := &config{now: time.Now, zones: &zoneCache{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Library returns the CEL environment option that declares every built-in
// function of flow (money, operators on the money types, strings, time) with
// its implementation, and adds cel-go's ext.Strings. The returned option is
// safe to use for many environments; programs built from it are safe for
// concurrent use.
//
// Values of the declared money types are passed to a program as Decimal and
// Minor (both are ref.Val); an int64 bound to a variable declared MinorType is
// a run-time "no such overload" error, not a silent conversion.
func Library(opts ...Option) cel.EnvOption {
	return cel.Lib(&library{cfg: newConfig(opts)})
}

type library struct{ cfg *config }

// LibraryName implements cel.SingletonLibrary: applying Library twice to one
// environment keeps the first.
func (l *library) LibraryName() string { return "flow.stdlib" }

func (l *library) CompileOptions() []cel.EnvOption {
	opts := []cel.EnvOption{ext.Strings()}
	for _, f := range allFunctions(l.cfg) {
		opts = append(opts, f.envOption())
	}
	return opts
}

// ProgramOptions binds the operator overloads by overload id. CEL's
// operators have one trait-based binding for all their overloads, which
// cannot serve int * decimal or int < minor, and a function with such a
// binding accepts no per-overload ones; so the money overloads are declared
// without bindings (see function.envOption) and bound here, in the program's
// dispatcher, where the planner finds them by the checked overload id.
// Unchecked or dyn-typed calls fall back to the operator's trait-based
// binding, which Decimal and Minor also serve (see runtimeType).
func (l *library) ProgramOptions() []cel.ProgramOption {
	var bound []*functions.Overload
	for _, f := range allFunctions(l.cfg) {
		for _, o := range f.overloads {
			if o.unaryOp != nil || o.binaryOp != nil {
				bound = append(bound, &functions.Overload{Operator: o.id, Unary: o.unaryOp, Binary: o.binaryOp})
			}
		}
	}
	return []cel.ProgramOption{cel.Functions(bound...)}
}

// function is one declared function or operator: the single source for its
// CEL declaration, its binding and its FuncDoc.
type function struct {
	name             string
	doc              string // one sentence, for hover
	nondeterministic bool   // the result may differ between two calls with the same arguments
	overloads        []overload
}

// overload is one signature of a function with its implementation.
type overload struct {
	id     string // unique and readable, e.g. "money_minor_string"
	args   []*cel.Type
	result *cel.Type
	impl   cel.OverloadOpt // cel.UnaryBinding, cel.BinaryBinding or cel.FunctionBinding

	// Operator overloads have no impl; their implementation is one of these,
	// bound by ProgramOptions.
	unaryOp  functions.UnaryOp
	binaryOp functions.BinaryOp
}

func (f function) envOption() cel.EnvOption {
	var opts []cel.FunctionOpt
	if !isOperator(f.name) { // keep CEL's own text for its operators
		opts = append(opts, cel.FunctionDocs(f.doc))
	}
	for _, o := range f.overloads {
		if o.impl == nil {
			opts = append(opts, cel.Overload(o.id, o.args, o.result))
			continue
		}
		opts = append(opts, cel.Overload(o.id, o.args, o.result, o.impl))
	}
	return cel.Function(f.name, opts...)
}

// allFunctions lists every function the library declares, built for cfg.
func allFunctions(cfg *config) []function {
	var fs []function
	fs = append(fs, moneyFunctions()...)
	fs = append(fs, operatorFunctions()...)
	fs = append(fs, textFunctions()...)
	fs = append(fs, timeFunctions(cfg)...)
	fs = append(fs, revenueFunctions(cfg)...)
	return fs
}

// FuncDoc documents one overload of a built-in function.
type FuncDoc struct {
	Name          string // as called: "money", "charAt"
	Signature     string // "money(minor, string) -> decimal"; member functions as "string.charAt(int) -> string"
	Doc           string // one sentence
	Deterministic bool   // false for functions such as now() that must not build idempotency keys
}

// Functions returns one FuncDoc per overload of every named function the
// library declares, including ext.Strings, sorted by name and then
// signature. Operator overloads (decimal + decimal, ...) are not listed.
// The slice is a fresh copy.
func Functions() []FuncDoc {
	return append([]FuncDoc(nil), functionDocs()...)
}

var functionDocs = sync.OnceValue(func() []FuncDoc {
	var docs []FuncDoc
	for _, f := range allFunctions(newConfig(nil)) {
		if isOperator(f.name) {
			continue
		}
		for _, o := range f.overloads {
			docs = append(docs, FuncDoc{
				Name:          f.name,
				Signature:     signature(f.name, false, o.args, o.result),
				Doc:           f.doc,
				Deterministic: !f.nondeterministic,
			})
		}
	}
	docs = append(docs, extStringsDocs()...)
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].Name != docs[j].Name {
			return docs[i].Name < docs[j].Name
		}
		return docs[i].Signature < docs[j].Signature
	})
	return docs
})

// extStringsDocs documents the functions ext.Strings adds to a plain CEL
// environment, from cel-go's own declarations.
func extStringsDocs() []FuncDoc {
	base, err := cel.NewEnv()
	if err != nil {
		return nil
	}
	withExt, err := cel.NewEnv(ext.Strings())
	if err != nil {
		return nil
	}
	var docs []FuncDoc
	for name, fn := range withExt.Functions() {
		if _, ok := base.Functions()[name]; ok || isOperator(name) {
			continue
		}
		for _, o := range fn.OverloadDecls() {
			docs = append(docs, FuncDoc{
				Name:          name,
				Signature:     signature(name, o.IsMemberFunction(), o.ArgTypes(), o.ResultType()),
				Doc:           extDoc(name, fn),
				Deterministic: true,
			})
		}
	}
	return docs
}

// extStringsDoc documents ext.Strings, whose declarations carry no text.
var extStringsDoc = map[string]string{
	"charAt":        "Returns the character (rune) at an index, or \"\" at the end of the text.",
	"format":        "Formats the list of values into the text, printf style: \"%s-%d\".format([\"a\", 1]).",
	"indexOf":       "Returns the index (in runes) of the first occurrence of a substring, or -1.",
	"join":          "Joins a list of strings, optionally with a separator.",
	"lastIndexOf":   "Returns the index (in runes) of the last occurrence of a substring, or -1.",
	"lowerAscii":    "Returns the text with ASCII letters in lower case.",
	"replace":       "Replaces occurrences of a substring, optionally at most n of them.",
	"reverse":       "Returns the text with its characters in reverse order.",
	"split":         "Splits the text at a separator, optionally into at most n parts.",
	"strings.quote": "Quotes the text as a CEL string literal.",
	"substring":     "Returns the part of the text between two rune indexes (end exclusive).",
	"trim":          "Removes leading and trailing white space.",
	"upperAscii":    "Returns the text with ASCII letters in upper case.",
}

func extDoc(name string, fn *decls.FunctionDecl) string {
	if d, ok := extStringsDoc[name]; ok {
		return d
	}
	return strings.Join(strings.Fields(fn.Description()), " ")
}

// isOperator reports whether name is a CEL operator function such as "_+_".
func isOperator(name string) bool {
	_, ok := operators.FindReverse(name)
	return ok || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "@")
}

// signature renders an overload as flow source would call it.
func signature(name string, member bool, args []*types.Type, result *types.Type) string {
	var b strings.Builder
	if member && len(args) > 0 {
		b.WriteString(typeName(args[0]) + ".")
		args = args[1:]
	}
	b.WriteString(name + "(")
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(typeName(a))
	}
	b.WriteString(") -> " + typeName(result))
	return b.String()
}

func typeName(t *types.Type) string {
	s := t.String()
	s = strings.ReplaceAll(s, "google.protobuf.Timestamp", "timestamp")
	s = strings.ReplaceAll(s, "google.protobuf.Duration", "duration")
	return s
}

// fail returns a CEL error value whose message starts with the function
// name: fail("money", err) reads `money: unknown currency "xyz"`.
func fail(fn string, err error) ref.Val {
	return types.NewErr("%s: %v", fn, err)
}

// failf is fail with a formatted message.
func failf(fn, format string, args ...any) ref.Val {
	return types.NewErr("%s: %s", fn, fmt.Sprintf(format, args...))
}
