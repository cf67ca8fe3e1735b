package paytrace_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/gateway/paytrace"
	"github.com/flowhq/flow/runtime/gateway/paytrace/paytracetest"
	"github.com/flowhq/flow/runtime/store"
)

// inboxIDs lists the PayTrace events in the store, oldest first.
func inboxIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	evs, err := st.Events(context.Background(), store.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.ID+" "+e.Type)
	}
	sort.Strings(out)
	return out
}

// failingCursor is a store whose cursor cannot move: a crash after the
// events were accepted and before the cursor was.
type failingCursor struct{ *store.Store }

func (failingCursor) PutCursor(context.Context, string, string) error {
	return errors.New("crash")
}

// The poller survives restarts (and a crash between accepting and moving
// its cursor) without missing or repeating a transaction, and catches up
// the days it was down.
func TestPollerSurvivesRestarts(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data")
	}
	ctx := context.Background()
	srv := paytracetest.New("demo123", "demo123")
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "flow.db")
	clk := &clock{t: time.Date(2024, 5, 1, 23, 0, 0, 0, chicago)}
	poll := func(inbox paytrace.Inbox) (paytrace.Result, error) {
		p := &paytrace.Poller{Client: newClient(t, srv.URL, clk.Now), Inbox: inbox, Loc: chicago, Now: clk.Now,
			Since: time.Date(2024, 4, 30, 0, 0, 0, 0, chicago)}
		return p.Poll(ctx)
	}
	open := func() *store.Store {
		st, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}

	srv.Add(paytracetest.Sale(1001, "SO-1", "110", "8.10", "4/30/2024 10:00:00 AM"),
		paytracetest.Sale(1002, "SO-2", "25.5", "", "5/1/2024 10:15:00 PM"))
	st := open()
	res, err := poll(st)
	if err != nil || res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("first poll: %+v, %v", res, err)
	}
	if v, _, _ := st.Cursor(ctx, paytrace.CursorName); v != "2024-04-30" {
		t.Fatalf("cursor %q, want a day before today", v)
	}

	// A crash after accepting, before the cursor moved: the next poll reads
	// the same days again, and the inbox drops what it holds.
	srv.Add(paytracetest.Sale(1003, "SO-3", "7", "0.00", "5/1/2024 10:50:00 PM"))
	if _, err := poll(failingCursor{st}); err == nil || !strings.Contains(err.Error(), "moving the cursor") {
		t.Fatalf("crash: %v", err)
	}
	st.Close()

	// flowd is down for two days; transactions happen meanwhile, one of
	// them late on the last day the first run saw.
	srv.Add(paytracetest.Sale(1004, "SO-4", "12.34", "1.00", "5/1/2024 11:59:59 PM"),
		paytracetest.Refund(1005, "SO-1", "-10.00", "5/2/2024 9:00:00 AM"),
		paytracetest.Sale(1006, "SO-6", "99.99", "0", "5/3/2024 8:00:00 AM"))
	clk.Add(34 * time.Hour) // 5/3 09:00
	st = open()
	res, err = poll(st)
	if err != nil || res.Accepted != 3 || res.Duplicates != 3 {
		t.Fatalf("after the restart: %+v, %v", res, err)
	}
	want := []string{"paytrace:1001 transaction.sale", "paytrace:1002 transaction.sale", "paytrace:1003 transaction.sale",
		"paytrace:1004 transaction.sale", "paytrace:1005 transaction.refund", "paytrace:1006 transaction.sale"}
	if got := inboxIDs(t, st); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("inbox %v\nwant %v", got, want)
	}
	ex := srv.Exports()
	if last := ex[len(ex)-1]; last != [2]string{"04/30/2024", "05/03/2024"} {
		t.Fatalf("the catch-up exported %v", last)
	}
	if v, _, _ := st.Cursor(ctx, paytrace.CursorName); v != "2024-05-02" {
		t.Fatalf("cursor %q", v)
	}
	// Events hold exact amounts and zoned times.
	ev, err := st.Event(ctx, "paytrace:1005")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := st.Payload(ctx, ev.Seq)
	for _, s := range []string{`"amount":"10"`, `"created":"2024-05-02T09:00:00-05:00"`, `"gateway":"paytrace"`, `"invoice_id":"SO-1"`} {
		if !strings.Contains(string(p), s) {
			t.Errorf("payload lacks %s: %s", s, p)
		}
	}
}

// A transaction that cannot be read is reported and keeps the cursor
// where it was; the readable ones are stored; a garbage export stores
// nothing.
func TestPollerReportsBadInput(t *testing.T) {
	ctx := context.Background()
	srv := paytracetest.New("demo123", "demo123")
	defer srv.Close()
	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	p := &paytrace.Poller{Client: newClient(t, srv.URL, clk.Now), Inbox: st, Loc: time.UTC, Now: clk.Now}
	bad := paytracetest.Sale(2, "SO-2", "1.005", "", "5/1/2024 10:00:00 AM")
	srv.Add(paytracetest.Sale(1, "SO-1", "5", "", "5/1/2024 9:00:00 AM"), bad)
	res, err := p.Poll(ctx)
	var bt *paytrace.BadTransaction
	if !errors.As(err, &bt) || bt.ID != "2" || bt.Field != "amount" || res.Accepted != 1 {
		t.Fatalf("a bad amount: %+v, %v", res, err)
	}
	if _, ok, _ := st.Cursor(ctx, paytrace.CursorName); ok {
		t.Fatal("the cursor moved past a transaction that was not stored")
	}
	srv.Override("/v1/transactions/export/by_date_range", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success": true, "response_code": 1, "transactions": "none"}`))
	})
	if _, err := p.Poll(ctx); !errors.Is(err, paytrace.ErrUnavailable) {
		t.Fatalf("a garbage export: %v", err)
	}
	if n := len(inboxIDs(t, st)); n != 1 {
		t.Fatalf("%d events", n)
	}
	if _, err := (&paytrace.Poller{Client: p.Client, Inbox: st}).Poll(ctx); err == nil {
		t.Fatal("a poller without a zone polled")
	}
}
