package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

// aggregates are the functions a posting may apply to the items of a group.
// They are declared only where postings are checked; at run time the ledger
// computes them per group (see plan.Aggregate).
var aggregates = []cel.EnvOption{
	cel.Function("sum",
		cel.Overload("sum_minor", []*cel.Type{stdlib.MinorType}, stdlib.MinorType, cel.UnaryBinding(identity)),
		cel.Overload("sum_decimal", []*cel.Type{stdlib.DecimalType}, stdlib.DecimalType, cel.UnaryBinding(identity)),
		cel.Overload("sum_int", []*cel.Type{cel.IntType}, cel.IntType, cel.UnaryBinding(identity))),
	cel.Function("count",
		cel.Overload("count_items", []*cel.Type{}, cel.IntType, cel.FunctionBinding(func(...ref.Val) ref.Val { return types.Int(1) }))),
}

func identity(v ref.Val) ref.Val { return v }

const aggregatesKey = "aggregates"

func (fu *flowUnit) checkLedgerStmt(s ast.Stmt) {
	l := fu.plan.Ledger
	switch s := s.(type) {
	case *ast.For:
		if fu.item != nil {
			fu.errorf(s, diag.Misplaced, "a ledger iterates one source")
			return
		}
		fu.checkFor(s)
	case *ast.GroupBy:
		if fu.item == nil {
			fu.errorf(s, diag.Misplaced, "group by needs a source first: for item in gateway.list(...)")
			return
		}
		if len(fu.group) > 0 {
			fu.errorf(s, diag.Misplaced, "a ledger groups once; list every key in one group by")
			return
		}
		for _, k := range s.Keys {
			c := fu.u.check(fu.f, &k.Value.Expr, fu.sc, "")
			sym := fu.declare(k.Name, GroupSym, SchemaType(c.typ), true)
			if sym != nil {
				sym.Expr = &k.Value.Expr
				fu.group = append(fu.group, sym)
			}
			l.GroupBy = append(l.GroupBy, plan.GroupKey{Name: k.Name.Name, Expr: fu.pexpr(&k.Value.Expr, c)})
		}
	case *ast.Journal:
		if fu.item == nil {
			fu.errorf(s, diag.Misplaced, "a journal needs a source first: for item in gateway.list(...)")
			return
		}
		if l.Journal.Entity != "" {
			fu.errorf(s, diag.Misplaced, "a ledger posts one journal")
			return
		}
		fu.checkJournal(s)
	}
}

// checkFor resolves `for bt in gateway.list(arg: value, ...)`.
func (fu *flowUnit) checkFor(s *ast.For) {
	parts := s.Source.Parts
	ic, ok := fu.u.conns[parts[0].Name]
	if !ok {
		d := fu.errorf(parts[0], diag.UndefinedName, "%s is not an imported connector", parts[0].Name)
		suggest(d, parts[0].Name, fu.u.aliases())
		return
	}
	name := ""
	if len(parts) == 2 {
		name = parts[1].Name
	}
	list, ok := ic.conn.Lists[name]
	if !ok {
		d := fu.errorf(s.Source, diag.UnknownList, "%s has no list %q", ic.conn.Name, name)
		suggest(d, name, ic.conn.ListNames())
		if d.Suggestion == "" && len(ic.conn.Lists) > 0 {
			d.Suggestion = "lists: " + strings.Join(ic.conn.ListNames(), ", ")
		}
		return
	}
	src := plan.Source{Connector: ic.alias, List: name, Var: s.Var.Name, Type: list.Elem}
	given := map[string]bool{}
	for _, a := range s.Args {
		c := fu.u.check(fu.f, a.Value, fu.sc, "")
		var param *schema.Param
		for i := range list.Params {
			if list.Params[i].Name == a.Name.Name {
				param = &list.Params[i]
			}
		}
		if param == nil {
			var names []string
			for _, p := range list.Params {
				names = append(names, p.Name)
			}
			d := fu.errorf(a.Name, diag.UnknownList, "%s.%s takes no argument %q", ic.alias, name, a.Name.Name)
			suggest(d, a.Name.Name, names)
			continue
		}
		given[a.Name.Name] = true
		fu.u.assign(fu.f, a.Value, c, param.Type, 0, "argument "+a.Name.Name)
		src.Args = append(src.Args, plan.Field{Name: a.Name.Name, Value: fu.pexpr(a.Value, c)})
	}
	for _, p := range list.Params {
		if p.Required && !given[p.Name] {
			fu.errorf(s.Source, diag.UnknownList, "%s.%s needs the argument %s", ic.alias, name, p.Name)
		}
	}
	fu.plan.Ledger.Source = src
	fu.item = fu.declare(s.Var, ItemSym, schema.ObjectOf(list.Elem), true)
}

// checkJournal checks the journal entity, its fields and its postings.
func (fu *flowUnit) checkJournal(s *ast.Journal) {
	j := &fu.plan.Ledger.Journal
	ic, lines := fu.entity(s.Entity)
	var spec *schema.Journal
	var header *schema.Object
	if ic != nil {
		spec = ic.conn.Journals[s.Entity.Parts[1].Name]
		if spec == nil {
			var names []string
			for n := range ic.conn.Journals {
				names = append(names, n)
			}
			sort.Strings(names)
			d := fu.errorf(s.Entity, diag.UnknownEntity, "%s is not a journal line entity of %s", s.Entity.Parts[1].Name, ic.conn.Name)
			suggest(d, s.Entity.Parts[1].Name, names)
			if d.Suggestion == "" {
				d.Suggestion = "journals: " + strings.Join(names, ", ")
			}
			lines = nil
		} else {
			j.Connector, j.Entity, j.HeaderEntity = ic.alias, spec.Lines, spec.Header
			header = ic.conn.Entities[spec.Header]
		}
	}
	if s.Key == nil {
		fu.errorf(s.Entity, diag.MissingKey, "journal without an idempotency key: a retried payout would post twice").
			Suggestion = `add key "payout:" + ev.data.object.id`
	} else {
		j.Key = fu.checkKey(s.Key)
		fu.perEventOnly(s.Key, "the journal key")
	}
	var hdr *ast.Block
	seen := map[string]*ast.Field{}
	for _, it := range s.Items {
		switch it := it.(type) {
		case *ast.Header:
			if hdr != nil {
				fu.errorf(it, diag.Misplaced, "a journal has one header block")
				continue
			}
			hdr = it.Fields
			if header == nil && spec != nil {
				fu.errorf(it, diag.Misplaced, "%s lines have no header record", spec.Lines)
				continue
			}
			if header != nil {
				for _, fld := range it.Fields.Fields {
					fu.perEventOnly(fld.Value, "a header field")
				}
				j.Header = fu.fields(header, it.Fields, nil, true, "the journal header", it)
			}
		case *ast.LineField:
			if lines != nil {
				j.Lines = append(j.Lines, fu.field(lines, it.Field, seen))
			}
		case *ast.Posting:
			j.Postings = append(j.Postings, fu.checkPosting(it))
		}
	}
	if header != nil && hdr == nil {
		fu.requireFields(header, map[string]*ast.Field{}, nil, "the journal header", s.Entity)
	}
	if lines != nil && spec != nil {
		preset := map[string]bool{"dataAreaId": true}
		for _, f := range []string{spec.Link, spec.Account, spec.AccountType, spec.Debit, spec.Credit, spec.Amount, spec.LineNumber} {
			if f != "" {
				preset[f] = true
				if seen[f] != nil {
					fu.errorf(seen[f].Name, diag.FieldSetTwice, "%s is set by the postings; do not set it here", f)
				}
			}
		}
		fu.requireFields(lines, seen, preset, "the journal lines", s.Entity)
	}
	fu.checkSides(s)
}

// checkSides reports journals that post only one side, or leave the balance
// to more than one posting.
func (fu *flowUnit) checkSides(s *ast.Journal) {
	var debit, credit, open []*ast.Posting
	for _, it := range s.Items {
		if p, ok := it.(*ast.Posting); ok {
			if p.Side == "debit" {
				debit = append(debit, p)
			} else {
				credit = append(credit, p)
			}
			if p.Amount == nil {
				open = append(open, p)
			}
		}
	}
	switch {
	case len(debit) == 0 && len(credit) == 0:
		fu.errorf(s.Entity, diag.OneSidedPosting, "journal posts nothing: add debit and credit postings").
			Suggestion = "debit <account> amount <decimal>, then credit <account> to take the balance"
	case len(debit) == 0 || len(credit) == 0:
		side, other := "debits", "credit"
		if len(debit) == 0 {
			side, other = "credits", "debit"
		}
		fu.errorf(s.Entity, diag.OneSidedPosting, "journal only %s: it can never balance", side).
			Suggestion = fmt.Sprintf("add a %s posting; one without an amount takes the balance", other)
	}
	if len(open) > 1 {
		d := fu.errorf(open[1], diag.AmbiguousBalance, "two postings without an amount: only one can take the balance")
		d.Related = []diag.Note{{Pos: fu.f.Source.Pos(open[0].Pos.Offset), Message: "the first one"}}
	}
	if len(open) == 0 && len(debit) > 0 && len(credit) > 0 {
		fu.u.warnf(fu.f, s.Entity, diag.OneSidedPosting, "every posting has an amount: the journal balances only if they happen to cancel out").
			Suggestion = "leave the amount off one posting so it takes the balance"
	}
}

// checkPosting checks one debit or credit rule and lowers its aggregates.
func (fu *flowUnit) checkPosting(p *ast.Posting) plan.Posting {
	out := plan.Posting{Side: p.Side}
	acc := fu.u.check(fu.f, &p.Account.Expr, fu.sc, aggregatesKey, aggregates...)
	if acc.ok {
		if t := acc.typ.String(); t != "string" && t != "dyn" {
			fu.errorf(&p.Account.Expr, diag.TypeMismatch, "an account must be a string, but this is %s", typeWords(acc.typ))
		}
		fu.grouped(&p.Account.Expr, acc)
		fu.exhaustive(&p.Account.Expr, acc)
	}
	out.Account = fu.pexpr(&p.Account.Expr, acc)
	if p.Amount != nil {
		amt := fu.u.check(fu.f, p.Amount, fu.sc, aggregatesKey, aggregates...)
		if amt.ok {
			fu.u.assign(fu.f, p.Amount, amt, schema.DecimalType, 0, "a posting amount")
			fu.grouped(p.Amount, amt)
			out.Amount = fu.lowerAggregates(p.Amount, amt)
		} else {
			out.Amount = fu.pexpr(p.Amount, amt)
		}
	}
	return out
}

// grouped reports per-item values used outside an aggregate: a posting is
// per group, so it may read group keys and aggregates, never one item.
func (fu *flowUnit) grouped(e *ast.Expr, c *checked) {
	if fu.item == nil || c.root == nil {
		return
	}
	var walk func(n celast.Expr, inAgg bool)
	reported := false
	walk = func(n celast.Expr, inAgg bool) {
		switch n.Kind() {
		case celast.IdentKind:
			if n.AsIdent() == fu.item.Name && !inAgg && !reported {
				reported = true
				x := &exprCtx{u: fu.u, f: fu.f, e: e, info: c.ast.NativeRep().SourceInfo()}
				pos, end := x.nodeSpan(n.ID())
				d := fu.u.report(pos, end, diag.Error, diag.UngroupedReference, "%s is one item of the group here; a posting can only read group keys and aggregates", fu.item.Name)
				d.Suggestion = fmt.Sprintf("group by it (group by ... as name) or aggregate it: sum(%s.net)", fu.item.Name)
			}
		case celast.SelectKind:
			walk(n.AsSelect().Operand(), inAgg)
		case celast.CallKind:
			call := n.AsCall()
			agg := inAgg || call.FunctionName() == "sum" || call.FunctionName() == "count"
			if call.IsMemberFunction() {
				walk(call.Target(), agg)
			}
			for _, a := range call.Args() {
				walk(a, agg)
			}
		case celast.ListKind:
			for _, el := range n.AsList().Elements() {
				walk(el, inAgg)
			}
		case celast.ComprehensionKind:
			cc := n.AsComprehension()
			for _, s := range []celast.Expr{cc.IterRange(), cc.AccuInit(), cc.LoopCondition(), cc.LoopStep(), cc.Result()} {
				walk(s, inAgg)
			}
		}
	}
	walk(c.root, false)
}

// lowerAggregates rewrites each sum(...) / count() in a posting amount into a
// variable the runtime computes per group.
func (fu *flowUnit) lowerAggregates(e *ast.Expr, c *checked) *plan.Expr {
	out := fu.pexpr(e, c)
	info := c.ast.NativeRep().SourceInfo()
	runes := []rune(out.Text)
	type cut struct {
		start, stop int
		name        string
	}
	var cuts []cut
	var walk func(n celast.Expr)
	walk = func(n celast.Expr) {
		if n.Kind() != celast.CallKind {
			if n.Kind() == celast.SelectKind {
				walk(n.AsSelect().Operand())
			}
			return
		}
		call := n.AsCall()
		if fn := call.FunctionName(); fn == "sum" || fn == "count" {
			r, ok := info.GetOffsetRange(n.ID())
			if !ok {
				return
			}
			// CEL places a call at its opening parenthesis; the cut starts
			// at the function's name.
			open := int(r.Start)
			for open < len(runes) && runes[open] != '(' {
				open++
			}
			start := open
			for start > 0 && runes[start-1] == ' ' {
				start--
			}
			start -= len([]rune(fn))
			stop := closeParen(runes, open)
			if start < 0 || string(runes[start:start+len([]rune(fn))]) != fn {
				return
			}
			name := fmt.Sprintf("_agg%d", len(fu.plan.Ledger.Aggregates))
			typ := c.ast.NativeRep().GetType(n.ID())
			agg := plan.Aggregate{Name: name, Func: fn, Type: typ.String()}
			if len(call.Args()) == 1 {
				inner := strings.TrimSpace(string(runes[open+1 : stop-1]))
				agg.Expr = &plan.Expr{Text: inner, Type: c.ast.NativeRep().GetType(call.Args()[0].ID()).String(), At: out.At}
			}
			fu.plan.Ledger.Aggregates = append(fu.plan.Ledger.Aggregates, agg)
			fu.aggVars = append(fu.aggVars, cel.Variable(name, typ))
			cuts = append(cuts, cut{start, stop, name})
			return
		}
		if call.IsMemberFunction() {
			walk(call.Target())
		}
		for _, a := range call.Args() {
			walk(a)
		}
	}
	walk(c.root)
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].start > cuts[j].start })
	for _, ct := range cuts {
		runes = append(runes[:ct.start], append([]rune(ct.name), runes[ct.stop:]...)...)
	}
	out.Text = string(runes)
	return out
}

// closeParen returns the index just past the parenthesis that closes the
// call starting at start.
func closeParen(r []rune, start int) int {
	depth := 0
	for i := start; i < len(r); i++ {
		switch r[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"', '\'':
			q := r[i]
			for i++; i < len(r) && r[i] != q; i++ {
				if r[i] == '\\' {
					i++
				}
			}
		}
	}
	return len(r)
}

// perEventOnly reports per-item or per-group values where the journal needs
// one value per event (its key and header).
func (fu *flowUnit) perEventOnly(e *ast.Expr, what string) {
	c := fu.u.check(fu.f, e, fu.sc, "")
	for _, r := range c.refs {
		if r.Kind == ItemSym || r.Kind == GroupSym {
			fu.errorf(e, diag.UngroupedReference, "%s is one per journal; it cannot read %s, which differs per %s", what, r.Name, map[SymbolKind]string{ItemSym: "item", GroupSym: "group"}[r.Kind])
			return
		}
	}
}

// exhaustive reports source categories no posting maps, for accounts written
// `table[groupKey]` where the group key is an enumerated field of the items.
func (fu *flowUnit) exhaustive(e *ast.Expr, c *checked) {
	root := c.root
	if root == nil || root.Kind() != celast.CallKind || root.AsCall().FunctionName() != "_[_]" {
		return
	}
	args := root.AsCall().Args()
	if len(args) != 2 || args[0].Kind() != celast.IdentKind || args[1].Kind() != celast.IdentKind {
		return
	}
	tsym, ok1 := fu.sc.lookup(args[0].AsIdent())
	gsym, ok2 := fu.sc.lookup(args[1].AsIdent())
	if !ok1 || !ok2 || tsym.Kind != TableSym || gsym.Kind != GroupSym || gsym.Expr == nil {
		return
	}
	enum := fu.enumOf(gsym.Expr)
	if enum == nil {
		return
	}
	var table map[string]any
	for _, t := range fu.u.tables {
		if t.sym == tsym {
			table, _ = t.value.(map[string]any)
		}
	}
	if table == nil {
		return
	}
	var missing []string
	for _, v := range enum {
		if _, ok := table[v]; !ok {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return
	}
	list := quoteAll(missing)
	if len(missing) > 8 {
		list = quoteAll(missing[:8]) + fmt.Sprintf(" and %d more", len(missing)-8)
	}
	d := fu.errorf(e, diag.UnmappedCategory, "table %s maps no account for %d value(s) of %s: %s", tsym.Name, len(missing), strings.TrimSpace(gsym.Expr.Text), list)
	d.Suggestion = fmt.Sprintf("add them to table %s (a new gateway category must fail CI, not the books)", tsym.Name)
}

// enumOf returns the enumeration of a group key written as item.field.
func (fu *flowUnit) enumOf(e *ast.Expr) []string {
	if fu.item == nil || fu.item.Type.Kind != schema.Struct {
		return nil
	}
	prefix := fu.item.Name + "."
	text := strings.TrimSpace(e.Text)
	if !strings.HasPrefix(text, prefix) {
		return nil
	}
	obj, ok := fu.u.prov.object(fu.item.Type.Object)
	if !ok {
		return nil
	}
	f, ok := obj.Field(strings.TrimPrefix(text, prefix))
	if !ok || f.Type.Enum == nil {
		return nil
	}
	return f.Type.Enum
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// finishLedger reports what a ledger lacks.
func (fu *flowUnit) finishLedger() {
	l := fu.plan.Ledger
	if fu.item == nil {
		fu.errorf(fu.name, diag.Misplaced, "ledger %s has no source", fu.name.Name).
			Suggestion = "add `for bt in stripe.balance_transactions(payout: ev.data.object.id)`"
		return
	}
	if l.Journal.Entity == "" {
		fu.errorf(fu.name, diag.Misplaced, "ledger %s posts no journal", fu.name.Name).
			Suggestion = "add `journal erp.LedgerJournalLines key ... { ... }`"
	}
	if l.GroupBy == nil {
		l.GroupBy = []plan.GroupKey{}
	}
	if l.Aggregates == nil {
		l.Aggregates = []plan.Aggregate{}
	}
}
