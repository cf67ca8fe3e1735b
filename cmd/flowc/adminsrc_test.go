package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/daemon"
	"github.com/flowhq/flow/runtime/erp/record"
	"github.com/flowhq/flow/runtime/store"
	"github.com/flowhq/flow/stdlib/d365fo"
)

// The admin commands work the same through a running flowd's admin API
// (--url, with the admin token) as on its store: list and show dead
// letters, replay one, approve and reject held events, reconcile payouts.
func TestAdminCommandsThroughTheAdminAPI(t *testing.T) {
	path := storeWithADeadLetter(t)
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, now := context.Background(), time.Unix(1700000100, 0)
	for i, id := range []string{"evt_held", "evt_held2"} {
		st.Accept(ctx, "stripe", id, "charge.succeeded", []byte(`{}`), now)
		seq := int64(3 + i)
		st.Start(ctx, seq, "0123456789abcdef", now)
		if err := st.Finish(ctx, seq, 1, "0123456789abcdef", store.Outcome{Status: store.Review, Flow: "charge_to_sales_order", Step: 3,
			Error: "900.00 USD is 791.2 robust deviations above this customer's median"}, now); err != nil {
			t.Fatal(err)
		}
	}
	d, err := daemon.New(daemon.Config{Flows: "../../flows/stripe_d365", Company: "usmf", Store: st, StripeSecrets: []string{"whsec_x"},
		ERP: record.New(io.Discard, d365fo.Default()), AdminToken: "t0ken", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	t.Setenv("FLOWD_ADMIN_TOKEN", "wrong")
	_, errs := flowc(t, 1, "dlq", "list", "--url", srv.URL)
	if !strings.Contains(errs, "admin routes need the admin token") || !strings.Contains(errs, "HTTP 401") {
		t.Errorf("a wrong token: %s", errs)
	}
	t.Setenv("FLOWD_ADMIN_TOKEN", "t0ken")
	out, _ := flowc(t, 0, "dlq", "list", "--url", srv.URL)
	if !strings.Contains(out, "evt_bad") || strings.Contains(out, "evt_ok") {
		t.Errorf("dlq list --url:\n%s", out)
	}
	out, _ = flowc(t, 0, "dlq", "show", "evt_bad", "--url", srv.URL)
	if !strings.Contains(out, "lookup cust: no customer") {
		t.Errorf("dlq show --url:\n%s", out)
	}
	out, _ = flowc(t, 0, "review", "list", "--url", srv.URL)
	if !strings.Contains(out, "evt_held") || !strings.Contains(out, "robust deviations") {
		t.Errorf("review list --url:\n%s", out)
	}
	flowc(t, 0, "review", "approve", "evt_held", "--url", srv.URL, "--note", "called them")
	flowc(t, 2, "review", "reject", "evt_held2", "--url", srv.URL) // a rejection needs a note
	flowc(t, 0, "review", "reject", "evt_held2", "--url", srv.URL, "--note", "not them")
	_, errs = flowc(t, 1, "review", "approve", "evt_ok", "--url", srv.URL)
	if !strings.Contains(errs, "not in review") {
		t.Errorf("approving a done event: %s", errs)
	}
	out, _ = flowc(t, 0, "dlq", "replay", "evt_bad", "--url", srv.URL)
	if !strings.Contains(out, "1 dead letter(s) queued") {
		t.Errorf("dlq replay --url: %s", out)
	}
	for id, want := range map[string]store.Status{"evt_held": store.Received, "evt_held2": store.Skipped, "evt_bad": store.Received} {
		ev, err := st.Event(ctx, id)
		if err != nil || ev.Status != want {
			t.Errorf("%s: %+v %v; want %s", id, ev, err, want)
		}
	}
	out, _ = flowc(t, 0, "recon", "--url", srv.URL, "--format", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("recon --url: %s", out)
	}
	// The token can come from a file, and a URL must be one.
	tok := t.TempDir() + "/token"
	os.WriteFile(tok, []byte("t0ken\n"), 0o600)
	t.Setenv("FLOWD_ADMIN_TOKEN", "")
	flowc(t, 0, "events", "list", "--url", srv.URL, "--token-file", tok)
	flowc(t, 2, "events", "list", "--url", "127.0.0.1:8787")
}

// flowc aggregates lists and shows a flow aggregate's entries, from the
// store or through the admin API.
func TestAggregatesCommand(t *testing.T) {
	path := storeWithADeadLetter(t)
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for i, cus := range []string{"cus_1", "cus_2", "cus_1"} {
		v := []byte(`{"payments":` + []string{"1", "1", "2"}[i] + `,"total_paid":"` + []string{"20.00", "5.50", "45.50"}[i] + `"}`)
		if _, _, err := st.UpdateAggregate(ctx, "customer_stats", cus, "stats:evt_"+string(rune('a'+i)), func([]byte) ([]byte, error) { return v, nil }); err != nil {
			t.Fatal(err)
		}
	}
	d, err := daemon.New(daemon.Config{Flows: "../../flows/stripe_d365", Company: "usmf", Store: st, StripeSecrets: []string{"whsec_x"},
		ERP: record.New(io.Discard, d365fo.Default()), AdminToken: "t0ken", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	t.Setenv("FLOWD_ADMIN_TOKEN", "t0ken")
	for _, where := range [][]string{{"--store", path}, {"--url", srv.URL}} {
		out, _ := flowc(t, 0, append([]string{"aggregates", "list", "customer_stats"}, where...)...)
		if !strings.Contains(out, "cus_1") || !strings.Contains(out, `"total_paid":"45.50"`) || strings.Index(out, "cus_1") > strings.Index(out, "cus_2") {
			t.Errorf("aggregates list %v:\n%s", where, out)
		}
		out, _ = flowc(t, 0, append([]string{"aggregates", "show", "customer_stats", "cus_2"}, where...)...)
		if !strings.Contains(out, `"total_paid": "5.50"`) {
			t.Errorf("aggregates show %v:\n%s", where, out)
		}
		_, errs := flowc(t, 1, append([]string{"aggregates", "show", "customer_stats", "cus_9"}, where...)...)
		if !strings.Contains(errs, "no entry cus_9") {
			t.Errorf("a missing entry %v: %s", where, errs)
		}
	}
}
