package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/store"
)

func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", `Usage: flowc replay (--events FILE.jsonl | --store PATH [--since TIME]) --old DIR|REV --new DIR [--format text|json]

Runs two versions of a flow package over the same recorded events, each
with the record ERP driver (nothing is sent anywhere), and prints how the
ERP writes differ, event by event: writes added (+), removed (-) and changed
(~, field by field, old -> new); then the totals: events that differ, writes
by kind and entity, and amounts per currency in each version.

--old is a directory, or a git revision: the package at the path of --new
as it was in that revision (read with git archive). --store reads the
events flowd received (--since an RFC 3339 time or a duration such as 720h).
Ledgers read gateway lists (a payout's balance transactions): from
--store, a replay uses the items flowd recorded when it ran the event;
events from a file carry none, so their ledgers fail alike in both versions
and show no difference.
Exits 0 when the writes are the same, 1 when they differ, 2 on a usage or
I/O error or flows that do not compile.`, stderr)
	events := fs.String("events", "", "recorded events, one JSON event per line")
	storePath := fs.String("store", "", "flowd's store, to replay the events it received")
	since := fs.String("since", "", "with --store: only events received since this time (RFC 3339) or this long ago (720h)")
	oldDir := fs.String("old", "", "the old version: a directory or a git revision")
	newDir := fs.String("new", "", "the new version's directory")
	format := fs.String("format", "text", "text or json")
	env := fs.String("env", "", "use the param values of `env NAME { ... }` in both versions")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if (*events == "") == (*storePath == "") || *oldDir == "" || *newDir == "" || fs.NArg() > 0 || (*format != "text" && *format != "json") ||
		(*since != "" && *storePath == "") {
		fmt.Fprintln(stderr, "flowc replay: give --events or --store (--since goes with --store), --old and --new (see flowc replay --help)")
		return 2
	}
	if *storePath != "" {
		if _, err := os.Stat(*storePath); err != nil {
			fmt.Fprintf(stderr, "flowc replay: no store at %s\n", *storePath)
			return 2
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "flowc replay: %v\n", err)
		return 2
	}
	old := *oldDir
	if info, err := os.Stat(old); err != nil || !info.IsDir() {
		dir, cleanup, err := checkoutRevision(old, *newDir)
		if err != nil {
			return fail(err)
		}
		defer cleanup()
		old = dir
	}
	cfg := compiler.Config{Env: *env}
	start := time.Now()
	lists := &storedLists{}
	before, err := loadVersion(old, cfg, lists)
	if err != nil {
		return fail(fmt.Errorf("--old: %w", err))
	}
	after, err := loadVersion(*newDir, cfg, lists)
	if err != nil {
		return fail(fmt.Errorf("--new: %w", err))
	}
	df := newDiffer()
	err = eachEvent(*events, *storePath, *since, lists, func(ev *engine.Event) error {
		b, err := before.run(ev)
		if err != nil {
			return err
		}
		a, err := after.run(ev)
		if err != nil {
			return err
		}
		df.add(ev, b, a)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	rep := df.report()
	if rep.Events == 0 {
		return fail(errors.New("no events to replay"))
	}
	rep.Took = time.Since(start).Round(time.Millisecond).String()
	if *format == "json" {
		writeJSONOut(stdout, rep)
	} else {
		rep.writeText(stdout)
	}
	if rep.Changed > 0 {
		return 1
	}
	return 0
}

// eachEvent calls fn with each event to replay, in the order they
// arrived, reading them one at a time.
func eachEvent(file, storePath, since string, lists *storedLists, fn func(*engine.Event) error) error {
	n := 0 // the line of the file, or the store's nth event
	decode := func(b []byte) error {
		ev, err := decodeEvent(b)
		if err != nil {
			return fmt.Errorf("event %d: %w", n, err)
		}
		return fn(ev)
	}
	if file == "" {
		from, err := parseSince(since)
		if err != nil {
			return err
		}
		st, err := store.Open(storePath)
		if err != nil {
			return err
		}
		defer st.Close()
		lists.st = st
		return st.EachPayload(context.Background(), from, func(seq int64, b []byte) error {
			n++
			lists.seq = seq
			return decode(b)
		})
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		n++
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			// The scanner reuses its buffer; the event keeps its bytes.
			if err := decode(bytes.Clone(b)); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 720h", s)
	}
	return t, nil
}

// checkoutRevision extracts the package at newDir's path as it was in rev
// into a temporary directory.
func checkoutRevision(rev, newDir string) (string, func(), error) {
	if strings.HasPrefix(rev, "-") {
		return "", nil, fmt.Errorf("--old %s: not a directory, and not a revision", rev)
	}
	abs, err := filepath.Abs(newDir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs) // git names the real path
	}
	if err != nil {
		return "", nil, err
	}
	top, err := exec.Command("git", "-C", abs, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", nil, fmt.Errorf("--old %s is not a directory, and %s is not in a git repository to read it from", rev, newDir)
	}
	root := strings.TrimSpace(string(top))
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command("git", "-C", root, "archive", "--format=tar", "--end-of-options", rev, filepath.ToSlash(rel))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("--old %s is neither a directory nor a git revision (git archive: %s)", rev, strings.TrimSpace(errb.String()))
	}
	tmp, err := os.MkdirTemp("", "flowc-replay-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue // the package's files: flows, and what they read (a tenant's $metadata)
		}
		name := filepath.Join(tmp, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, tmp+string(filepath.Separator)) {
			continue // no paths out of the directory
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			cleanup()
			return "", nil, err
		}
		b, err := io.ReadAll(tr)
		if err == nil {
			err = os.WriteFile(name, b, 0o644)
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return filepath.Join(tmp, rel), cleanup, nil
}

// recordedOp is one ERP operation as the record driver logs it.
type recordedOp struct {
	Op         string           `json:"op"`
	Entity     string           `json:"entity"`
	Key        string           `json:"key,omitempty"`
	Fields     map[string]any   `json:"fields"`
	LineEntity string           `json:"line_entity,omitempty"`
	Lines      []map[string]any `json:"lines,omitempty"`
}

func (o *recordedOp) id() string { return o.Op + " " + o.Entity + " " + o.Key }

// outcome is what one version did with one event.
type outcome struct {
	ops []*recordedOp
	err string
}

// eventLog collects the record driver's lines of the event being run.
type eventLog struct{ buf bytes.Buffer }

func (l *eventLog) Write(p []byte) (int, error) { return l.buf.Write(p) }

// storedLists serves gateway lists from what flowd recorded for the event
// being replayed (seq); events from a file have none.
type storedLists struct {
	st  *store.Store
	seq int64
}

func (s *storedLists) List(ctx context.Context, list string, args map[string]any) ([]map[string]any, error) {
	if s.st == nil {
		return nil, fmt.Errorf("%s: events from a file carry no gateway lists (replay from --store)", list)
	}
	a, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	raw, ok, err := s.st.List(ctx, s.seq, list, string(a))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: flowd recorded no items for this event", list)
	}
	var items []map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&items); err != nil {
		return nil, fmt.Errorf("%s: the recorded items: %w", list, err)
	}
	return items, nil
}

// flowVersion is one version of the package, ready to run events with the
// record driver.
type flowVersion struct {
	prog *engine.Program
	env  *engine.Env
	log  *eventLog
	dir  string // stripped from failures, so the same failure reads alike in both versions
}

func loadVersion(dir string, cfg compiler.Config, lists engine.Lister) (*flowVersion, error) {
	prog, diags, err := engine.Load(dir, cfg)
	if err == nil && prog == nil {
		err = fmt.Errorf("%s does not compile:\n%s", dir, diagLines(diags))
	}
	if err != nil {
		return nil, err
	}
	v := &flowVersion{prog: prog, log: &eventLog{}, dir: filepath.Clean(dir) + string(filepath.Separator)}
	v.env, _ = recordEnv(prog, v.log, lists, neverLate)
	return v, nil
}

// run runs ev and returns the operations the flows would send.
func (v *flowVersion) run(ev *engine.Event) (outcome, error) {
	var out outcome
	v.log.buf.Reset()
	var errs []string
	for _, f := range v.prog.Flows(ev.Source, ev.Type) {
		if _, err := f.Run(context.Background(), v.env, ev, engine.Options{}); err != nil {
			errs = append(errs, strings.ReplaceAll(err.Error(), v.dir, ""))
		}
	}
	out.err = strings.Join(errs, "; ")
	ops, err := decodeOps(v.log.buf.Bytes())
	if err != nil {
		return out, fmt.Errorf("reading the record log: %w", err)
	}
	out.ops = ops
	return out, nil
}

// replayReport is the difference between two versions.
type replayReport struct {
	Events  int            `json:"events"`
	Changed int            `json:"changed"` // events whose writes differ
	Diffs   []eventDiff    `json:"diffs"`
	Writes  map[string]int `json:"writes"` // "added|removed|changed <entity>" -> count
	Old     totals         `json:"old"`
	New     totals         `json:"new"`
	Took    string         `json:"took"`
}

type totals struct {
	Records int               `json:"records"`
	Amounts map[string]string `json:"amounts"` // currency -> sum of amount fields
}

type eventDiff struct {
	Event   string        `json:"event"`
	Type    string        `json:"type"`
	Added   []*recordedOp `json:"added,omitempty"`
	Removed []*recordedOp `json:"removed,omitempty"`
	Changed []opChange    `json:"changed,omitempty"`
	Errors  *errorsDiff   `json:"errors,omitempty"`
}

type errorsDiff struct {
	Old string `json:"old"`
	New string `json:"new"`
}

type opChange struct {
	Op     string        `json:"op"`
	Fields []fieldChange `json:"fields"`
}

type fieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// differ accumulates the report one event at a time, so a replay of many
// events holds only their differences.
type differ struct {
	rep              *replayReport
	oldSums, newSums map[string]decimal.Decimal
}

func newDiffer() *differ {
	return &differ{rep: &replayReport{Writes: map[string]int{}, Old: totals{Amounts: map[string]string{}}, New: totals{Amounts: map[string]string{}}},
		oldSums: map[string]decimal.Decimal{}, newSums: map[string]decimal.Decimal{}}
}

// add compares what the two versions did with ev.
func (df *differ) add(ev *engine.Event, b, a outcome) {
	rep, oldSums, newSums := df.rep, df.oldSums, df.newSums
	rep.Events++
	{
		rep.Old.Records += count(b.ops, oldSums)
		rep.New.Records += count(a.ops, newSums)
		d := eventDiff{Event: ev.ID, Type: ev.Type}
		olds := map[string]*recordedOp{}
		for _, o := range b.ops {
			olds[o.id()] = o
		}
		seen := map[string]bool{}
		for _, o := range a.ops {
			seen[o.id()] = true
			prev, ok := olds[o.id()]
			if !ok {
				d.Added = append(d.Added, o)
				rep.Writes["added "+o.Entity]++
				continue
			}
			if ch := fieldChanges(prev, o); len(ch) > 0 {
				d.Changed = append(d.Changed, opChange{Op: o.id(), Fields: ch})
				rep.Writes["changed "+o.Entity]++
			}
		}
		for _, o := range b.ops {
			if !seen[o.id()] {
				d.Removed = append(d.Removed, o)
				rep.Writes["removed "+o.Entity]++
			}
		}
		if b.err != a.err {
			d.Errors = &errorsDiff{Old: b.err, New: a.err}
		}
		if d.Added != nil || d.Removed != nil || d.Changed != nil || d.Errors != nil {
			rep.Changed++
			rep.Diffs = append(rep.Diffs, d)
		}
	}
}

// report finishes the report.
func (df *differ) report() *replayReport {
	for c, v := range df.oldSums {
		df.rep.Old.Amounts[c] = v.String()
	}
	for c, v := range df.newSums {
		df.rep.New.Amounts[c] = v.String()
	}
	return df.rep
}

// count adds ops' records to the total and their amounts (fields named
// ...Amount, per the record's CurrencyCode) to sums.
func count(ops []*recordedOp, sums map[string]decimal.Decimal) int {
	n := 0
	add := func(fields map[string]any) {
		n++
		cur, _ := fields["CurrencyCode"].(string)
		for k, v := range fields {
			num, ok := v.(json.Number)
			if !ok || !strings.HasSuffix(k, "Amount") {
				continue
			}
			if d, err := decimal.NewFromString(string(num)); err == nil {
				sums[cur] = sums[cur].Add(d)
			}
		}
	}
	for _, o := range ops {
		add(o.Fields)
		for _, l := range o.Lines {
			add(l)
		}
	}
	return n
}

func fieldChanges(a, b *recordedOp) []fieldChange {
	var out []fieldChange
	names := map[string]bool{}
	for k := range a.Fields {
		names[k] = true
	}
	for k := range b.Fields {
		names[k] = true
	}
	for _, k := range sortedKeys(names) {
		if !sameValue(a.Fields[k], b.Fields[k]) {
			out = append(out, fieldChange{Field: k, Old: a.Fields[k], New: b.Fields[k]})
		}
	}
	if len(a.Lines) != len(b.Lines) {
		out = append(out, fieldChange{Field: "(lines)", Old: len(a.Lines), New: len(b.Lines)})
		return out
	}
	for i := range a.Lines {
		for _, ch := range fieldChanges(&recordedOp{Fields: a.Lines[i]}, &recordedOp{Fields: b.Lines[i]}) {
			ch.Field = fmt.Sprintf("line %d %s", i+1, ch.Field)
			out = append(out, ch)
		}
	}
	return out
}

func sameValue(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *replayReport) writeText(w io.Writer) {
	show := func(v any) string {
		if v == nil {
			return "(unset)"
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, d := range r.Diffs {
		fmt.Fprintf(w, "%s %s\n", d.Event, d.Type)
		for _, o := range d.Added {
			fmt.Fprintf(w, "  + %s\n", o.id())
		}
		for _, o := range d.Removed {
			fmt.Fprintf(w, "  - %s\n", o.id())
		}
		for _, c := range d.Changed {
			fmt.Fprintf(w, "  ~ %s\n", c.Op)
			for _, f := range c.Fields {
				fmt.Fprintf(w, "      %s: %s -> %s\n", f.Field, show(f.Old), show(f.New))
			}
		}
		if d.Errors != nil {
			fmt.Fprintf(w, "  ! failure: %q -> %q\n", d.Errors.Old, d.Errors.New)
		}
	}
	fmt.Fprintf(w, "%d of %d events write differently\n", r.Changed, r.Events)
	for _, k := range sortedKeys(r.Writes) {
		fmt.Fprintf(w, "  %-40s %d\n", k, r.Writes[k])
	}
	fmt.Fprintf(w, "records: old %d, new %d\n", r.Old.Records, r.New.Records)
	curs := map[string]bool{}
	for c := range r.Old.Amounts {
		curs[c] = true
	}
	for c := range r.New.Amounts {
		curs[c] = true
	}
	for _, c := range sortedKeys(curs) {
		name := c
		if name == "" {
			name = "(no currency)"
		}
		fmt.Fprintf(w, "amounts %s: old %s, new %s\n", name, orZero(r.Old.Amounts[c]), orZero(r.New.Amounts[c]))
	}
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
