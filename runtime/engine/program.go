// Package engine runs a compiled plan: it evaluates one flow over one event,
// step by step, against ERP drivers and gateway lists, and says what
// happened. It holds no queue and no storage of its own: the daemon (and
// `flowc run`) decide when a run happens, and give it the idempotency
// ledger that makes a write happen once.
package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/stdlib/schema"
)

// Program is a plan made executable: every expression compiled once. It is
// immutable and safe for concurrent use; a reload builds a new one.
type Program struct {
	Plan    *plan.Plan
	flows   []*Flow
	byEvent map[string][]*Flow // "<connector name>:<event type>" -> flows
	conns   map[string]*schema.Connector
	kinds   map[string]string   // connector alias -> connector name
	aggs    map[string]*aggType // declared aggregates by name
}

// Flow is one executable flow or ledger.
type Flow struct {
	Plan       *plan.Flow
	prog       *Program
	orderBy    cel.Program
	globals    map[string]any // params and tables
	globalsAct interpreter.Activation
	steps      []*step
	ledger     *ledger
}

type step struct {
	*plan.Step
	expr   cel.Program // let value, when or review condition
	reason cel.Program // review
	key    cel.Program
	where  []field
	fields []field
	miss   []field
	wait   time.Duration
	object *schema.Object // the entity's schema
	body   []*step        // for: the steps run per item; if: the steps run when it holds
	orElse []*step        // if: the steps run when it does not
	index  cel.Program    // aggregate and read: the entry's key
	since  cel.Program    // for over an aggregate's changes
	agg    *aggType       // aggregate and read: the aggregate
}

type field struct {
	name string
	prog cel.Program
	at   string
	op   string // a query's comparison other than equality ("<=", ...)
}

// Build compiles p. envs are the compiler's per-flow environments
// (compiler.Info.Envs) and conns its connector schemas by alias
// (compiler.Info.Connectors).
func Build(p *plan.Plan, envs map[string]*cel.Env, conns map[string]*schema.Connector) (*Program, error) {
	prog := &Program{Plan: p, byEvent: map[string][]*Flow{}, conns: conns, kinds: map[string]string{}}
	for _, c := range p.Connectors {
		prog.kinds[c.Alias] = c.Name
	}
	aggs, err := aggregateTypes(p.Aggregates)
	if err != nil {
		return nil, err
	}
	prog.aggs = aggs
	for _, pf := range p.Flows {
		env, ok := envs[pf.Name]
		if !ok {
			return nil, fmt.Errorf("flow %s: no environment from the compiler", pf.Name)
		}
		f, err := prog.build(pf, env)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", pf.Name, err)
		}
		prog.flows = append(prog.flows, f)
		if pf.Trigger.Event != "" {
			k := prog.kinds[pf.Trigger.Connector] + ":" + pf.Trigger.Event
			prog.byEvent[k] = append(prog.byEvent[k], f)
		} else if pf.Trigger.Connector == ScheduleSource && pf.Trigger.Schedule != "" {
			k := ScheduleSource + ":" + pf.Name // a tick is for its own flow only
			prog.byEvent[k] = append(prog.byEvent[k], f)
		}
	}
	return prog, nil
}

// ScheduleSource is the source of the ticks that run `on schedule` flows:
// a tick's type is the name of the flow it runs, and its body is a
// schedule.Tick ({"id": "<flow>@<due time>", "time": "<due time>"}).
const ScheduleSource = "schedule"

// Flows returns the flows an event of the given gateway (connector name,
// "stripe") and type triggers, in name order; for a tick (source
// ScheduleSource), the one schedule flow its type names.
func (p *Program) Flows(source, eventType string) []*Flow { return p.byEvent[source+":"+eventType] }

// Flow returns the named flow, or nil.
func (p *Program) Flow(name string) *Flow {
	for _, f := range p.flows {
		if f.Plan.Name == name {
			return f
		}
	}
	return nil
}

// Connector returns the schema of the connector imported as alias.
func (p *Program) Connector(alias string) *schema.Connector { return p.conns[alias] }

// Version is the plan's version.
func (p *Program) Version() string { return p.Plan.Version }

func (p *Program) build(pf *plan.Flow, env *cel.Env) (*Flow, error) {
	f := &Flow{Plan: pf, prog: p, globals: map[string]any{}}
	for _, v := range append(append([]plan.Value{}, p.Plan.Params...), p.Plan.Tables...) {
		gv, err := constant(env, v)
		if err != nil {
			return nil, err
		}
		f.globals[v.Name] = gv
	}
	var err error
	compile := func(e *plan.Expr) cel.Program {
		if e == nil || err != nil {
			return nil
		}
		var pr cel.Program
		pr, err = compileExpr(env, e)
		return pr
	}
	fields := func(fs []plan.Field) []field {
		out := make([]field, 0, len(fs))
		for _, fl := range fs {
			out = append(out, field{name: fl.Name, prog: compile(fl.Value), at: fl.Value.At, op: fl.Op})
		}
		return out
	}
	f.orderBy = compile(pf.OrderBy)
	f.steps, err = p.buildSteps(pf.Steps, compile, fields)
	if pf.Ledger != nil && err == nil {
		f.ledger, err = p.buildLedger(pf.Ledger, compile, fields)
	}
	if err != nil {
		return nil, err
	}
	if f.globalsAct, err = interpreter.NewActivation(f.globals); err != nil {
		return nil, err
	}
	return f, nil
}

// buildSteps compiles the steps of a flow, and of its for bodies.
func (p *Program) buildSteps(steps []*plan.Step, compile func(*plan.Expr) cel.Program, fields func([]plan.Field) []field) ([]*step, error) {
	var out []*step
	var err error
	for _, ps := range steps {
		s := &step{Step: ps}
		s.expr = compile(ps.Expr)
		s.reason = compile(ps.Reason)
		s.key = compile(ps.Key)
		s.index = compile(ps.Index)
		s.since = compile(ps.Since)
		if ps.Aggregate != "" {
			s.agg = p.aggs[ps.Aggregate]
		}
		s.where = fields(ps.Where)
		s.fields = fields(ps.Fields)
		if ps.Miss != nil {
			s.miss = fields(ps.Miss.Fields)
			if ps.Miss.Wait != "" {
				if s.wait, err = time.ParseDuration(ps.Miss.Wait); err != nil {
					return nil, fmt.Errorf("%s: wait %q: %w", ps.At, ps.Miss.Wait, err)
				}
			}
		}
		if ps.Entity != "" {
			s.object = p.entity(ps.Connector, ps.Entity)
		}
		if len(ps.Body) > 0 {
			if s.body, err = p.buildSteps(ps.Body, compile, fields); err != nil {
				return nil, err
			}
		}
		if len(ps.Else) > 0 {
			if s.orElse, err = p.buildSteps(ps.Else, compile, fields); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *Program) entity(alias, name string) *schema.Object {
	if c := p.conns[alias]; c != nil {
		return c.Entities[name]
	}
	return nil
}

func compileExpr(env *cel.Env, e *plan.Expr) (cel.Program, error) {
	ast, iss := env.Compile(e.Text)
	if iss != nil && iss.Err() != nil {
		// The compiler checked this text in this environment; failing now
		// is a bug between the two, not a user error.
		return nil, fmt.Errorf("%s: %q does not compile at run time: %v", e.At, e.Text, iss.Err())
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize))
}

// constant converts a param or table value of the plan into the value CEL
// expects for the name's declared type.
func constant(env *cel.Env, v plan.Value) (any, error) {
	ast, iss := env.Compile(v.Name)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("%s: %v", v.Name, iss.Err())
	}
	out, err := celValue(ast.OutputType(), v.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Name, err)
	}
	return out, nil
}

// celValue converts a plan constant (JSON-shaped: decimals are strings) to
// the value of CEL type t.
func celValue(t *cel.Type, v any) (any, error) {
	switch t.Kind() {
	case types.MapKind:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want a map, got %T", v)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// JSON keeps every key as text; a map(int, ...) gets its int keys
		// back, or no key would ever be found.
		intKeys := t.Parameters()[0].Kind() == types.IntKind
		out := make(map[string]any, len(m))
		outInt := make(map[int64]any)
		for _, k := range keys {
			e, err := celValue(t.Parameters()[1], m[k])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			if !intKeys {
				out[k] = e
				continue
			}
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("key %q is not an int", k)
			}
			outInt[n] = e
		}
		if intKeys {
			return outInt, nil
		}
		return out, nil
	case types.ListKind:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want a list, got %T", v)
		}
		out := make([]any, len(l))
		for i, e := range l {
			c, err := celValue(t.Parameters()[0], e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	if f, ok := v.(float64); ok { // plan values read back from JSON
		v = json.Number(fmt.Sprint(f))
	}
	if s, ok := v.(string); ok && (t.Kind() == types.IntKind || t.Kind() == types.OpaqueKind) {
		v = json.Number(s)
	}
	return compiler.RuntimeValue(compiler.SchemaType(t), v)
}
