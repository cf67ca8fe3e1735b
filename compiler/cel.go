package compiler

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

// checked is what the checker learned about one expression.
type checked struct {
	ok        bool
	typ       *cel.Type
	ast       *cel.Ast // checked AST; nil when !ok
	refs      []*Symbol
	fromEvent bool     // it reads a value derived from the event
	nondet    []string // non-deterministic functions it calls
	literal   ref.Val  // the value when the expression is a single literal
	root      celast.Expr
	calls     map[string]bool
}

// exprCtx is an expression being checked: its text, its place in the file
// and the scope its names resolve in.
type exprCtx struct {
	u     *unit
	f     *File
	e     *ast.Expr
	sc    *scope
	runes []int // byte offset of each rune of the text, for CEL's rune offsets
	info  *celast.SourceInfo
	bad   bool
	res   *checked
}

// check type-checks e in sc. extra adds environment options (the ledger's
// aggregate functions); extraKey identifies them in the environment cache.
// Checking an expression again in the same scope returns the first result
// (its diagnostics were reported then).
func (u *unit) check(f *File, e *ast.Expr, sc *scope, extraKey string, extra ...cel.EnvOption) *checked {
	k := memoKey{e: e, extra: extraKey, names: sc.size()}
	if res := sc.recall(k); res != nil {
		return res
	}
	res := u.checkExpr(f, e, sc, extraKey, extra)
	sc.remember(k, res)
	return res
}

// checkExpr checks e in the environment of sc: it parses the text (once per
// compiler), resolves its names and fields against the scope and the
// schemas (walk), then type-checks it (once per text and the declarations it
// uses).
func (u *unit) checkExpr(f *File, e *ast.Expr, sc *scope, extraKey string, extra []cel.EnvOption) *checked {
	res := &checked{calls: map[string]bool{}}
	env, declKey, err := u.env(sc, extraKey, extra)
	if err != nil {
		u.errorf(f, e, diag.InvalidExpression, "cannot build the expression environment: %v", err)
		return res
	}
	if u.c.trace != nil {
		defer func() { u.c.trace(Expression{File: f.Source.Name, Expr: e, Env: env, Type: res.typ}) }()
	}
	x := &exprCtx{u: u, f: f, e: e, sc: sc, res: res}
	parsed, iss := u.c.parse(env, e.Text)
	if iss != nil && iss.Err() != nil {
		x.syntaxErrors(iss.Errors())
		return res
	}
	x.info = parsed.NativeRep().SourceInfo()
	res.root = parsed.NativeRep().Expr()
	x.walk(res.root, map[string]bool{})
	if x.bad {
		return res
	}
	ch := u.c.check(env, checkKey(declKey, e.Text, res.refs), parsed)
	res.root, x.info = ch.root, ch.info
	if ch.iss != nil && ch.iss.Err() != nil {
		x.typeErrors(env, ch.iss.Errors())
		return res
	}
	res.ok, res.ast, res.typ = true, ch.ast, ch.ast.OutputType()
	if res.root.Kind() == celast.LiteralKind {
		res.literal = res.root.AsLiteral()
	}
	u.mu.Lock()
	u.info.Types[e] = res.typ
	u.mu.Unlock()
	return res
}

// env returns the environment expressions in sc check in: the package's
// base environment, the variables of sc and extra. It is built once per
// distinct set of declarations, and shared by every package with the same
// connectors. declKey identifies its declarations other than the variables
// (the base environment and extra).
func (u *unit) env(sc *scope, extraKey string, extra []cel.EnvOption) (env *cel.Env, declKey string, err error) {
	size := sc.size()
	if env, declKey, ok := sc.recallEnv(extraKey, size); ok {
		return env, declKey, nil
	}
	base, baseKey, err := u.baseEnv()
	if err != nil {
		return nil, "", err
	}
	declKey = baseKey + "|" + extraKey
	env, err = u.c.cachedEnv(baseKey+"|"+sc.varKey()+"|"+extraKey, func() (*cel.Env, error) {
		return base.Extend(append(sc.variables(), extra...)...)
	})
	if err != nil {
		return nil, "", err
	}
	sc.rememberEnv(extraKey, size, env, declKey)
	return env, declKey, nil
}

// pos converts a rune offset inside the expression into a file position.
func (x *exprCtx) pos(runeOffset int32) diag.Pos {
	if x.runes == nil {
		for i := range x.e.Text {
			x.runes = append(x.runes, i)
		}
		x.runes = append(x.runes, len(x.e.Text))
	}
	off := int(runeOffset)
	if off < 0 {
		off = 0
	}
	if off >= len(x.runes) {
		off = len(x.runes) - 1
	}
	return x.f.Source.Pos(x.e.Pos.Offset + x.runes[off])
}

// nodeSpan returns the file range of a CEL node.
func (x *exprCtx) nodeSpan(id int64) (diag.Pos, diag.Pos) {
	if x.info != nil {
		if r, ok := x.info.GetOffsetRange(id); ok {
			return x.pos(r.Start), x.pos(r.Stop)
		}
	}
	return x.f.Source.Pos(x.e.Pos.Offset), x.f.Source.Pos(x.e.EndPos.Offset)
}

func (x *exprCtx) report(pos, end diag.Pos, code diag.Code, format string, args ...any) *diag.Diagnostic {
	x.bad = true
	return x.u.report(pos, end, diag.Error, code, format, args...)
}

// walk resolves names and field paths before CEL's checker runs, so unknown
// names and fields are reported with the schema's suggestions and the exact
// span of the name. locals are comprehension variables.
func (x *exprCtx) walk(e celast.Expr, locals map[string]bool) *schema.Type {
	switch e.Kind() {
	case celast.IdentKind:
		name := e.AsIdent()
		if locals[name] {
			return nil
		}
		sym, ok := x.sc.lookup(name)
		if !ok {
			if isQualifiedFunctionNamespace(name) {
				return nil
			}
			pos, end := x.nodeSpan(e.ID())
			d := x.report(pos, end, diag.UndefinedName, "undefined name %s", name)
			suggest(d, name, x.sc.allNames())
			return nil
		}
		switch sym.Kind {
		case SecretSym:
			sym.markUsed() // misused, but not unused: one diagnostic is enough
			pos, end := x.nodeSpan(e.ID())
			x.report(pos, end, diag.Misplaced, "secret %s cannot be used in an expression", name).
				Suggestion = "secrets only configure connectors (import ... { api_key: " + name + " }); they never reach the ERP or the logs"
			return nil
		case ConnectorSym:
			pos, end := x.nodeSpan(e.ID())
			x.report(pos, end, diag.Misplaced, "%s is a connector, not a value", name)
			return nil
		case AggregateSym:
			sym.markUsed()
			pos, end := x.nodeSpan(e.ID())
			x.report(pos, end, diag.Misplaced, "%s is an aggregate, not a value: read an entry of it first", name).
				Suggestion = "lookup entry = " + name + "[key], then read entry.<field>"
			return nil
		}
		sym.markUsed()
		x.res.refs = append(x.res.refs, sym)
		if sym.FromEvent {
			x.res.fromEvent = true
		}
		return sym.Type
	case celast.SelectKind:
		sel := e.AsSelect()
		ot := x.walk(sel.Operand(), locals)
		return x.field(e, ot, sel.FieldName())
	case celast.CallKind:
		call := e.AsCall()
		x.res.calls[call.FunctionName()] = true
		if !deterministic(call.FunctionName()) {
			x.res.nondet = append(x.res.nondet, call.FunctionName())
		}
		if call.IsMemberFunction() {
			x.walk(call.Target(), locals)
		}
		var argTypes []*schema.Type
		for _, a := range call.Args() {
			argTypes = append(argTypes, x.walk(a, locals))
		}
		if call.FunctionName() == "_[_]" && len(argTypes) == 2 && argTypes[0] != nil {
			if t := argTypes[0]; t.Kind == schema.Map || t.Kind == schema.List {
				return t.Elem
			}
		}
		return nil
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			x.walk(el, locals)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			x.walk(me.Key(), locals)
			x.walk(me.Value(), locals)
		}
	case celast.StructKind:
		for _, en := range e.AsStruct().Fields() {
			x.walk(en.AsStructField().Value(), locals)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		x.walk(c.IterRange(), locals)
		inner := map[string]bool{c.IterVar(): true, c.AccuVar(): true}
		if c.HasIterVar2() {
			inner[c.IterVar2()] = true
		}
		for k := range locals {
			inner[k] = true
		}
		x.walk(c.AccuInit(), inner)
		x.walk(c.LoopCondition(), inner)
		x.walk(c.LoopStep(), inner)
		x.walk(c.Result(), inner)
	}
	return nil
}

// field resolves one field selection on a known type.
func (x *exprCtx) field(e celast.Expr, ot *schema.Type, name string) *schema.Type {
	if ot == nil {
		return nil
	}
	switch ot.Kind {
	case schema.Map:
		return ot.Elem
	case schema.Struct:
		obj, ok := x.u.prov.object(ot.Object)
		if !ok {
			return nil
		}
		if f, ok := obj.Field(name); ok {
			return f.Type
		}
		pos, end := x.fieldSpan(e, name)
		d := x.report(pos, end, diag.UnknownField, "unknown field %q on %s", name, obj.Name)
		suggest(d, name, obj.FieldNames())
		return nil
	case schema.Any:
		return nil
	}
	pos, end := x.fieldSpan(e, name)
	x.report(pos, end, diag.TypeMismatch, "%s has no fields; cannot select %q", typeNameWords(celType(ot).String()), name)
	return nil
}

// fieldSpan finds the span of the field name of a selection.
func (x *exprCtx) fieldSpan(e celast.Expr, name string) (diag.Pos, diag.Pos) {
	pos, end := x.nodeSpan(e.ID())
	text := x.e.Text
	from := pos.Offset - x.e.Pos.Offset
	if from < 0 || from > len(text) {
		from = 0
	}
	re := regexp.MustCompile(`\.\s*` + regexp.QuoteMeta(name) + `\b`)
	if loc := re.FindStringIndex(text[from:]); loc != nil {
		start := x.e.Pos.Offset + from + loc[1] - len(name)
		return x.f.Source.Pos(start), x.f.Source.Pos(start + len(name))
	}
	return pos, end
}

// isQualifiedFunctionNamespace reports whether an identifier is the
// namespace of a qualified function (CEL parses `math.greatest(...)` with the
// namespace as an identifier before resolution).
func isQualifiedFunctionNamespace(name string) bool {
	switch name {
	case "math", "strings", "base64", "sets", "lists", "optional":
		return true
	}
	return false
}

// deterministic reports whether a function returns the same result for the
// same arguments.
func deterministic(name string) bool {
	d, ok := determinism()[name]
	return d || !ok
}

// determinism maps each stdlib function to whether it is deterministic (as
// its first documented overload says).
var determinism = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, f := range stdlib.Functions() {
		if _, ok := out[f.Name]; !ok {
			out[f.Name] = f.Deterministic
		}
	}
	return out
})

var (
	reNoOverload  = regexp.MustCompile(`^found no matching overload for '([^']*)' applied to '\((.*)\)'`)
	reUndeclared  = regexp.MustCompile(`^undeclared reference to '([^']*)'`)
	reUndefField  = regexp.MustCompile(`^undefined field '([^']*)'`)
	reExpected    = regexp.MustCompile(`^expected type '([^']*)' but found '([^']*)'`)
	reNoSelection = regexp.MustCompile(`^type '([^']*)' does not support field selection`)
	reQuoted      = regexp.MustCompile(`'([^']*)'`)
)

var operatorWords = map[string]string{
	"_+_": "+", "_-_": "-", "_*_": "*", "_/_": "/", "_%_": "%", "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=",
	"_==_": "==", "_!=_": "!=", "-_": "unary -", "!_": "!", "_&&_": "&&", "_||_": "||", "_?_:_": "?:",
	"_[_]": "indexing", "@in": "in",
}

// syntaxErrors translates CEL parse errors.
func (x *exprCtx) syntaxErrors(errs []*common.Error) {
	for i, e := range errs {
		if i > 0 {
			break // the first syntax error is the useful one
		}
		pos := x.locPos(e.Location)
		msg := strings.TrimPrefix(e.Message, "Syntax error: ")
		what := "invalid expression"
		switch {
		case strings.HasPrefix(msg, "token recognition error"):
			if m := reQuoted.FindStringSubmatch(msg); m != nil {
				what = fmt.Sprintf("invalid expression: unexpected character %q", m[1])
			}
		case strings.HasPrefix(msg, "mismatched input"), strings.HasPrefix(msg, "extraneous input"), strings.HasPrefix(msg, "no viable alternative"):
			if m := reQuoted.FindStringSubmatch(msg); m != nil {
				tok := m[1]
				if strings.HasPrefix(msg, "no viable alternative") {
					f := strings.Fields(tok)
					if len(f) > 0 {
						tok = f[len(f)-1]
					}
				}
				if tok == "<EOF>" {
					what = "invalid expression: it ends too early"
				} else {
					what = fmt.Sprintf("invalid expression: unexpected %q", tok)
				}
			}
		case strings.Contains(msg, "reserved identifier"):
			if m := reQuoted.FindStringSubmatch(msg); m != nil {
				what = fmt.Sprintf("%q is a reserved word in expressions", m[1])
			}
		default:
			what = "invalid expression: " + strings.ToLower(msg[:1]) + msg[1:]
		}
		d := x.report(pos, pos, diag.InvalidExpression, "%s", what)
		if strings.Contains(x.e.Text, "\n") && regexp.MustCompile(`\n\s*[A-Za-z_]\w*\s*:`).MatchString(x.e.Text) {
			d.Suggestion = "is a comma missing at the end of the line before?"
		}
	}
}

func (x *exprCtx) locPos(l common.Location) diag.Pos {
	// Line is 1-based, column 0-based in runes, relative to the text.
	lines := strings.SplitAfter(x.e.Text, "\n")
	off := 0
	for i := 0; i < l.Line()-1 && i < len(lines); i++ {
		off += len([]rune(lines[i]))
	}
	return x.pos(int32(off + l.Column()))
}

// typeErrors translates CEL checker errors.
func (x *exprCtx) typeErrors(env *cel.Env, errs []*common.Error) {
	nodes := map[int64]celast.Expr{}
	var index func(e celast.Expr)
	index = func(e celast.Expr) {
		nodes[e.ID()] = e
		switch e.Kind() {
		case celast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				index(c.Target())
			}
			for _, a := range c.Args() {
				index(a)
			}
		case celast.SelectKind:
			index(e.AsSelect().Operand())
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				index(el)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				index(en.AsMapEntry().Key())
				index(en.AsMapEntry().Value())
			}
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			for _, s := range []celast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
				index(s)
			}
		}
	}
	index(x.res.root)
	for _, e := range errs {
		pos, end := x.nodeSpan(e.ExprID)
		if e.ExprID == 0 {
			pos = x.locPos(e.Location)
			end = pos
		}
		node := nodes[e.ExprID]
		x.translate(env, e.Message, node, pos, end)
	}
}

func (x *exprCtx) translate(env *cel.Env, msg string, node celast.Expr, pos, end diag.Pos) {
	if m := reUndeclared.FindStringSubmatch(msg); m != nil {
		if node != nil && node.Kind() == celast.CallKind {
			pos, end = x.calleeSpan(pos, m[1])
			d := x.report(pos, end, diag.UndefinedName, "unknown function %s", m[1])
			suggest(d, m[1], functionNames(env))
			return
		}
		d := x.report(pos, end, diag.UndefinedName, "undefined name %s", m[1])
		suggest(d, m[1], x.sc.allNames())
		return
	}
	if m := reUndefField.FindStringSubmatch(msg); m != nil {
		x.report(pos, end, diag.UnknownField, "unknown field %q", m[1])
		return
	}
	if m := reNoOverload.FindStringSubmatch(msg); m != nil {
		x.noOverload(m[1], splitTypes(m[2]), pos, end)
		return
	}
	if m := reExpected.FindStringSubmatch(msg); m != nil {
		x.report(pos, end, diag.TypeMismatch, "expected %s, found %s", typeNameWords(m[1]), typeNameWords(m[2]))
		return
	}
	if m := reNoSelection.FindStringSubmatch(msg); m != nil {
		x.report(pos, end, diag.TypeMismatch, "%s has no fields to select", typeNameWords(m[1]))
		return
	}
	clean := reQuoted.ReplaceAllString(msg, "$1")
	x.report(pos, end, diag.InvalidExpression, "invalid expression: %s", clean)
}

// calleeSpan returns the span of a called function's name, which CEL
// places at the opening parenthesis.
func (x *exprCtx) calleeSpan(paren diag.Pos, name string) (diag.Pos, diag.Pos) {
	end := paren.Offset
	start := end - len(name)
	if start >= 0 && end <= len(x.f.Source.Text) && string(x.f.Source.Text[start:end]) == name {
		return x.f.Source.Pos(start), x.f.Source.Pos(end)
	}
	return paren, paren
}

// noOverload explains a function or operator applied to the wrong types,
// with the money rules spelled out.
func (x *exprCtx) noOverload(fn string, args []string, pos, end diag.Pos) {
	has := func(t string) bool {
		for _, a := range args {
			if a == t {
				return true
			}
		}
		return false
	}
	op, isOp := operatorWords[fn]
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = typeNameWords(a)
	}
	money := has("minor") || has("decimal")
	switch {
	case isOp && money && has("double"):
		d := x.report(pos, end, diag.FloatMoney, "money is never a float: %s cannot combine %s", op, strings.Join(words, " and "))
		d.Suggestion = `write exact amounts as decimal("1.50"), or convert gateway amounts with money(amount, currency)`
	case isOp && has("minor") && has("decimal"):
		d := x.report(pos, end, diag.MinorUnitsAsDecimal, "%s cannot combine integer minor units and a decimal amount", op)
		d.Suggestion = "convert the minor units first: money(amount, currency)"
	case isOp && has("minor") && has("int") && (fn == "_+_" || fn == "_-_"):
		d := x.report(pos, end, diag.TypeMismatch, "%s cannot combine integer minor units and a plain int", op)
		d.Suggestion = "a plain int has no currency: add minor units to minor units, or convert with money(amount, currency) and add a decimal"
	case fn == "decimal" && has("double"):
		d := x.report(pos, end, diag.FloatMoney, "decimal() does not take a float: it would carry the float's rounding error into the books")
		d.Suggestion = `write the amount as a string: decimal("1.50")`
	case fn == "money" && len(args) > 0 && args[0] != "minor":
		d := x.report(pos, end, diag.TypeMismatch, "money() takes integer minor units as a gateway sends them, not %s", words[0])
		d.Suggestion = `for a plain number use decimal(x); money(amount, currency) is for fields like stripe amounts`
	case isOp:
		x.report(pos, end, diag.TypeMismatch, "%s cannot be applied to %s", op, strings.Join(words, " and "))
	default:
		x.report(pos, end, diag.TypeMismatch, "%s cannot be applied to (%s)", fn, strings.Join(words, ", "))
	}
}

// splitTypes splits CEL's "(a, map(b, c))" argument list at top-level commas.
func splitTypes(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '<':
			depth++
		case ')', '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}

func functionNames(env *cel.Env) []string {
	var out []string
	for name := range env.Functions() {
		if !strings.HasPrefix(name, "_") && !strings.HasPrefix(name, "@") && !strings.Contains(name, "_[") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
