package compiler

import (
	"regexp"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// checkEach checks a flow's `for item in <list> { ... }`: the list is a
// CEL list (the invoice's lines, a recognition schedule) or an ERP query
// (`erp.CustTransOpens where AccountNum == acct`), the body's statements
// run once per item, and each write in it has a key that differs per
// item (of the innermost for, when one holds another). The body's names
// live in a scope of their own, so nothing after the for reads an item;
// they are still variables of the flow's environment (see recordEnv), and
// no later name may reuse them.
func (fu *flowUnit) checkEach(s *ast.For) {
	step := &plan.Step{Kind: plan.StepFor, At: fu.at(s), Name: s.Var.Name}
	elem, fromEvent := schema.AnyType, false
	if q := fu.queryPath(s); q != nil {
		// Each record is an item of its own, as an event is: keys built
		// from it differ per record.
		elem, fromEvent = fu.checkQuery(s, q, step), true
	} else {
		if len(s.Where) > 0 {
			fu.errorf(s.Where[0], diag.Misplaced, "where filters the records of an ERP entity; %s is not one", s.Items.Text).
				Suggestion = "filter a list with filter(), e.g. for x in list.filter(x, x.amount > 0)"
		}
		c := fu.u.check(fu.f, &s.Items.Expr, fu.sc, "")
		if c.ok {
			switch t := SchemaType(c.typ); {
			case t.Kind == schema.List:
				elem = t.Elem
			case c.typ.String() != "dyn":
				fu.errorf(&s.Items.Expr, diag.TypeMismatch, "for iterates a list, but this is %s", typeWords(c.typ)).
					Suggestion = "iterate the list itself, e.g. for line in inv.lines.data"
			}
		}
		step.Expr, fromEvent = fu.pexpr(&s.Items.Expr, c), c.fromEvent
	}
	fu.eachBody(s, step, elem, fromEvent)
}

// eachBody checks the body of a flow's for whose items are of type elem,
// and adds the step.
func (fu *flowUnit) eachBody(s *ast.For, step *plan.Step, elem *schema.Type, fromEvent bool) {
	if s.Body == nil {
		fu.errorf(s, diag.Misplaced, "a flow's for needs a body: for %s in ... { create ... }", s.Var.Name)
		return
	}
	// A for in a for body is the innermost loop while its body is checked:
	// its writes' keys must differ per item of it.
	outer, outerLoop, outerItem := fu.sc, fu.loop, fu.loopItem
	fu.sc = newScope(outer)
	fu.loop = fu.sc
	fu.loopItem = fu.declare(s.Var, ItemSym, elem, fromEvent)
	item := fu.loopItem
	step.Body = fu.stmts(s.Body, "a for body")
	fu.sc, fu.loop, fu.loopItem = outer, outerLoop, outerItem
	if item != nil && !item.Used() {
		fu.u.warnf(fu.f, s.Var, diag.Unused, "for %s: the body never reads the item", s.Var.Name)
	}
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// checkIf checks `if cond { ... } else { ... }`. Each branch's names live
// in a scope of their own, like a for body's.
func (fu *flowUnit) checkIf(s *ast.If) {
	if s.Cond == nil || s.Then == nil { // a partial parse; the syntax error says why
		return
	}
	c := fu.u.check(fu.f, s.Cond, fu.sc, "")
	if c.ok && c.typ.String() != "bool" && c.typ.String() != "dyn" {
		fu.errorf(s.Cond, diag.TypeMismatch, "an if condition must be a bool, but this is %s", typeWords(c.typ))
	}
	step := &plan.Step{Kind: plan.StepIf, At: fu.at(s), Expr: fu.pexpr(s.Cond, c)}
	outer := fu.sc
	fu.sc = newScope(outer)
	step.Body = fu.stmts(s.Then, "an if body")
	if s.Else != nil {
		fu.sc = newScope(outer)
		step.Else = fu.stmts(s.Else, "an else body")
	}
	fu.sc = outer
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// stmts checks the statements of a for or if body in the current scope
// (the caller's new one) and returns their steps.
func (fu *flowUnit) stmts(b *ast.Stmts, what string) []*plan.Step {
	if b == nil {
		return nil
	}
	outerSteps := fu.plan.Steps
	fu.plan.Steps = []*plan.Step{}
	for _, st := range b.Stmts {
		switch st := st.(type) {
		case *ast.On, *ast.OrderBy, *ast.Review:
			fu.errorf(st, diag.Misplaced, "%s holds lets, whens, ifs, lookups and writes; this belongs in the flow itself", what)
			continue
		case *ast.When:
			if fu.loop != fu.sc { // in an if: its condition says it
				fu.errorf(st, diag.Misplaced, "%s cannot skip the rest of the run: put the condition in the if", what).
					Suggestion = "if a && b { ... }"
				continue
			}
		case *ast.Write:
			fu.checkStmt(st)
			fu.perItemKey(st)
			continue
		}
		fu.checkStmt(st)
	}
	steps := fu.plan.Steps
	fu.bodies = append(fu.bodies, fu.sc)
	fu.plan.Steps = outerSteps
	return steps
}

// perItemKey reports a write in a for body whose key reads nothing that
// differs per item: only the first item would be written.
func (fu *flowUnit) perItemKey(w *ast.Write) {
	item := fu.loopItem
	if w.Key == nil || item == nil || fu.loop == nil {
		return
	}
	c := fu.u.check(fu.f, w.Key, fu.sc, "")
	if !c.ok {
		return
	}
	for _, r := range c.refs {
		for sc := fu.sc; sc != nil; sc = sc.parent { // the body's scopes, innermost first
			if sc.names[r.Name] == r {
				return
			}
			if sc == fu.loop {
				break
			}
		}
	}
	fu.errorf(w.Key, diag.KeyWithoutEvent, "the key is the same for every %s: only the first item would be written", item.Name).
		Suggestion = "add the item's id, e.g. + \":\" + " + item.Name + ".id"
}

// inBody returns the for-body symbol named name, if a body declared one.
func (fu *flowUnit) inBody(name string) (*Symbol, bool) {
	for _, sc := range fu.bodies {
		if sym, ok := sc.names[name]; ok {
			return sym, true
		}
	}
	return nil, false
}

var entityPath = regexp.MustCompile(`^([A-Za-z_]\w*)\.([A-Za-z_]\w*)$`)

// queryPath returns the entity a for iterates when its list is
// `alias.Entity` of an imported ERP: a query, not a CEL expression.
func (fu *flowUnit) queryPath(s *ast.For) *ast.Path {
	m := entityPath.FindStringSubmatch(s.Items.Text)
	if m == nil {
		return nil
	}
	ic, ok := fu.u.conns[m[1]]
	if !ok || ic.conn.Kind != schema.ERP {
		return nil
	}
	at := s.Items.Pos
	second := at
	second.Offset += len(m[1]) + 1
	second.Column += len(m[1]) + 1
	end := func(p lexer.Position, n int) lexer.Position { p.Offset += n; p.Column += n; return p }
	return &ast.Path{Span: s.Items.Span, Parts: []*ast.Ident{
		{Span: ast.Span{Pos: at, EndPos: end(at, len(m[1]))}, Name: m[1]},
		{Span: ast.Span{Pos: second, EndPos: end(second, len(m[2]))}, Name: m[2]},
	}}
}

// checkQuery checks the ERP query a for iterates and returns its item's
// type: the entity's records, every one matching the conditions.
func (fu *flowUnit) checkQuery(s *ast.For, q *ast.Path, step *plan.Step) *schema.Type {
	ic, obj := fu.entity(q)
	step.Where = fu.conds(s.Where, obj, true)
	if obj == nil {
		return schema.AnyType
	}
	step.Connector, step.Entity = ic.alias, q.Parts[1].Name
	return schema.ObjectOf(obj.Name)
}
