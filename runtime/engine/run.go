package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/runtime/erp"
)

// Event is a gateway event to run flows on.
type Event struct {
	ID       string    // the gateway's event id, "evt_..."
	Source   string    // connector name, "stripe"
	Type     string    // "charge.succeeded"
	Received time.Time // when flow acknowledged it
	// Body is the payload: a *jsonval.Object (decoded as expressions read
	// it) or a map[string]any with numbers as json.Number.
	Body any
}

// Ledger is the idempotency ledger: idempotency key -> the record the write
// produced. Put must be durable before it returns; it is called once the
// ERP confirmed the write, so a replay or retry never writes the key again.
type Ledger interface {
	Get(ctx context.Context, key string) (erp.Record, bool, error)
	Put(ctx context.Context, key, entity string, rec erp.Record) error
}

// Lister reads a gateway list, such as the balance transactions of a payout.
type Lister interface {
	List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error)
}

// Env is what runs share: the drivers, the ledger, and whether writes must
// be settled first.
type Env struct {
	ERP    map[string]erp.Driver // by connector alias
	Lists  map[string]Lister     // by connector alias
	Ledger Ledger
	Now    func() time.Time
	// Lookups, when set, caches the records lookups find.
	Lookups *LookupCache
	// Locks serializes the work on one record: a lookup-or-create, a
	// write with one idempotency key. Share one across the Envs of
	// successive plans; nil locks nothing (one run at a time).
	Locks *KeyLocks
	// Signals computes what history says about an event, for the flows
	// that read `signals`; nil gives every event no flags.
	Signals SignalSource
	// Aggregates keeps the entries of the package's aggregates; nil uses
	// the Ledger when it keeps them too (flowd's store does).
	Aggregates Aggregates
}

// SignalSource computes an event's signals: the fields of compiler's
// flow.Signals type (flagged, reason, reasons, amount_z, history,
// duplicate). Implementations are safe for concurrent use.
type SignalSource interface {
	Signals(ctx context.Context, ev *Event) (map[string]any, error)
}

// NoSignalsFields names the fields of signals, sorted.
func NoSignalsFields() []string {
	var out []string
	for k := range NoSignals() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NoSignals are the signals of an event nothing is known about.
func NoSignals() map[string]any {
	return map[string]any{"flagged": false, "reason": "", "reasons": []any{}, "amount_z": 0.0, "history": int64(0), "duplicate": false}
}

// Options change one run.
type Options struct {
	// Settle says an earlier attempt of this run may have reached the ERP
	// without its outcome being recorded (a crash, a timeout): every write
	// not in the ledger is first looked up by its key.
	Settle bool
	// Trace records what each step did in Result.Trace (flowd keeps it as
	// the event's audit trail; a bulk replay may do without).
	Trace bool
	// Approved says a person approved the event in review: review steps
	// let it through.
	Approved bool
}

// Status is how a run ended.
type Status string

const (
	Done    Status = "done"    // every step ran
	Skipped Status = "skipped" // a when guard or a lookup's `else skip` stopped it
	Held    Status = "held"    // a review step holds it for a person (Result.Reason says why)
)

// Trace is one step of a run, for the event's audit trail.
type Trace struct {
	Step   int           `json:"step"`
	Kind   string        `json:"kind"`
	At     string        `json:"at"`
	Detail string        `json:"detail"`
	Took   time.Duration `json:"took"` // from the step's start to this line
}

// Result is what a run did.
type Result struct {
	Status Status
	Reason string // Held: the review's reason
	Writes int    // records written to the ERP by this run
	Reused int    // writes found in the ledger or settled in the ERP
	Trace  []Trace
}

// Class says what the daemon should do with a failed run.
type Class int

const (
	Retry Class = iota // transient: try again later, with backoff
	Dead               // permanent: dead-letter it
	Wait               // a record it needs is not there yet: try later, until Until
)

// Error is a failed run: the step, what went wrong, and what to do.
type Error struct {
	Flow       string
	Step       int // 1-based; 0 before the first step
	At         string
	Class      Class
	RetryAfter time.Duration // the ERP's Retry-After, when it sent one
	Until      time.Time     // Wait: when waiting becomes a dead letter
	Err        error
}

func (e *Error) Error() string {
	where := e.Flow
	if e.Step > 0 {
		where = fmt.Sprintf("%s step %d (%s)", e.Flow, e.Step, e.At)
	}
	return where + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// OrderKey is the event's ordering key for this flow: events with the same
// key run one at a time, oldest first. Without `order by` it is "".
func (f *Flow) OrderKey(ev *Event) (string, error) {
	if f.orderBy == nil {
		return "", nil
	}
	v, _, err := f.orderBy.Eval(f.activation(f.vars(ev)))
	if err != nil {
		return "", fmt.Errorf("%s: order by: %w", f.Plan.OrderBy.At, err)
	}
	return f.Plan.Name + ":" + fmt.Sprint(v.Value()), nil
}

func (f *Flow) vars(ev *Event) map[string]any {
	vars := make(map[string]any, len(f.Plan.Vars)+2)
	vars[f.Plan.Trigger.Var] = ev.Body
	return vars
}

// activation is what expressions of a run read: the run's variables over
// the flow's params and tables (built once per flow).
func (f *Flow) activation(vars map[string]any) interpreter.Activation {
	child, _ := interpreter.NewActivation(vars)
	return interpreter.NewHierarchicalActivation(f.globalsAct, child)
}

// run is one flow over one event.
type run struct {
	f    *Flow
	env  *Env
	opts Options
	ev   *Event
	vars map[string]any // the run's variables; act reads them, then the globals
	act  interpreter.Activation
	res  Result
	// stepStart is when the current step began, for Trace.Took.
	stepStart time.Time
}

// Run runs the flow over ev.
func (f *Flow) Run(ctx context.Context, env *Env, ev *Event, opts Options) (Result, error) {
	r := &run{f: f, env: env, opts: opts, ev: ev, vars: f.vars(ev)}
	r.act = f.activation(r.vars)
	if f.Plan.Signals {
		sig := NoSignals()
		if env.Signals != nil {
			s, err := env.Signals.Signals(ctx, ev)
			if err != nil {
				return r.res, r.fail(0, f.Plan.At, Transient(fmt.Errorf("signals: %w", err)))
			}
			sig = s
		}
		r.vars[compiler.SignalsVar] = sig
	}
	for i, s := range f.steps {
		if opts.Trace {
			r.stepStart = time.Now()
		}
		stop, err := r.step(ctx, i+1, s)
		if err != nil {
			return r.res, r.fail(i+1, s.At, err)
		}
		if r.res.Status == Held {
			return r.res, nil
		}
		if stop {
			r.res.Status = Skipped
			return r.res, nil
		}
	}
	if f.ledger != nil {
		r.stepStart = time.Now()
		if err := r.ledger(ctx); err != nil {
			return r.res, r.fail(len(f.steps)+1, f.Plan.At, err)
		}
	}
	r.res.Status = Done
	return r.res, nil
}

// fail classifies err.
func (r *run) fail(n int, at string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.Flow, e.Step, e.At = r.f.Plan.Name, n, at
		return e
	}
	e = &Error{Flow: r.f.Plan.Name, Step: n, At: at, Err: err, Class: Dead}
	var ee *erp.Error
	switch {
	case errors.As(err, &ee):
		if ee.Kind != erp.Permanent {
			e.Class = Retry
		}
		e.RetryAfter = ee.RetryAfter
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Class = Retry
	case isTransient(err):
		e.Class = Retry
	}
	return e
}

// transientError marks a gateway or store failure worth retrying.
type transientError struct{ error }

func (e transientError) Unwrap() error   { return e.error }
func (e transientError) Transient() bool { return true }

// Transient wraps err so that a run failing with it is retried.
func Transient(err error) error { return transientError{err} }

// isTransient reports whether err, or an error it wraps, says it is worth
// retrying through a Transient() bool method (gateway clients implement it
// without importing this package).
func isTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}

func (r *run) trace(n int, s *step, format string, args ...any) {
	if !r.opts.Trace {
		return
	}
	r.res.Trace = append(r.res.Trace, Trace{Step: n, Kind: s.Kind, At: s.At, Detail: fmt.Sprintf(format, args...), Took: time.Since(r.stepStart)})
}

// eval evaluates p; a CEL error is permanent (the same event fails the same
// way every time).
func (r *run) eval(p cel.Program, at string) (ref.Val, error) {
	v, _, err := p.Eval(r.act)
	if err != nil {
		return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: %w", at, err)}
	}
	return v, nil
}

func (r *run) evalFields(fs []field) (erp.Record, error) {
	rec := make(erp.Record, len(fs))
	for _, fl := range fs {
		v, err := r.eval(fl.prog, fl.at)
		if err != nil {
			return nil, err
		}
		rec[fl.name] = goValue(v)
	}
	return rec, nil
}

// step runs one statement; stop reports that the run ends here (skipped).
func (r *run) step(ctx context.Context, n int, s *step) (stop bool, err error) {
	switch s.Kind {
	case plan.StepLet:
		v, err := r.eval(s.expr, s.Expr.At)
		if err != nil {
			return false, err
		}
		r.vars[s.Name] = v
	case plan.StepWhen:
		v, err := r.eval(s.expr, s.Expr.At)
		if err != nil {
			return false, err
		}
		if b, ok := v.Value().(bool); !ok || !b {
			r.trace(n, s, "condition false: %s", s.Expr.Text)
			return true, nil
		}
	case plan.StepReview:
		v, err := r.eval(s.expr, s.Expr.At)
		if err != nil {
			return false, err
		}
		if b, ok := v.Value().(bool); !ok || !b {
			return false, nil
		}
		if r.opts.Approved {
			r.trace(n, s, "approved in review: %s", s.Expr.Text)
			return false, nil
		}
		why, err := r.eval(s.reason, s.Reason.At)
		if err != nil {
			return false, err
		}
		r.res.Status = Held
		r.res.Reason = fmt.Sprint(why.Value())
		r.trace(n, s, "held for review: %s", r.res.Reason)
		return true, nil
	case plan.StepLookup:
		return r.lookup(ctx, n, s)
	case plan.StepWrite:
		return false, r.write(ctx, n, s)
	case plan.StepFor:
		return false, r.each(ctx, n, s)
	case plan.StepIf:
		v, err := r.eval(s.expr, s.Expr.At)
		if err != nil {
			return false, err
		}
		steps := s.body
		if b, ok := v.Value().(bool); !ok || !b {
			steps = s.orElse
			r.trace(n, s, "condition false: %s", s.Expr.Text)
		} else {
			r.trace(n, s, "condition true: %s", s.Expr.Text)
		}
		for _, bs := range steps {
			if stop, err := r.step(ctx, n, bs); err != nil || stop {
				return stop, err
			}
		}
	case plan.StepAggregate:
		return false, r.updateAggregate(ctx, n, s)
	case plan.StepRead:
		return false, r.readAggregate(ctx, n, s)
	}
	return false, nil
}

// each runs a for's body once per item of its list, or per record of
// its ERP query. A when or a lookup's `else skip` in the body skips that
// item; a failure names the item.
func (r *run) each(ctx context.Context, n int, s *step) error {
	if s.Aggregate != "" {
		return r.eachChange(ctx, n, s)
	}
	if s.Expr == nil {
		return r.eachRecord(ctx, n, s)
	}
	v, err := r.eval(s.expr, s.Expr.At)
	if err != nil {
		return err
	}
	list, ok := v.(traits.Lister)
	if !ok {
		if v == types.NullValue { // an absent list has no items
			r.trace(n, s, "no items: %s is null", s.Expr.Text)
			return nil
		}
		return &Error{Class: Dead, Err: fmt.Errorf("%s: for iterates a list, got %s", s.Expr.At, v.Type().TypeName())}
	}
	size, _ := list.Size().(types.Int)
	for i := types.Int(0); i < size; i++ {
		if err := r.item(ctx, n, s, list.Get(i)); err != nil {
			return itemError(err, s.Name, int(i)+1, int(size))
		}
	}
	delete(r.vars, s.Name)
	r.trace(n, s, "%d item(s) of %s", size, s.Expr.Text)
	return nil
}

// eachRecord runs a for's body once per record its ERP query finds.
func (r *run) eachRecord(ctx context.Context, n int, s *step) error {
	d, err := r.driver(s.Connector)
	if err != nil {
		return err
	}
	q, ok := d.(erp.Querier)
	if !ok {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: the %s driver cannot list records (for %s in %s.%s)", s.At, s.Connector, s.Name, s.Connector, s.Entity)}
	}
	where := erp.Record{}
	var ranges []erp.Range
	for _, fl := range s.where {
		v, err := r.eval(fl.prog, fl.at)
		if err != nil {
			return err
		}
		if fl.op == "" {
			where[fl.name] = goValue(v)
		} else {
			ranges = append(ranges, erp.Range{Field: fl.name, Op: fl.op, Value: goValue(v)})
		}
	}
	recs, err := query(ctx, q, s.Entity, where, ranges)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		if err := r.item(ctx, n, s, map[string]any(rec)); err != nil {
			return itemError(err, s.Name, i+1, len(recs))
		}
	}
	delete(r.vars, s.Name)
	r.trace(n, s, "%d record(s) of %s.%s%s", len(recs), s.Connector, s.Entity, describeQuery(where, ranges))
	return nil
}

// query reads the records of entity that equal where and satisfy ranges:
// on the ERP's side when the driver compares (erp.RangeQuerier), else
// by where, keeping here the records that satisfy the ranges.
func query(ctx context.Context, q erp.Querier, entity string, where erp.Record, ranges []erp.Range) ([]erp.Record, error) {
	if rq, ok := q.(erp.RangeQuerier); ok && len(ranges) > 0 {
		return rq.QueryRange(ctx, entity, where, ranges)
	}
	recs, err := q.Query(ctx, entity, where)
	if err != nil || len(ranges) == 0 {
		return recs, err
	}
	kept := recs[:0]
next:
	for _, rec := range recs {
		for _, rg := range ranges {
			ok, err := rg.Match(rec)
			if err != nil {
				return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: %w", entity, err)}
			}
			if !ok {
				continue next
			}
		}
		kept = append(kept, rec)
	}
	return kept, nil
}

// describeQuery prints a query's conditions, " where A=1 and B <= 2", or
// nothing.
func describeQuery(where erp.Record, ranges []erp.Range) string {
	var parts []string
	if len(where) > 0 {
		parts = append(parts, strings.TrimPrefix(describeWhere(where), "where "))
	}
	for _, rg := range ranges {
		v, _ := json.Marshal(rg.Value)
		parts = append(parts, fmt.Sprintf("%s %s %s", rg.Field, rg.Op, v))
	}
	if len(parts) == 0 {
		return ""
	}
	return " where " + strings.Join(parts, " and ")
}

// item runs a for's body on one item; a when or an `else skip` ends it.
func (r *run) item(ctx context.Context, n int, s *step, v any) error {
	r.vars[s.Name] = v
	for _, bs := range s.body {
		if stop, err := r.step(ctx, n, bs); err != nil || stop {
			return err
		}
	}
	return nil
}

// itemError says which item of a for failed, keeping the error's class.
func itemError(err error, name string, i, of int) error {
	var e *Error
	if errors.As(err, &e) {
		e.Err = fmt.Errorf("%s %d of %d: %w", name, i, of, e.Err)
		return e
	}
	return fmt.Errorf("%s %d of %d: %w", name, i, of, err)
}

// keyError says which entry of an aggregate's changes failed, keeping the
// error's class.
func keyError(err error, name, key string) error {
	var e *Error
	if errors.As(err, &e) {
		e.Err = fmt.Errorf("%s %q: %w", name, key, e.Err)
		return e
	}
	return fmt.Errorf("%s %q: %w", name, key, err)
}

func (r *run) driver(alias string) (erp.Driver, error) {
	d, ok := r.env.ERP[alias]
	if !ok {
		return nil, &Error{Class: Dead, Err: fmt.Errorf("no ERP driver for connector %q", alias)}
	}
	return d, nil
}

func (r *run) lookup(ctx context.Context, n int, s *step) (bool, error) {
	d, err := r.driver(s.Connector)
	if err != nil {
		return false, err
	}
	where, err := r.evalFields(s.where)
	if err != nil {
		return false, err
	}
	cacheKey := s.Connector + "|" + s.Entity + "|" + describeWhere(where)
	if rec, ok := r.env.Lookups.get(cacheKey, r.now()); ok {
		r.bind(s.Name, rec)
		r.trace(n, s, "found %s %s (cached)", s.Entity, describeWhere(where))
		return false, nil
	}
	rec, found, err := d.Lookup(ctx, s.Entity, where)
	if err != nil {
		return false, err
	}
	if found {
		r.env.Lookups.put(cacheKey, rec, r.now())
		r.bind(s.Name, rec)
		r.trace(n, s, "found %s %s", s.Entity, describeWhere(where))
		return false, nil
	}
	switch s.Miss.Policy {
	case "skip":
		r.trace(n, s, "no %s %s: skipped", s.Entity, describeWhere(where))
		return true, nil
	case "fail":
		return false, &Error{Class: Dead, Err: fmt.Errorf("no %s %s (lookup %s says fail)", s.Entity, describeWhere(where), s.Name)}
	case "wait":
		until := r.ev.Received.Add(s.wait)
		if !r.now().Before(until) {
			return false, &Error{Class: Dead, Err: fmt.Errorf("no %s %s after waiting %s", s.Entity, describeWhere(where), s.Miss.Wait)}
		}
		return false, &Error{Class: Wait, Until: until, Err: fmt.Errorf("waiting for %s %s", s.Entity, describeWhere(where))}
	}
	// create: the new record satisfies the lookup. Creations of the same
	// record are serialized, and a create that lost a race finds the
	// winner's record.
	for _, w := range s.where {
		if where[w.name] == "" || where[w.name] == nil {
			return false, &Error{Class: Dead, Err: fmt.Errorf("lookup %s: %s is empty (%s has no value in this event); refusing to create a record with an empty %s",
				s.Name, w.name, s.Where[0].Value.Text, w.name)}
		}
	}
	fields, err := r.evalFields(s.miss)
	if err != nil {
		return false, err
	}
	for k, v := range where {
		fields[k] = v
	}
	defer r.env.Locks.lock("lookup|" + cacheKey)()
	rec, found, err = d.Lookup(ctx, s.Entity, where)
	if err != nil {
		return false, err
	}
	if !found {
		rec, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: s.Entity, Key: "lookup:" + s.Entity + ":" + describeWhere(where), Fields: fields})
		if err != nil {
			if again, ok, lerr := d.Lookup(ctx, s.Entity, where); lerr == nil && ok {
				rec, err = again, nil
			}
		}
		if err != nil {
			return false, err
		}
		r.res.Writes++
		r.trace(n, s, "created %s %s", s.Entity, describeWhere(where))
	} else {
		r.trace(n, s, "found %s %s", s.Entity, describeWhere(where))
	}
	r.env.Lookups.put(cacheKey, rec, r.now())
	r.bind(s.Name, rec)
	return false, nil
}

func (r *run) write(ctx context.Context, n int, s *step) error {
	d, err := r.driver(s.Connector)
	if err != nil {
		return err
	}
	kv, err := r.eval(s.key, s.Key.At)
	if err != nil {
		return err
	}
	key, _ := kv.Value().(string)
	if key == "" {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: the idempotency key is empty", s.Key.At)}
	}
	defer r.env.Locks.lock("key|" + key)()
	rec, ok, err := r.env.Ledger.Get(ctx, key)
	if err != nil {
		return Transient(err)
	}
	if ok {
		r.res.Reused++
		r.bind(s.Name, rec)
		r.trace(n, s, "%s %s key %q: already written", s.Op, s.Entity, key)
		return nil
	}
	fields, err := r.evalFields(s.fields)
	if err != nil {
		return err
	}
	w := erp.Write{Op: erp.Op(s.Op), Entity: s.Entity, Key: key, Fields: fields}
	// Only a create can be doubled by running it again; an upsert or an
	// update applied twice is the same write (and Find would take any
	// existing record for this one's, skipping the update).
	if r.opts.Settle && w.Op == erp.Create {
		if rec, ok, err := d.Find(ctx, w); err != nil {
			return err
		} else if ok {
			return r.written(ctx, n, s, key, rec, "settled: the ERP already holds it")
		}
	}
	rec, err = d.Write(ctx, w)
	if err != nil {
		if erp.KindOf(err) != erp.InDoubt {
			return err
		}
		if w.Op != erp.Create { // repeating it is safe: retry
			return &erp.Error{Kind: erp.Transient, Message: "write in doubt; will run it again", Err: err}
		}
		// The request may have landed: ask the ERP before anyone writes again.
		found, ok, ferr := d.Find(ctx, w)
		if ferr != nil || !ok {
			return &erp.Error{Kind: erp.Transient, Message: "write in doubt, not found by its key; will retry", Err: err}
		}
		return r.written(ctx, n, s, key, found, "settled after an unanswered write")
	}
	r.res.Writes++
	return r.written(ctx, n, s, key, rec, "written")
}

func (r *run) written(ctx context.Context, n int, s *step, key string, rec erp.Record, how string) error {
	if err := r.env.Ledger.Put(ctx, key, s.Entity, rec); err != nil {
		return Transient(err)
	}
	if how != "written" {
		r.res.Reused++
	}
	r.bind(s.Name, rec)
	r.trace(n, s, "%s %s key %q: %s", s.Op, s.Entity, key, how)
	return nil
}

func (r *run) bind(name string, rec erp.Record) {
	if name != "" {
		r.vars[name] = map[string]any(rec)
	}
}

func (r *run) now() time.Time {
	if r.env.Now != nil {
		return r.env.Now()
	}
	return time.Now()
}

// describeWhere prints lookup conditions in a stable order.
func describeWhere(w erp.Record) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch v := w[k].(type) {
		case string:
			parts[i] = k + "=" + strconv.Quote(v)
		default:
			b, _ := json.Marshal(v)
			parts[i] = k + "=" + string(b)
		}
	}
	return "where " + strings.Join(parts, " and ")
}

// KeyLocks serializes work per key.
type KeyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

// NewKeyLocks returns an empty set of locks.
func NewKeyLocks() *KeyLocks { return &KeyLocks{} }

func (k *KeyLocks) lock(key string) (unlock func()) {
	if k == nil {
		return func() {}
	}
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
