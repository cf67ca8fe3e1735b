package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/record"
	"github.com/flowhq/flow/stdlib/schema"
)

const testUsage = `Usage: flowc test [-run REGEXP] [-v] [--format text|json] [PATH...]

Runs the tests written next to the flows: every *.flowtest file under PATH
(default ".") tests the flow package in its directory. A .flowtest file is
a txtar archive; each test is a group of sections named <test>/<part>:

  -- refund waits for its order/event.json --     the gateway event (inline JSON; a schedule's tick is
                                                  {"schedule": "<flow>", "time": "<RFC 3339>"}); several
                                                  run one after the other on the same ERP and store, or
  -- refund waits for its order/event --          a path to one, relative to the test file
  -- refund waits for its order/given.jsonl --    ERP records that exist: {"entity": ..., "fields": {...}}
  -- a decline is retried/answers.jsonl --        what a gateway answers the creates of an object, in
                                                  order: {"entity": "Sale", "fields": {...}}; its fields
                                                  are added to the written ones
  -- payout posts a journal/list.balance_transactions.jsonl --
                                                  the items a gateway list returns, one per line
  -- refund waits for its order/expect.jsonl --   the ERP writes, in order: {"op": ..., "entity": ...,
                                                  "key": ..., "fields": {...}, "lines": [{...}]}; key,
                                                  fields and lines may be partial (only what is given
                                                  is compared; lines, when given, all of them)
  -- refund waits for its order/expect-failure -- the run fails, with this text in its reason (any
                                                  failure when empty); the writes before it are
                                                  compared only when expect.jsonl is given too
  -- a big charge is held/signals.json --         what flowd's history says of the event: the fields
                                                  of signals (flagged, reason, amount_z, ...); none
                                                  flagged when absent
  -- a big charge is held/expect-review --        a review step holds the run, with this text in its
                                                  reason; writes before it compared as above
  -- a big charge is held/approved --             run as approved in review (the section is empty)

Events run with the record ERP driver (nothing is sent anywhere) and the
clock at the event's created time. Output is like go test's; exit 0 when
every test passes, 1 when one fails, 2 on a usage or I/O error or flows
that do not compile.`

// flowTest is one test of a .flowtest file.
type flowTest struct {
	Name, File    string
	event         []byte
	given         []byte
	lists         map[string][]byte // list name -> items, one JSON object per line
	answers       []byte
	expect        []byte
	hasExpect     bool
	expectFailure string
	hasFailure    bool
	signals       []byte
	expectReview  string
	hasReview     bool
	approved      bool
}

// testResult is the outcome of one test.
type testResult struct {
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Pass    bool     `json:"pass"`
	Reasons []string `json:"reasons,omitempty"`
	Took    string   `json:"took"`
}

func cmdTest(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("test", testUsage, stderr)
	runRE := fset.String("run", "", "run only the tests whose names match this regular expression")
	verbose := fset.Bool("v", false, "print every test, not only failures")
	format := fset.String("format", "text", "text or json")
	if err := fset.Parse(args); err != nil {
		return usageExit(err)
	}
	filter, err := regexp.Compile(*runRE)
	if err != nil || (*format != "text" && *format != "json") {
		fmt.Fprintln(stderr, "flowc test: -run takes a regular expression; --format is text or json")
		return 2
	}
	paths := fset.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findTestFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "flowc test: %v\n", err)
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "flowc test: no .flowtest files in %s\n", strings.Join(paths, " "))
		return 2
	}
	var results []testResult
	for _, file := range files {
		tests, err := readTests(file)
		if err != nil {
			fmt.Fprintf(stderr, "flowc test: %v\n", err)
			return 2
		}
		prog, diags, err := engine.Load(filepath.Dir(file), compiler.Config{})
		if err == nil && prog == nil {
			err = fmt.Errorf("%s does not compile:\n%s", filepath.Dir(file), diagLines(diags))
		}
		if err != nil {
			fmt.Fprintf(stderr, "flowc test: %v\n", err)
			return 2
		}
		for _, t := range tests {
			if filter.MatchString(t.Name) {
				results = append(results, t.run(prog))
			}
		}
	}
	failed := 0
	for _, r := range results {
		if !r.Pass {
			failed++
		}
	}
	if *format == "json" {
		writeJSONOut(stdout, results)
	} else {
		for _, r := range results {
			if r.Pass && !*verbose {
				continue
			}
			status := "PASS"
			if !r.Pass {
				status = "FAIL"
			}
			fmt.Fprintf(stdout, "--- %s: %s (%s)\n", status, r.Name, r.Took)
			for _, reason := range r.Reasons {
				fmt.Fprintf(stdout, "    %s: %s\n", r.File, strings.ReplaceAll(reason, "\n", "\n        "))
			}
		}
		if failed > 0 {
			fmt.Fprintf(stdout, "FAIL: %d of %d tests failed\n", failed, len(results))
		} else {
			fmt.Fprintf(stdout, "ok  %d tests\n", len(results))
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func findTestFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".flowtest") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// readTests parses a .flowtest file into its tests, in file order.
func readTests(file string) ([]*flowTest, error) {
	a, err := txtar.ParseFile(file)
	if err != nil {
		return nil, err
	}
	if len(a.Files) == 0 {
		return nil, fmt.Errorf("%s: no tests (sections are written -- <test>/<part> --)", file)
	}
	byName := map[string]*flowTest{}
	seen := map[string]bool{}
	var tests []*flowTest
	for _, f := range a.Files {
		if seen[f.Name] {
			return nil, fmt.Errorf("%s: section %q appears twice (a copied test not renamed?)", file, f.Name)
		}
		seen[f.Name] = true
		name, part, ok := strings.Cut(f.Name, "/")
		if !ok {
			return nil, fmt.Errorf("%s: section %q is not <test>/<part>", file, f.Name)
		}
		t := byName[name]
		if t == nil {
			t = &flowTest{Name: name, File: file}
			byName[name] = t
			tests = append(tests, t)
		}
		switch part {
		case "event.json":
			t.event = f.Data
		case "event":
			b, err := os.ReadFile(filepath.Join(filepath.Dir(file), strings.TrimSpace(string(f.Data))))
			if err != nil {
				return nil, fmt.Errorf("%s: test %q: %w", file, name, err)
			}
			t.event = b
		case "given.jsonl":
			t.given = f.Data
		case "answers.jsonl":
			t.answers = f.Data
		case "expect.jsonl":
			t.expect, t.hasExpect = f.Data, true
		case "expect-failure":
			t.expectFailure, t.hasFailure = strings.TrimSpace(string(f.Data)), true
		case "signals.json":
			t.signals = f.Data
		case "expect-review":
			t.expectReview, t.hasReview = strings.TrimSpace(string(f.Data)), true
		case "approved":
			t.approved = true
		default:
			if list, ok := strings.CutPrefix(part, "list."); ok && strings.HasSuffix(list, ".jsonl") {
				if t.lists == nil {
					t.lists = map[string][]byte{}
				}
				t.lists[strings.TrimSuffix(list, ".jsonl")] = f.Data
				continue
			}
			return nil, fmt.Errorf("%s: test %q: unknown part %q (event.json, event, given.jsonl, answers.jsonl, list.NAME.jsonl, signals.json, expect.jsonl, expect-failure, expect-review, approved)", file, name, part)
		}
	}
	for _, t := range tests {
		if t.event == nil || !t.hasExpect && !t.hasFailure && !t.hasReview {
			return nil, fmt.Errorf("%s: test %q needs an event and an expectation (expect.jsonl, expect-failure or expect-review)", file, t.Name)
		}
	}
	return tests, nil
}

// run runs one test on a fresh record driver.
func (t *flowTest) run(prog *engine.Program) testResult {
	start := time.Now()
	res := testResult{Name: t.Name, File: t.File}
	fail := func(format string, args ...any) testResult {
		res.Reasons = append(res.Reasons, fmt.Sprintf(format, args...))
		res.Took = time.Since(start).Round(time.Microsecond).String()
		return res
	}
	events, err := decodeEvents(t.event)
	if err != nil {
		return fail("the event: %v", err)
	}
	var log bytes.Buffer
	ev := events[0]
	env, drivers := recordEnv(prog, &log, givenLists(t.lists), func() time.Time { return ev.Received })
	if err := seed(t.given, drivers, prog); err != nil {
		return fail("given: %v", err)
	}
	if err := answer(env, prog, t.answers); err != nil {
		return fail("answers.jsonl: %v", err)
	}
	if t.signals != nil {
		sig, err := parseSignals(t.signals)
		if err != nil {
			return fail("signals.json: %v", err)
		}
		env.Signals = sig
	}
	var runErrs, held []string
	for i, e := range events {
		ev = e
		flows := prog.Flows(ev.Source, ev.Type)
		if len(flows) == 0 {
			return fail("event %d: no flow handles %s events", i+1, ev.Type)
		}
		for _, f := range flows {
			r, err := f.Run(context.Background(), env, ev, engine.Options{Approved: t.approved})
			if err != nil {
				runErrs = append(runErrs, err.Error())
			}
			if r.Status == engine.Held {
				held = append(held, r.Reason)
			}
		}
	}
	if t.hasReview {
		joined := strings.Join(held, "; ")
		if len(held) == 0 || !strings.Contains(joined, t.expectReview) {
			if len(held) == 0 {
				joined = "nothing was held"
			}
			return fail("want a review with %q; got: %s", t.expectReview, joined)
		}
		if !t.hasExpect && !t.hasFailure {
			res.Pass = true
			res.Took = time.Since(start).Round(time.Microsecond).String()
			return res
		}
	} else if len(held) > 0 {
		return fail("held for review: %s", strings.Join(held, "; "))
	}
	got, err := decodeOps(log.Bytes())
	if err != nil {
		return fail("%v", err)
	}
	if t.hasFailure {
		joined := strings.Join(runErrs, "; ")
		if joined == "" || !strings.Contains(joined, t.expectFailure) {
			if joined == "" {
				joined = "the run succeeded"
			}
			return fail("want a failure with %q; got: %s", t.expectFailure, joined)
		}
		if !t.hasExpect {
			res.Pass = true
			res.Took = time.Since(start).Round(time.Microsecond).String()
			return res
		}
	} else if len(runErrs) > 0 {
		return fail("the run failed: %s", strings.Join(runErrs, "; "))
	}
	want, err := decodeOps(t.expect)
	if err != nil {
		return fail("expect.jsonl: %v", err)
	}
	for _, r := range compareOps(want, got) {
		res.Reasons = append(res.Reasons, r)
	}
	res.Pass = len(res.Reasons) == 0
	res.Took = time.Since(start).Round(time.Microsecond).String()
	return res
}

// decodeEvents reads the events of a test: one JSON value, or several in
// a row.
func decodeEvents(b []byte) ([]*engine.Event, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	var out []*engine.Event
	for {
		var raw json.RawMessage
		if err := d.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", len(out)+1, err)
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		return nil, errors.New("no event")
	}
	return out, nil
}

// answer makes the gateway drivers of env answer their creates as a
// test's answers.jsonl says: each line is the next answer to a create of
// its entity, its fields typed by the object the create binds.
func answer(env *engine.Env, prog *engine.Program, answers []byte) error {
	if len(bytes.TrimSpace(answers)) == 0 {
		return nil
	}
	queues := map[string][]erp.Record{}
	d := json.NewDecoder(bytes.NewReader(answers))
	d.UseNumber()
	d.DisallowUnknownFields()
	for {
		var a struct {
			Connector string         `json:"connector"`
			Entity    string         `json:"entity"`
			Fields    map[string]any `json:"fields"`
		}
		if err := d.Decode(&a); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		alias, obj, err := answeredObject(env, prog, a.Connector, a.Entity)
		if err != nil {
			return err
		}
		rec := erp.Record{}
		for k, v := range a.Fields {
			if _, ok := obj.Field(k); !ok {
				return fmt.Errorf("%s has no field %q", obj.Name, k)
			}
			if rec[k], err = givenValue(v, obj, k); err != nil {
				return fmt.Errorf("%s.%s: %v", a.Entity, k, err)
			}
		}
		queues[alias+"\x00"+a.Entity] = append(queues[alias+"\x00"+a.Entity], rec)
	}
	for _, c := range prog.Plan.Connectors {
		if drv := env.ERP[c.Alias]; c.Kind != "erp" && drv != nil {
			env.ERP[c.Alias] = &answering{Driver: drv, alias: c.Alias, queues: queues}
		}
	}
	return nil
}

// answeredObject finds the gateway object an answer is for: the object a
// create of entity binds (paytrace.Sale for Sale).
func answeredObject(env *engine.Env, prog *engine.Program, connector, entity string) (string, *schema.Object, error) {
	var aliases, creatable []string
	for _, c := range prog.Plan.Connectors {
		if c.Kind == "erp" || env.ERP[c.Alias] == nil || connector != "" && connector != c.Alias {
			continue
		}
		aliases = append(aliases, c.Alias)
		if conn := prog.Connector(c.Alias); conn.Entities[entity] != nil && conn.Objects[conn.Name+"."+entity] != nil {
			creatable = append(creatable, c.Alias)
		}
	}
	switch {
	case len(creatable) == 1:
		conn := prog.Connector(creatable[0])
		return creatable[0], conn.Objects[conn.Name+"."+entity], nil
	case len(creatable) > 1:
		return "", nil, fmt.Errorf("%s is created in %s: name the connector of the answer", entity, strings.Join(creatable, " and "))
	case len(aliases) == 0 && connector != "":
		return "", nil, fmt.Errorf("an answer is to a create in %s, but the flows create nothing there", connector)
	case len(aliases) == 0:
		return "", nil, errors.New("an answer is to a create in a gateway, but the flows create nothing in one")
	}
	return "", nil, fmt.Errorf("no gateway the flows create in (%s) creates %q", strings.Join(aliases, ", "), entity)
}

// answering is a gateway driver whose creates answer what the test says.
type answering struct {
	erp.Driver
	alias  string
	queues map[string][]erp.Record
}

func (a *answering) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	rec, err := a.Driver.Write(ctx, w)
	q := a.queues[a.alias+"\x00"+w.Entity]
	if err != nil || len(q) == 0 {
		return rec, err
	}
	a.queues[a.alias+"\x00"+w.Entity] = q[1:]
	for k, v := range q[0] {
		rec[k] = v
	}
	return rec, nil
}

// givenSignals is a test's signals.json: the fields it gives over those of
// an event with no flags.
type givenSignals map[string]any

func (g givenSignals) Signals(context.Context, *engine.Event) (map[string]any, error) {
	out := engine.NoSignals()
	for k, v := range g {
		out[k] = v
	}
	return out, nil
}

func parseSignals(b []byte) (givenSignals, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	fields := map[string]bool{}
	for _, f := range engine.NoSignalsFields() {
		fields[f] = true
	}
	for k := range m {
		if !fields[k] {
			return nil, fmt.Errorf("signals have no field %q (%s)", k, strings.Join(engine.NoSignalsFields(), ", "))
		}
	}
	return m, nil
}

// givenLists serves a test's list items.
type givenLists map[string][]byte

func (g givenLists) List(_ context.Context, list string, _ map[string]any) ([]map[string]any, error) {
	raw, ok := g[list]
	if !ok {
		return nil, fmt.Errorf("the test gives no items for list %s (add a list.%s.jsonl section)", list, list)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out []map[string]any
	for {
		var item map[string]any
		if err := d.Decode(&item); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("list.%s.jsonl: %v", list, err)
		}
		out = append(out, item)
	}
}

// seed adds the given records to the ERP.
func seed(given []byte, drivers map[string]*record.Driver, prog *engine.Program) error {
	d := json.NewDecoder(bytes.NewReader(given))
	d.UseNumber()
	d.DisallowUnknownFields()
	for {
		var g struct {
			Connector string         `json:"connector"`
			Entity    string         `json:"entity"`
			Fields    map[string]any `json:"fields"`
		}
		if err := d.Decode(&g); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		alias, drv := g.Connector, drivers[g.Connector]
		if drv == nil && len(drivers) == 1 {
			for a, only := range drivers {
				alias, drv = a, only
			}
		}
		if drv == nil || g.Entity == "" {
			return fmt.Errorf("a given record needs an entity (and a connector when the flows import several ERPs)")
		}
		var obj *schema.Object
		if c := prog.Connector(alias); c != nil {
			obj = c.Entities[g.Entity]
		}
		rec := erp.Record{}
		for k, v := range g.Fields {
			tv, err := givenValue(v, obj, k)
			if err != nil {
				return fmt.Errorf("%s.%s: %v", g.Entity, k, err)
			}
			rec[k] = tv
		}
		drv.Seed(g.Entity, rec)
	}
}

// givenValue types a JSON value of a given record or an answer as the
// driver would read the field: an int field's number an int64, another
// number a decimal, a timestamp field's text a time (RFC 3339, or a date).
func givenValue(v any, obj *schema.Object, field string) (any, error) {
	var t *schema.Type
	if obj != nil {
		if f, ok := obj.Field(field); ok {
			t = f.Type
		}
	}
	switch x := v.(type) {
	case json.Number:
		if t != nil && t.Kind == schema.Int {
			return x.Int64()
		}
		return decimal.NewFromString(string(x))
	case string:
		if t == nil || t.Kind != schema.Timestamp {
			return x, nil
		}
		if ts, err := time.Parse(time.RFC3339, x); err == nil {
			return ts, nil
		}
		return time.Parse(time.DateOnly, x)
	}
	return v, nil
}

func decodeOps(b []byte) ([]*recordedOp, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	d.DisallowUnknownFields() // a typo ("feilds") must not pass unnoticed
	var out []*recordedOp
	for {
		var o recordedOp
		if err := d.Decode(&o); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, &o)
	}
}

// compareOps matches the expected writes to the writes, in order: each
// expected write names its op and entity, and may give its key and some
// fields; every given one must match.
func compareOps(want, got []*recordedOp) []string {
	var reasons []string
	for i, w := range want {
		if i >= len(got) {
			reasons = append(reasons, fmt.Sprintf("write %d: want %s %s, got no more writes", i+1, w.Op, w.Entity))
			continue
		}
		g := got[i]
		if g.Op != w.Op || g.Entity != w.Entity || (w.Key != "" && g.Key != w.Key) {
			reasons = append(reasons, fmt.Sprintf("write %d: want %s, got %s", i+1, describeOp(w), describeOp(g)))
			continue
		}
		reasons = append(reasons, compareFields(fmt.Sprintf("write %d (%s)", i+1, describeOp(g)), w.Fields, g.Fields)...)
		if w.Lines != nil {
			if len(w.Lines) != len(g.Lines) {
				reasons = append(reasons, fmt.Sprintf("write %d (%s): %d lines, want %d", i+1, describeOp(g), len(g.Lines), len(w.Lines)))
				continue
			}
			for j := range w.Lines {
				reasons = append(reasons, compareFields(fmt.Sprintf("write %d (%s) line %d", i+1, describeOp(g), j+1), w.Lines[j], g.Lines[j])...)
			}
		}
	}
	for i := len(want); i < len(got); i++ {
		reasons = append(reasons, fmt.Sprintf("write %d: unexpected %s", i+1, describeOp(got[i])))
	}
	return reasons
}

// compareFields reports the fields of want that got does not match.
func compareFields(where string, want, got map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(want) {
		if !sameNumberOrValue(want[k], got[k]) {
			out = append(out, fmt.Sprintf("%s: %s = %s, want %s", where, k, jsonText(got[k]), jsonText(want[k])))
		}
	}
	return out
}

func describeOp(o *recordedOp) string {
	s := o.Op + " " + o.Entity
	if o.Key != "" {
		s += " key " + jsonText(o.Key)
	}
	return s
}

// sameNumberOrValue compares JSON values, numbers by value (20 == 20.00).
func sameNumberOrValue(a, b any) bool {
	x, okx := a.(json.Number)
	y, oky := b.(json.Number)
	if okx && oky {
		dx, err1 := decimal.NewFromString(string(x))
		dy, err2 := decimal.NewFromString(string(y))
		return err1 == nil && err2 == nil && dx.Equal(dy)
	}
	return sameValue(a, b)
}
