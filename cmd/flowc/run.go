package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/record"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", `Usage: flowc run --flows DIR --events FILE.jsonl [--erp record] [--out FILE.jsonl] [--env NAME] [--param name=value]...

Runs the flow package in DIR over recorded gateway events (one Stripe event
per line, as delivered to a webhook) with no daemon, no store and no ERP:
the record driver writes every ERP operation the flows would send as one
JSON line to --out (default: standard output), and answers later lookups in
the same run from what it recorded. Events run in file order; a summary goes
to standard error. Exits 0 when every event ran, 1 when an event failed or a
line is not an event, 2 on a usage or I/O error or flows that do not compile.`, stderr)
	flows := fs.String("flows", "", "the flow package directory (required)")
	events := fs.String("events", "", "the events, one JSON event per line (required; - for standard input)")
	erpName := fs.String("erp", "record", "the ERP driver; only record runs without a daemon")
	out := fs.String("out", "", "where the ERP operations go (default: standard output)")
	env := fs.String("env", "", "use the param values of `env NAME { ... }`")
	params := paramFlags{}
	fs.Var(params, "param", "override a param: name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *flows == "" || *events == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "flowc run: --flows and --events are required (see flowc run --help)")
		return 2
	}
	if *erpName != "record" {
		fmt.Fprintf(stderr, "flowc run: --erp %s: only the record driver runs without a daemon (use flowd for a real ERP)\n", *erpName)
		return 2
	}
	prog, diags, err := engine.Load(*flows, compiler.Config{Env: *env, Params: params})
	if err == nil && prog == nil {
		err = fmt.Errorf("%s does not compile:\n%s", *flows, diagLines(diags))
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowc run: %v\n", err)
		return 2
	}
	in := os.Stdin
	if *events != "-" {
		f, err := os.Open(*events)
		if err != nil {
			fmt.Fprintf(stderr, "flowc run: %v\n", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "flowc run: %v\n", err)
			return 2
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	sum, err := runEvents(context.Background(), prog, in, bw, stderr)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowc run: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "%d events in %s (%.0f/s): %d runs done, %d skipped, %d failed, %d without a flow, %d bad lines; %d ERP writes\n",
		sum.events, sum.took.Round(time.Millisecond), float64(sum.events)/sum.took.Seconds(),
		sum.done, sum.skipped, sum.failed, sum.noFlow, sum.bad, sum.writes)
	if sum.failed > 0 || sum.bad > 0 {
		return 1
	}
	return 0
}

type runSummary struct {
	events, done, skipped, failed, noFlow, bad, writes int
	took                                               time.Duration
}

// runEvents runs every event of in through prog with the record driver.
func runEvents(ctx context.Context, prog *engine.Program, in io.Reader, out io.Writer, stderr io.Writer) (runSummary, error) {
	var sum runSummary
	env, _ := recordEnv(prog, out, nil, neverLate)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	start := time.Now()
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev, err := decodeEvent(b)
		if err != nil {
			sum.bad++
			fmt.Fprintf(stderr, "line %d: %v\n", line, err)
			continue
		}
		sum.events++
		flows := prog.Flows(ev.Source, ev.Type)
		if len(flows) == 0 {
			sum.noFlow++
			continue
		}
		for _, f := range flows {
			res, err := f.Run(ctx, env, ev, engine.Options{})
			sum.writes += res.Writes
			switch {
			case err != nil:
				sum.failed++
				var e *engine.Error
				if errors.As(err, &e) && e.Class == engine.Wait {
					err = fmt.Errorf("%w (nothing in this run provides it)", err)
				}
				fmt.Fprintf(stderr, "line %d: event %s: %v\n", line, ev.ID, err)
			case res.Status == engine.Skipped:
				sum.skipped++
			default:
				sum.done++
			}
		}
	}
	sum.took = time.Since(start)
	return sum, sc.Err()
}

// decodeEvent decodes one recorded gateway event (Stripe or PayPal).
func decodeEvent(b []byte) (*engine.Event, error) { return engine.DecodeEvent(b) }

// recordEnv is the environment of an offline run: every ERP connector of
// prog is a record driver writing to log, every gateway list is served by
// lists (nil: none), the idempotency ledger is in memory, and now is the
// clock. It returns the record drivers by alias too.
func recordEnv(prog *engine.Program, log io.Writer, lists engine.Lister, now func() time.Time) (*engine.Env, map[string]*record.Driver) {
	env := &engine.Env{ERP: map[string]erp.Driver{}, Lists: map[string]engine.Lister{}, Ledger: &memLedger{m: map[string]erp.Record{}, now: now}, Now: now}
	drivers := map[string]*record.Driver{}
	for _, c := range prog.Plan.Connectors {
		if c.Kind == "erp" {
			d := record.New(log, prog.Connector(c.Alias))
			drivers[c.Alias], env.ERP[c.Alias] = d, d
		} else {
			if prog.Plan.WritesTo(c.Alias) { // flows that create gateway objects (stripe.Customer)
				env.ERP[c.Alias] = record.New(log, prog.Connector(c.Alias))
			}
			if lists != nil {
				env.Lists[c.Alias] = lists
			}
		}
	}
	return env, drivers
}

// neverLate is the clock of bulk runs: waits never run out.
func neverLate() time.Time { return time.Unix(1<<40, 0) }

// memLedger is the idempotency ledger of one `flowc run`, and the store
// of its aggregates (engine.Aggregates): an update and its key are
// recorded under one lock, as flowd's store records them in one
// transaction.
type memLedger struct {
	mu      sync.Mutex
	m       map[string]erp.Record
	aggs    map[string][]byte // "<aggregate>\x00<key>" -> the entry's JSON
	changes []aggChange       // the updates, in order
	now     func() time.Time  // the run's clock: an update's time
}

// aggChange is one applied update of an aggregate entry.
type aggChange struct {
	name, key string
	at        time.Time
}

// AggregateChanges lists the entries updated at or after since, oldest
// change first (each entry once, at its last change).
func (l *memLedger) AggregateChanges(_ context.Context, name string, since time.Time, each func(key string, value []byte, updated time.Time) error) error {
	l.mu.Lock()
	last := map[string]int{}
	for i, c := range l.changes {
		if c.name == name {
			last[c.key] = i
		}
	}
	var list []aggChange
	var values [][]byte
	for i, c := range l.changes {
		if c.name == name && last[c.key] == i && !c.at.Before(since) {
			list = append(list, c)
			values = append(values, l.aggs[name+"\x00"+c.key])
		}
	}
	l.mu.Unlock()
	for i, c := range list {
		if err := each(c.key, values[i], c.at); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLedger) Aggregate(_ context.Context, name, key string) ([]byte, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.aggs[name+"\x00"+key]
	return v, ok, nil
}

func (l *memLedger) UpdateAggregate(_ context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) ([]byte, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := name + "\x00" + key
	if _, done := l.m[effect]; done {
		return l.aggs[k], false, nil
	}
	next, err := fn(l.aggs[k])
	if err != nil {
		return nil, false, err
	}
	if l.aggs == nil {
		l.aggs = map[string][]byte{}
	}
	l.aggs[k] = next
	l.m[effect] = erp.Record{"aggregate": name, "key": key}
	at := time.Now()
	if l.now != nil {
		at = l.now()
	}
	l.changes = append(l.changes, aggChange{name: name, key: key, at: at})
	return next, true, nil
}

func (l *memLedger) Get(_ context.Context, key string) (erp.Record, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[key]
	return r, ok, nil
}

func (l *memLedger) Put(_ context.Context, key, _ string, rec erp.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.m[key]; !ok {
		l.m[key] = rec
	}
	return nil
}

// diagLines prints the errors of l, one per line.
func diagLines(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		if d.Severity == diag.Error {
			fmt.Fprintf(&b, "%s:%d:%d: error[%s]: %s\n", d.Pos.File, d.Pos.Line, d.Pos.Col, d.Code, d.Message)
		}
	}
	return b.String()
}
