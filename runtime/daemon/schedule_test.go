package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/erp/record"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/d365fo"
)

func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct{ spec, after, want string }{
		{"*/5 * * * *", "2024-05-01T10:02:00Z", "2024-05-01T10:05:00Z"},
		{"*/5 * * * *", "2024-05-01T10:05:00Z", "2024-05-01T10:10:00Z"},
		{"0 2 * * *", "2024-05-01T02:00:00Z", "2024-05-02T02:00:00Z"},
		{"30 9 * * 1-5", "2024-05-03T10:00:00Z", "2024-05-06T09:30:00Z"}, // Friday -> Monday
		{"0 0 1 * *", "2024-12-15T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 12 13 * 5", "2024-09-01T00:00:00Z", "2024-09-06T12:00:00Z"}, // the 13th or a Friday
		{"0 0 * * 7", "2024-05-01T00:00:00Z", "2024-05-05T00:00:00Z"},   // 7 is Sunday
		{"5/20 * * * *", "2024-05-01T10:06:00Z", "2024-05-01T10:25:00Z"},
		{"0 0 31 2 *", "2024-01-01T00:00:00Z", ""}, // never
	} {
		spec, err := parseCron(c.spec, time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		got := spec.next(at(c.after))
		if c.want == "" {
			if !got.IsZero() {
				t.Errorf("%s after %s = %s, want never", c.spec, c.after, got)
			}
			continue
		}
		if !got.Equal(at(c.want)) {
			t.Errorf("%s after %s = %s, want %s", c.spec, c.after, got.Format(time.RFC3339), c.want)
		}
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data")
	}
	spec, _ := parseCron("0 2 * * *", chicago)
	if got := spec.next(at("2024-05-01T12:00:00Z")); !got.Equal(at("2024-05-02T07:00:00Z")) { // 02:00 CDT
		t.Errorf("in Chicago: %s", got)
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *"} {
		if _, err := parseCron(bad, time.UTC); err == nil {
			t.Errorf("parseCron(%q) succeeded", bad)
		}
	}
	s, _ := parseCron("*/5 * * * *", time.UTC)
	if last, n := s.latest(at("2024-05-01T10:02:00Z"), at("2024-05-01T10:21:00Z")); n != 4 || !last.Equal(at("2024-05-01T10:20:00Z")) {
		t.Errorf("latest = %s, %d", last, n)
	}
}

// syncBuffer is a bytes.Buffer safe for the record driver's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const scheduleFlows = `package sched

import "d365fo" as erp {
    company: "usmf",
}

flow every_five {
    on schedule "*/5 * * * *" as tick
    upsert erp.SalesOrderHeadersV2 key tick.id {
        SalesOrderNumber: "T-" + string(tick.time.getMinutes()),
        OrderingCustomerAccountNumber: "SCHED",
        CustomersOrderReference: "tick " + tick.id + " at " + string(tick.time),
    }
}
`

// scheduleDaemon is a daemon over the flows in dir and the store at db,
// with a record ERP that logs to w.
func scheduleDaemon(t *testing.T, dir, db string, w io.Writer) (*Daemon, *store.Store) {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := New(Config{Flows: dir, Store: st, ERP: record.New(w, d365fo.Default()), Company: "usmf",
		Retry:  Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 3, WaitPoll: 20 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d, st
}

func ticks(t *testing.T, st *store.Store) []string {
	t.Helper()
	evs, err := st.Events(context.Background(), store.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Source == engine.ScheduleSource {
			out = append([]string{e.GatewayID()}, out...) // oldest first
		}
	}
	return out
}

// A schedule fires once per due time on a fake clock, survives a restart
// (and a crash between the tick and its cursor) without missing or
// repeating a tick, catches up with the latest missed tick only, and the
// executor runs its flow with tick.id and tick.time.
func TestScheduleFiresDurably(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sched.flow"), []byte(scheduleFlows), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "flow.db")
	ctx := context.Background()
	clock := time.Date(2024, 5, 1, 10, 2, 0, 0, time.UTC)
	var erpLog syncBuffer
	d, st := scheduleDaemon(t, dir, db, &erpLog)
	r := &scheduleRunner{d: d, now: func() time.Time { return clock }, loc: time.UTC}

	if next := r.fire(ctx); !next.Equal(time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC)) || len(ticks(t, st)) != 0 {
		t.Fatalf("first sight: next %s, ticks %v", next, ticks(t, st))
	}
	clock = clock.Add(3 * time.Minute) // 10:05: due
	r.fire(ctx)
	clock = clock.Add(time.Minute) // 10:06: nothing new
	r.fire(ctx)
	r.fire(ctx)
	if got := strings.Join(ticks(t, st), " "); got != "every_five@2024-05-01T10:05:00Z" {
		t.Fatalf("ticks by 10:06: %s", got)
	}

	// flowd stops; it comes back at 10:21, having missed 10:10, 10:15 and
	// 10:20: the latest runs, once.
	st.Close()
	d, st = scheduleDaemon(t, dir, db, &erpLog)
	clock = time.Date(2024, 5, 1, 10, 21, 0, 0, time.UTC)
	r = &scheduleRunner{d: d, now: func() time.Time { return clock }, loc: time.UTC}
	if next := r.fire(ctx); !next.Equal(time.Date(2024, 5, 1, 10, 25, 0, 0, time.UTC)) {
		t.Fatalf("after the restart: next %s", next)
	}
	// A crash after the tick was accepted but before its cursor moved: the
	// tick comes again, and the inbox drops it.
	if err := st.PutCursor(ctx, "schedule:every_five", "2024-05-01T10:15:00Z"); err != nil {
		t.Fatal(err)
	}
	r.fire(ctx)
	want := "every_five@2024-05-01T10:05:00Z every_five@2024-05-01T10:20:00Z"
	if got := strings.Join(ticks(t, st), " "); got != want {
		t.Fatalf("ticks after the restart: %s, want %s", got, want)
	}
	if v, _, _ := st.Cursor(ctx, "schedule:every_five"); v != "2024-05-01T10:20:00Z" {
		t.Fatalf("cursor %s", v)
	}

	// The executor runs the ticks: Program.Flows routes them to their flow.
	if fl := d.program().Flows(engine.ScheduleSource, "every_five"); len(fl) != 1 {
		t.Fatalf("flows of a tick: %d", len(fl))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Serve(sctx, ln) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c[store.Done] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticks did not run: %v\n%s", c, erpLog.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	log := erpLog.String()
	for _, s := range []string{`"key":"every_five@2024-05-01T10:20:00Z"`, `tick every_five@2024-05-01T10:05:00Z at 2024-05-01T10:05:00Z`} {
		if !strings.Contains(log, s) {
			t.Errorf("the ERP log lacks %s:\n%s", s, log)
		}
	}
}

// RunSchedules, on the real clock, returns when its context ends.
func TestRunSchedulesStops(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sched.flow"), []byte(scheduleFlows), 0o644); err != nil {
		t.Fatal(err)
	}
	d, st := scheduleDaemon(t, dir, filepath.Join(t.TempDir(), "flow.db"), io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.RunSchedules(ctx); err == nil {
		t.Fatal("RunSchedules returned nil")
	}
	if _, ok, err := st.Cursor(context.Background(), "schedule:every_five"); err != nil || !ok {
		t.Fatalf("the schedule was not seen: %v, %v", ok, err)
	}
}
