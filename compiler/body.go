package compiler

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// flowUnit is one flow or ledger being checked, and the plan it lowers to.
type flowUnit struct {
	u      *unit
	f      *File
	name   *ast.Ident
	ledger bool
	sc     *scope
	plan   *plan.Flow

	trigger *ast.On
	event   *schema.Event // nil for schedules and unknown events
	gateway *importedConnector
	writes  int // create/upsert writes, for the reversal warning

	item    *Symbol // ledger: the list item variable
	group   []*Symbol
	lets    []*Symbol
	aggVars []cel.EnvOption // ledger: the variables aggregates were lowered to
	signals *Symbol         // the built-in signals variable, nil without a gateway trigger

	loop     *scope   // the scope of the for body being checked, nil outside one
	loopItem *Symbol  // and its item
	bodies   []*scope // the scopes of the flow's for bodies, once checked
	// aggFields are the fields the flow's aggregate updates read by name:
	// variables of the flow's environment, which no other name may reuse.
	aggFields  map[string]*Symbol
	aggClashed map[string]bool // the field names reported as clashing
}

// checkBodies checks every flow and ledger, in parallel.
func (u *unit) checkBodies() {
	seen := map[string]*ast.Ident{}
	for _, f := range u.files {
		for _, d := range f.AST.Decls {
			name, _, ok := ast.Body(d)
			if !ok || name == nil {
				continue
			}
			_, isLedger := d.(*ast.Ledger)
			fu := &flowUnit{u: u, f: f, name: name, ledger: isLedger, sc: newScope(u.pkg)}
			if _, dup := seen[name.Name]; dup {
				u.errorf(f, name, diag.DuplicateDecl, "flow %s is declared twice", name.Name)
				continue
			}
			if sym, clash := u.pkg.lookup(name.Name); clash {
				u.errorf(f, name, diag.DuplicateDecl, "%s is already declared as a %s", name.Name, sym.Kind)
				continue
			}
			seen[name.Name] = name
			u.flows = append(u.flows, fu)
		}
	}
	sem := make(chan struct{}, u.c.cfg.Parallelism)
	var wg sync.WaitGroup
	for _, fu := range u.flows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fu.check()
		}()
	}
	wg.Wait()
}

func (fu *flowUnit) errorf(n ast.Node, code diag.Code, format string, args ...any) *diag.Diagnostic {
	return fu.u.errorf(fu.f, n, code, format, args...)
}

func (fu *flowUnit) at(n ast.Node) string {
	p := fu.f.Source.Pos(n.Begin().Offset)
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

func (fu *flowUnit) pexpr(e *ast.Expr, c *checked) *plan.Expr {
	t := "dyn"
	if c != nil && c.typ != nil {
		t = c.typ.String()
	}
	return &plan.Expr{Text: strings.TrimSpace(e.Text), Type: t, At: fu.at(e)}
}

func (fu *flowUnit) declare(id *ast.Ident, kind SymbolKind, t *schema.Type, fromEvent bool) *Symbol {
	if ast.Keywords[id.Name] && id.Name != "order" && id.Name != "group" {
		fu.errorf(id, diag.DuplicateDecl, "%s is a keyword and cannot name a value", id.Name).
			Suggestion = "pick another name, e.g. " + id.Name + "_"
		return nil
	}
	sym := &Symbol{Name: id.Name, Kind: kind, Type: t, Decl: id, File: fu.f.Source.Name, FromEvent: fromEvent}
	if prev, ok := fu.inBody(id.Name); ok { // a for body's names are the flow's variables too
		fu.u.duplicate(fu.f, id, prev)
		return nil
	}
	if prev, ok := fu.aggFields[id.Name]; ok {
		fu.aggFieldClash(id, prev)
		return nil
	}
	if prev := fu.sc.declare(sym); prev != nil {
		fu.u.duplicate(fu.f, id, prev)
		return nil
	}
	fu.u.mu.Lock()
	fu.u.info.Defs[id] = sym
	fu.u.mu.Unlock()
	fu.plan.Vars = append(fu.plan.Vars, plan.Var{Name: id.Name, Type: t.String()})
	return sym
}

// check checks the statements in order; each may read what the ones before
// it declared.
func (fu *flowUnit) check() {
	kind := "flow"
	var stmts []ast.Stmt
	for _, d := range fu.f.AST.Decls {
		if n, s, ok := ast.Body(d); ok && n == fu.name {
			stmts = s
			if fu.ledger {
				kind = "ledger"
			}
		}
	}
	fu.plan = &plan.Flow{Name: fu.name.Name, Kind: kind, At: fu.at(fu.name), Vars: []plan.Var{}, Steps: []*plan.Step{}}
	if fu.ledger {
		fu.plan.Ledger = &plan.Ledger{}
	}
	for i, s := range stmts {
		if on, ok := s.(*ast.On); ok {
			if fu.trigger != nil {
				fu.errorf(on, diag.Misplaced, "flow %s already has a trigger; a flow has exactly one", fu.name.Name).
					Suggestion = "write a second flow for the other event"
				continue
			}
			if i != 0 {
				fu.errorf(on, diag.Misplaced, "the trigger comes first in a flow")
			}
			fu.checkTrigger(on)
			continue
		}
		if fu.trigger == nil && i == 0 {
			fu.missingTrigger()
		}
		fu.checkStmt(s)
	}
	if len(stmts) == 0 {
		fu.missingTrigger()
	}
	if fu.ledger {
		fu.finishLedger()
	}
	if fu.signals != nil && fu.signals.Used() {
		fu.plan.Signals = true
	}
	fu.recordEnv()
	for _, l := range fu.lets {
		if !l.Used() {
			fu.u.warnf(fu.f, l.Decl, diag.Unused, "let %s is never used", l.Name)
		}
	}
}

// checkStmt checks one statement of a flow or ledger body (or of a flow's
// for body) after the trigger.
func (fu *flowUnit) checkStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.OrderBy:
		c := fu.u.check(fu.f, s.Key, fu.sc, "")
		if c.ok && fu.plan.OrderBy != nil {
			fu.errorf(s, diag.Misplaced, "a flow has one ordering key")
		}
		fu.plan.OrderBy = fu.pexpr(s.Key, c)
	case *ast.Let:
		c := fu.u.check(fu.f, s.Value, fu.sc, "")
		t := SchemaType(c.typ)
		if sym := fu.declare(s.Name, LetSym, t, c.fromEvent); sym != nil {
			sym.Expr = s.Value
			fu.lets = append(fu.lets, sym)
		}
		fu.plan.Steps = append(fu.plan.Steps, &plan.Step{Kind: plan.StepLet, At: fu.at(s), Name: s.Name.Name, Expr: fu.pexpr(s.Value, c)})
	case *ast.When:
		c := fu.u.check(fu.f, s.Cond, fu.sc, "")
		if c.ok && c.typ.String() != "bool" && c.typ.String() != "dyn" {
			fu.errorf(s.Cond, diag.TypeMismatch, "a when condition must be a bool, but this is %s", typeWords(c.typ))
		}
		fu.plan.Steps = append(fu.plan.Steps, &plan.Step{Kind: plan.StepWhen, At: fu.at(s), Expr: fu.pexpr(s.Cond, c)})
	case *ast.Review:
		c := fu.u.check(fu.f, &s.Cond.Expr, fu.sc, "")
		if c.ok && c.typ.String() != "bool" && c.typ.String() != "dyn" {
			fu.errorf(&s.Cond.Expr, diag.TypeMismatch, "a review condition must be a bool, but this is %s", typeWords(c.typ))
		}
		r := fu.u.check(fu.f, s.Reason, fu.sc, "")
		if r.ok && r.typ.String() != "string" && r.typ.String() != "dyn" {
			fu.errorf(s.Reason, diag.TypeMismatch, "a review's reason must be a string, but this is %s", typeWords(r.typ)).
				Suggestion = "say why in words, e.g. because signals.reason"
		}
		fu.plan.Steps = append(fu.plan.Steps, &plan.Step{Kind: plan.StepReview, At: fu.at(s), Expr: fu.pexpr(&s.Cond.Expr, c), Reason: fu.pexpr(s.Reason, r)})
	case *ast.Lookup:
		if s.Index != nil || fu.aggregate(s.Entity) != nil {
			fu.checkAggLookup(s)
			return
		}
		fu.checkLookup(s)
	case *ast.Write:
		if s.Index != nil || fu.aggregate(s.Entity()) != nil {
			fu.checkAggUpdate(s)
			return
		}
		fu.checkWrite(s)
	case *ast.For:
		switch {
		case fu.ledger && s.Items != nil:
			fu.errorf(s.Items, diag.Misplaced, "a ledger iterates a gateway list: for item in connector.list(arg: value)").
				Suggestion = "to write once per item of a list, use for in a flow"
		case fu.ledger && s.Body != nil:
			fu.errorf(s.Body, diag.Misplaced, "a ledger's for has no body: its journal posts the items")
		case fu.ledger:
			fu.checkLedgerStmt(s)
		case s.Items != nil:
			fu.checkEach(s)
		case fu.aggregate(s.Source) != nil:
			fu.checkChanges(s)
		default:
			fu.errorf(s, diag.Misplaced, "for belongs in a ledger, not a flow").
				Suggestion = "declare it as `ledger " + fu.name.Name + " { ... }`"
		}
	case *ast.If:
		if fu.ledger {
			fu.errorf(s, diag.Misplaced, "a ledger has no if: its postings say what goes where").
				Suggestion = "write the condition into a posting's amount, or use a flow"
			return
		}
		fu.checkIf(s)
	case *ast.GroupBy, *ast.Journal:
		if !fu.ledger {
			fu.errorf(s, diag.Misplaced, "%s belongs in a ledger, not a flow", stmtWord(s)).
				Suggestion = "declare it as `ledger " + fu.name.Name + " { ... }`"
			return
		}
		fu.checkLedgerStmt(s)
	}
}

func (fu *flowUnit) missingTrigger() {
	fu.errorf(fu.name, diag.MissingTrigger, "%s %s has no trigger", fu.plan.Kind, fu.name.Name).
		Suggestion = "start it with `on <connector>.<event> as ev`, e.g. on stripe.charge.succeeded as ev"
}

func stmtWord(s ast.Stmt) string {
	switch s.(type) {
	case *ast.For:
		return "for"
	case *ast.GroupBy:
		return "group by"
	case *ast.Journal:
		return "journal"
	}
	return "this statement"
}

// checkTrigger resolves `on gateway.event as ev` or `on schedule "cron" as tick`.
func (fu *flowUnit) checkTrigger(on *ast.On) {
	fu.trigger = on
	alias := "ev"
	if on.Alias != nil {
		alias = on.Alias.Name
	}
	parts := on.Event.Parts
	if parts[0].Name == "schedule" && len(parts) == 1 {
		if on.Schedule == nil {
			fu.errorf(on, diag.UnknownEvent, "a schedule needs a cron spec").Suggestion = `on schedule "0 2 * * *" as tick`
			return
		}
		spec := strings.Trim(on.Schedule.Value, `"'`)
		if err := checkCron(spec); err != nil {
			fu.errorf(on.Schedule, diag.UnknownEvent, "invalid schedule %q: %v", spec, err).
				Suggestion = `five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"`
		}
		fu.plan.Trigger = plan.Trigger{Connector: "schedule", Schedule: spec, Var: alias, Type: "schedule.Tick"}
		if on.Alias != nil {
			fu.declare(on.Alias, EventSym, schema.ObjectOf("schedule.Tick"), true)
		}
		return
	}
	ic, ok := fu.u.conns[parts[0].Name]
	if !ok {
		d := fu.errorf(parts[0], diag.UndefinedName, "%s is not an imported connector", parts[0].Name)
		suggest(d, parts[0].Name, fu.u.aliases())
		if d.Suggestion == "" && parts[0].Name == "stripe" {
			d.Suggestion = `add import "stripe"`
		}
		return
	}
	if on.Schedule != nil {
		fu.errorf(on.Schedule, diag.Misplaced, "only schedule triggers take a cron spec")
	}
	if len(ic.conn.Events) == 0 {
		fu.errorf(on.Event, diag.UnknownEvent, "connector %s sends no events", ic.conn.Name)
		return
	}
	if len(parts) < 2 {
		fu.errorf(on.Event, diag.UnknownEvent, "name the event: on %s.<event>", parts[0].Name)
		return
	}
	var names []string
	for _, p := range parts[1:] {
		names = append(names, p.Name)
	}
	name := strings.Join(names, ".")
	ev, ok := ic.conn.Events[name]
	if !ok {
		pos := fu.f.Source.Pos(parts[1].Pos.Offset)
		end := fu.f.Source.Pos(on.Event.End().Offset)
		d := fu.u.report(pos, end, diag.Error, diag.UnknownEvent, "%s sends no event %q", ic.conn.Name, name)
		suggest(d, name, ic.conn.EventNames())
		return
	}
	fu.event, fu.gateway = ev, ic
	fu.plan.Trigger = plan.Trigger{Connector: ic.alias, Event: name, Object: ev.Object, Var: alias, Type: ev.Envelope}
	id := on.Alias
	if id == nil {
		id = &ast.Ident{Span: on.Span, Name: alias}
	}
	fu.declare(id, EventSym, schema.ObjectOf(ev.Envelope), true)
	// Every gateway-triggered flow may read what flowd's history says
	// about its event; a flow that declares its own `signals` keeps it.
	// Signals are computed from gateway history: an ERP's business events
	// have none.
	if _, taken := fu.sc.lookup(SignalsVar); !taken && ic.conn.Kind == schema.Gateway {
		fu.signals = fu.declare(&ast.Ident{Span: on.Span, Name: SignalsVar}, SignalsSym, schema.ObjectOf(SignalsType), false)
	}
}

func (u *unit) aliases() []string {
	var out []string
	for a := range u.conns {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// checkCron checks a five-field cron spec.
func checkCron(spec string) error {
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return fmt.Errorf("%d fields, want 5", len(fields))
	}
	ranges := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	names := [5]string{"minute", "hour", "day of month", "month", "day of week"}
	for i, f := range fields {
		for _, part := range strings.Split(f, ",") {
			part, step, hasStep := strings.Cut(part, "/")
			if hasStep {
				if n, err := atoi(step); err != nil || n < 1 {
					return fmt.Errorf("bad step %q in the %s field", step, names[i])
				}
			}
			if part == "*" {
				continue
			}
			lo, hi, isRange := strings.Cut(part, "-")
			for _, v := range []string{lo, hi} {
				if v == "" && !isRange {
					continue
				}
				n, err := atoi(v)
				if err != nil || n < ranges[i][0] || n > ranges[i][1] {
					return fmt.Errorf("%q is out of range for the %s field (%d-%d)", v, names[i], ranges[i][0], ranges[i][1])
				}
			}
		}
	}
	return nil
}

func atoi(s string) (int, error) {
	n := 0
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}
