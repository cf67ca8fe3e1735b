package compiler

import (
	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// checkEach checks a flow's `for item in <list> { ... }`: the list is a
// CEL list (the invoice's lines, a recognition schedule), the body's
// statements run once per item, and each write in it has a key that
// differs per item. The body's names live in a scope of their own, so
// nothing after the for reads an item; they are still variables of the
// flow's environment (see recordEnv), and no later name may reuse them.
func (fu *flowUnit) checkEach(s *ast.For) {
	c := fu.u.check(fu.f, s.Items, fu.sc, "")
	elem := schema.AnyType
	if c.ok {
		switch t := SchemaType(c.typ); {
		case t.Kind == schema.List:
			elem = t.Elem
		case c.typ.String() != "dyn":
			fu.errorf(s.Items, diag.TypeMismatch, "for iterates a list, but this is %s", typeWords(c.typ)).
				Suggestion = "iterate the list itself, e.g. for line in inv.lines.data"
		}
	}
	step := &plan.Step{Kind: plan.StepFor, At: fu.at(s), Name: s.Var.Name, Expr: fu.pexpr(s.Items, c)}
	if fu.loop != nil {
		fu.errorf(s, diag.Misplaced, "a for body cannot hold another for").
			Suggestion = "flatten the list first, e.g. with map() and filter()"
		return
	}
	if s.Body == nil {
		fu.errorf(s, diag.Misplaced, "a flow's for needs a body: for %s in ... { create ... }", s.Var.Name)
		return
	}
	outer, outerSteps := fu.sc, fu.plan.Steps
	fu.sc, fu.plan.Steps = newScope(outer), []*plan.Step{}
	fu.loop = fu.sc
	item := fu.declare(s.Var, ItemSym, elem, c.fromEvent)
	for _, st := range s.Body.Stmts {
		switch st := st.(type) {
		case *ast.On, *ast.OrderBy, *ast.Review:
			fu.errorf(st, diag.Misplaced, "a for body holds lets, whens, lookups and writes; this belongs in the flow itself")
			continue
		case *ast.Write:
			fu.checkStmt(st)
			fu.perItemKey(st, item)
			continue
		}
		fu.checkStmt(st)
	}
	step.Body = fu.plan.Steps
	fu.bodies = append(fu.bodies, fu.sc)
	fu.sc, fu.plan.Steps, fu.loop = outer, outerSteps, nil
	if item != nil && !item.Used() {
		fu.u.warnf(fu.f, s.Var, diag.Unused, "for %s: the body never reads the item", s.Var.Name)
	}
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// perItemKey reports a write in a for body whose key reads nothing that
// differs per item: only the first item would be written.
func (fu *flowUnit) perItemKey(w *ast.Write, item *Symbol) {
	if w.Key == nil || item == nil {
		return
	}
	c := fu.u.check(fu.f, w.Key, fu.sc, "")
	if !c.ok {
		return
	}
	for _, r := range c.refs {
		if _, inBody := fu.loop.names[r.Name]; inBody && fu.loop.names[r.Name] == r {
			return
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
