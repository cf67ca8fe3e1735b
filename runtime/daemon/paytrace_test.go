package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/erp/record"
	"github.com/flowhq/flow/runtime/gateway/paytrace/paytracetest"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/d365fo"
)

// paytraceDaemon is a daemon over flows/paytrace_d365 and the store at db.
func paytraceDaemon(t *testing.T, db string, w *syncBuffer) (*Daemon, *store.Store) {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secrets := map[string]string{"paytrace_username": "demo123", "paytrace_password": "demo123", "paytrace_integrator_id": "9999"}
	d, err := New(Config{Flows: "../../flows/paytrace_d365", Store: st, ERP: record.New(w, d365fo.Default()), Company: "usmf",
		Secret: func(name string) (string, error) { return secrets[name], nil },
		Retry:  Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 5, WaitPoll: 20 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d, st
}

// paytraceIDs returns the ids of the PayTrace events in the inbox, once
// there are want of them (or fails).
func paytraceIDs(t *testing.T, st *store.Store, want int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := st.Events(context.Background(), store.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range evs {
			ids = append([]string{e.ID}, ids...)
		}
		if len(ids) >= want || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// flowd polls PayTrace on the import's schedule, survives a restart without
// missing or repeating a transaction, and its executor runs the
// paytrace_d365 flows on what the poller found.
func TestPayTracePollerRunsFlowsAcrossRestarts(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data")
	}
	srv := paytracetest.New("demo123", "demo123")
	defer srv.Close()
	// Times early today in the merchant's zone: the first poll exports today.
	now := time.Now().In(chicago)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chicago)
	at := func(d time.Duration) string { return midnight.Add(time.Hour - d).Format("1/2/2006 3:04:05 PM") }
	srv.Add(paytracetest.Sale(5001, "SO-5001", "110", "8.10", at(3*time.Minute)),
		paytracetest.Sale(5002, "SO-5002", json.Number("25.5"), "", at(2*time.Minute)))
	db := filepath.Join(t.TempDir(), "flow.db")
	var erpLog syncBuffer

	d, st := paytraceDaemon(t, db, &erpLog)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.RunPayTrace(ctx, PayTraceOptions{BaseURL: srv.URL}) }()
	if ids := paytraceIDs(t, st, 2); strings.Join(ids, " ") != "paytrace:5001 paytrace:5002" {
		t.Fatalf("first run: %v", ids)
	}
	cancel()
	<-done
	st.Close()

	// While flowd is down: a refund of the first sale, a new sale.
	srv.Add(paytracetest.Refund(5003, "SO-5001", "-10.00", at(time.Minute)),
		paytracetest.Sale(5004, "SO-5004", "0.99", "0", at(time.Second)))
	d, st = paytraceDaemon(t, db, &erpLog)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go d.RunPayTrace(ctx, PayTraceOptions{BaseURL: srv.URL})
	want := "paytrace:5001 paytrace:5002 paytrace:5003 paytrace:5004"
	if ids := paytraceIDs(t, st, 4); strings.Join(ids, " ") != want {
		t.Fatalf("after the restart: %v, want %s", ids, want)
	}
	if n := srv.Count("/v1/transactions/export/by_date_range"); n != 2 {
		t.Fatalf("%d exports, want one per start", n)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(ctx, ln)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c[store.Done] == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flows did not run: %v\n%s", c, erpLog.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	log := erpLog.String()
	for _, s := range []string{`"key":"paytrace:5001"`, `"CreditAmount":110`, `"key":"paytrace-refund:5003"`, `"DebitAmount":10`, `"CreditAmount":0.99`} {
		if !strings.Contains(log, s) {
			t.Errorf("the ERP log lacks %s:\n%s", s, log)
		}
	}
	if strings.Count(log, `"entity":"SalesOrderHeadersV2"`) != 3 {
		t.Errorf("sales orders written: %d, want 3\n%s", strings.Count(log, `"entity":"SalesOrderHeadersV2"`), log)
	}
}
