package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/runtime/gateway/stripe"
	"github.com/flowhq/flow/runtime/internal/stripemock"
	"github.com/flowhq/flow/runtime/store"
)

const secret = "whsec_test_secret"

// harness is flowd on loopback against the sandbox ERP over HTTP.
type harness struct {
	t     testing.TB
	d     *Daemon
	st    *store.Store
	sb    erpSandbox
	url   string
	stop  context.CancelFunc
	done  chan error
	flows string
	erp   erpCase
	// erpBase is the sandbox's base URL ("" for SL's).
	erpBase string
}

// setup is what a test may change before the daemon starts.
type setup struct {
	Config
	driverTimeout time.Duration
	erp           erpCase // default erps[0], F&O
}

// onERP runs the harness against c's sandbox, driver and flows.
func onERP(c erpCase) option {
	return func(s *setup) { s.erp, s.Flows, s.Company = c, c.flows, c.company }
}

type option func(*setup)

func start(t testing.TB, opts ...option) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg := setup{driverTimeout: 2 * time.Second, erp: erps[0], Config: Config{
		Flows:         erps[0].flows,
		Company:       erps[0].company,
		StripeSecrets: []string{"whsec_old", secret},
		Retry:         Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 10, WaitPoll: 20 * time.Millisecond},
		Grace:         5 * time.Second,
		Lookups:       engine.NewLookupCache(time.Minute, 1000),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	sb, err := cfg.erp.sandbox(filepath.Join(dir, "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store = st
	cfg.ERP, err = cfg.erp.driver(sb, base, cfg.driverTimeout, cfg.Company)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg.Config)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, d: d, st: st, sb: sb, url: "http://" + ln.Addr().String(), stop: cancel, done: make(chan error, 1), flows: cfg.Flows, erp: cfg.erp, erpBase: base}
	go func() { h.done <- d.Serve(ctx, ln) }()
	t.Cleanup(h.shutdown)
	return h
}

func (h *harness) shutdown() {
	if h.stop != nil {
		h.stop()
		if err := <-h.done; err != nil {
			h.t.Errorf("serve: %v", err)
		}
		h.stop = nil
	}
}

// charge is a charge.succeeded event from the real fixture, with an id,
// customer and order of the test's choosing.
func charge(t testing.TB, n int) []byte {
	t.Helper()
	return fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
		ev["id"] = fmt.Sprintf("evt_test_%04d", n)
		obj["id"] = fmt.Sprintf("ch_test_%04d", n)
		obj["customer"] = fmt.Sprintf("cus_test_%d", n%7)
		obj["created"] = json.Number(fmt.Sprint(1648320032 + 120*n)) // two minutes apart: no duplicates
		obj["metadata"] = map[string]any{"order_id": fmt.Sprintf("SO-%05d", n)}
		obj["billing_details"].(map[string]any)["name"] = fmt.Sprintf("Customer %d", n%7)
	})
}

func fixture(t testing.TB, name string, edit func(ev, obj map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/stripe/events", name))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ev, ev["data"].(map[string]any)["object"].(map[string]any))
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// post delivers body as Stripe would, signed now.
func (h *harness) post(body []byte) (int, string) {
	return h.postWith(body, "application/json; charset=utf-8", stripe.Sign(body, secret, time.Now()))
}

func (h *harness) postWith(body []byte, contentType, signature string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/webhooks/stripe", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get returns the body of a GET of path.
func (h *harness) get(path string) string {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// settle waits until no event has work left that could run soon.
func (h *harness) settle(timeout time.Duration) map[store.Status]int {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := h.st.Counts(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if c[store.Received]+c[store.Running]+c[store.Retry] == 0 {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("events still open after %s: %v", timeout, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) count(entity string) int {
	h.t.Helper()
	n, err := h.sb.Count(entity)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestChargesBecomeSalesOrdersOnce(t *testing.T) {
	forEachERP(t, testChargesBecomeSalesOrdersOnce)
}

func testChargesBecomeSalesOrdersOnce(t *testing.T, c erpCase) {
	h := start(t, onERP(c))
	const n = 20
	for i := range n {
		if code, body := h.post(charge(t, i)); code != http.StatusOK {
			t.Fatalf("event %d: HTTP %d %s", i, code, body)
		}
	}
	// Redeliveries are acknowledged and change nothing.
	for i := range 5 {
		code, body := h.post(charge(t, i))
		if code != http.StatusOK || !strings.Contains(body, `"duplicate": true`) {
			t.Fatalf("redelivery %d: HTTP %d %s", i, code, body)
		}
	}
	if st := h.settle(20 * time.Second); st[store.Done] != n {
		t.Fatalf("statuses = %v, want %d done", st, n)
	}
	h.exactlyOnce(n)
	if got := h.count(c.customers); got != 7 {
		t.Errorf("%s: %d records, want 7", c.customers, got)
	}
	recs, err := h.sb.Records(c.payment)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if fmt.Sprint(r[c.paymentField]) != c.paymentWant || (c.name == "d365fo" && r["CurrencyCode"] != "USD") {
			t.Fatalf("payment line = %v; want %s %s (2000 minor units of USD)", r, c.paymentField, c.paymentWant)
		}
	}
	metrics := h.get("/metrics")
	for _, want := range []string{`flow_flow_runs_total{flow="charge_to_sales_order",result="done"} 20`,
		fmt.Sprintf(`flow_step_seconds_count{flow="charge_to_sales_order",kind="write"} %d`, n*c.chargeWrites),
		`flow_events_accepted_total{source="stripe"} 20`, `flow_events_duplicate_total{source="stripe"} 5`,
		`flow_plan_info{version="` + h.d.Version() + `"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	ev, err := h.st.Event(context.Background(), "evt_test_0003")
	if err != nil {
		t.Fatal(err)
	}
	trail, err := h.st.Trail(context.Background(), ev.Seq)
	// The customer's lookup, then each write step once, written, all on
	// the running plan.
	lookups, writes := 0, 0
	for _, e := range trail {
		switch {
		case e.Kind == "lookup":
			lookups++
		case e.Kind == "write" && strings.HasSuffix(e.Detail, ": written"):
			writes++
		}
		if e.PlanVersion != h.d.Version() {
			err = fmt.Errorf("a step on plan %s", e.PlanVersion)
		}
	}
	if err != nil || len(trail) < 1+c.chargeWrites || lookups == 0 || writes != c.chargeWrites {
		t.Fatalf("trail = %+v, %v", trail, err)
	}
}

func TestBadInputIsRefusedAndNothingStored(t *testing.T) {
	h := start(t)
	good := charge(t, 1)
	old := time.Now().Add(-10 * time.Minute)
	truncated := good[:len(good)/2]
	cases := []struct {
		name        string
		body        []byte
		contentType string
		signature   string
		want        int
	}{
		{"forged signature", good, "application/json", stripe.Sign(good, "whsec_attacker", time.Now()), 400},
		{"no signature", good, "application/json", "", 400},
		{"stale timestamp", good, "application/json", stripe.Sign(good, secret, old), 400},
		{"garbled header", good, "application/json", "v1=zz,t=yesterday", 400},
		{"wrong content type", good, "text/plain", stripe.Sign(good, secret, time.Now()), 400},
		{"truncated JSON, validly signed", truncated, "application/json", stripe.Sign(truncated, secret, time.Now()), 400},
		{"not an event", []byte(`{"hello":"world"}`), "application/json", stripe.Sign([]byte(`{"hello":"world"}`), secret, time.Now()), 400},
		{"oversized body", bytes.Repeat([]byte(" "), MaxWebhookBody+1), "application/json", "t=1,v1=00", 413},
	}
	for _, c := range cases {
		if code, body := h.postWith(c.body, c.contentType, c.signature); code != c.want {
			t.Errorf("%s: HTTP %d %s, want %d", c.name, code, body, c.want)
		}
	}
	counts, _ := h.st.Counts(context.Background())
	if len(counts) != 0 {
		t.Fatalf("rejected deliveries were stored: %v", counts)
	}
	// An event type no flow handles is stored and marked, not an error.
	unknown := fixture(t, "customer.created.json", nil)
	if code, body := h.post(unknown); code != 200 {
		t.Fatalf("customer.created: HTTP %d %s", code, body)
	}
	if c := h.settle(5 * time.Second); c[store.NoFlow] != 1 {
		t.Fatalf("statuses = %v, want one no_flow", c)
	}
	// Rejections are counted by reason.
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, reason := range []string{"bad_signature", "stale", "content_type", "too_large", "malformed"} {
		if !strings.Contains(string(b), `reason="`+reason+`"`) {
			t.Errorf("/metrics has no rejection with reason %s", reason)
		}
	}
}

func TestPermanentFailureIsADeadLetterAndReplays(t *testing.T) {
	h := start(t)
	h.post(charge(t, 1))
	c := h.settle(10 * time.Second)
	if c[store.Done] != 1 {
		t.Fatalf("statuses = %v", c)
	}
	// An amount that is not what Stripe's schema promises fails the same
	// way every time: a dead letter with the step and reason.
	broken := fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
		ev["id"], obj["id"] = "evt_broken", "ch_broken"
		obj["metadata"] = map[string]any{"order_id": "SO-BROKEN"}
		obj["customer"] = "cus_broken"
		obj["amount"] = "lots"
	})
	// A charge without a customer cannot become a customer record.
	h.post(fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
		ev["id"], obj["id"] = "evt_guest", "ch_guest"
		obj["metadata"] = map[string]any{"order_id": "SO-GUEST"}
	}))
	h.post(broken)
	h.settle(10 * time.Second)
	dead, err := h.st.Events(context.Background(), store.Filter{Status: store.Dead})
	if err != nil || len(dead) != 2 {
		t.Fatalf("dead letters = %v, %v", dead, err)
	}
	if !strings.Contains(dead[1].Error, "CustomerAccount is empty") {
		t.Errorf("guest charge: %s", dead[1].Error)
	}
	if dead[0].Flow != "charge_to_sales_order" || dead[0].Step == 0 || !strings.Contains(dead[0].Error, "amount") || dead[0].PlanVersion == "" {
		t.Fatalf("dead letter = %+v; want flow, step, plan version and a reason naming the amount", dead[0])
	}
	// Replay runs it again on the current plan (and fails again: the
	// payload is what it is).
	req, _ := http.NewRequest(http.MethodPost, h.url+"/admin/dlq/evt_broken/replay", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replay: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	time.Sleep(50 * time.Millisecond)
	h.settle(10 * time.Second)
	ev, _ := h.st.Event(context.Background(), "evt_broken")
	if ev.Status != store.Dead || ev.Attempts != 2 {
		t.Fatalf("after replay: %+v", ev)
	}
}

func TestFaultsEndAppliedOnceOrDeadLettered(t *testing.T) {
	forEachERP(t, testFaultsEndAppliedOnceOrDeadLettered)
}

func testFaultsEndAppliedOnceOrDeadLettered(t *testing.T, c erpCase) {
	h := start(t, onERP(c), func(s *setup) {
		s.Retry = Retry{Base: 2 * time.Millisecond, Max: 20 * time.Millisecond, MaxAttempts: 6, WaitPoll: 10 * time.Millisecond}
		s.driverTimeout = 300 * time.Millisecond
	})
	// 20% of ERP requests (SL: database transactions) fail, of every kind
	// the sandbox injects.
	h.sb.Fail(0.2)
	const n = 40
	for i := range n {
		if code, body := h.post(charge(t, i)); code != http.StatusOK {
			t.Fatalf("event %d: HTTP %d %s", i, code, body)
		}
	}
	st := h.settle(60 * time.Second)
	if st[store.Done]+st[store.Dead] != n {
		t.Fatalf("statuses = %v: every event must end done or dead", st)
	}
	dead, _ := h.st.Events(context.Background(), store.Filter{Status: store.Dead})
	for _, e := range dead {
		if e.Error == "" || e.Flow == "" {
			t.Errorf("dead letter without a reason: %+v", e)
		}
	}
	t.Logf("under faults: %d done, %d dead-lettered", st[store.Done], st[store.Dead])

	// The faults clear; replaying the dead letters applies them.
	h.sb.Fail(0)
	if _, err := h.st.Requeue(context.Background(), 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.d.sched.requeued()
	if st := h.settle(30 * time.Second); st[store.Done] != n {
		t.Fatalf("after replay: %v, want %d done", st, n)
	}
	h.exactlyOnce(n)
}

// exactlyOnce checks that the sandbox holds each event's records once.
func (h *harness) exactlyOnce(n int) {
	h.t.Helper()
	c := h.erp
	for entity, per := range c.perCharge {
		if got := h.count(entity); got != per*n {
			h.t.Errorf("%s: %d records, want %d (exactly %d per event)", entity, got, per*n, per)
		}
	}
	heads, err := h.sb.Records(c.unique[0])
	if err != nil {
		h.t.Fatal(err)
	}
	seen := map[any]bool{}
	for _, r := range heads {
		if seen[r[c.unique[1]]] {
			h.t.Errorf("two %s hold key %v", c.unique[0], r[c.unique[1]])
		}
		seen[r[c.unique[1]]] = true
	}
	custs := map[string]bool{}
	recs, _ := h.sb.Records(c.customers)
	for _, r := range recs {
		acct := fmt.Sprint(r[c.customerNo])
		if custs[acct] {
			h.t.Errorf("customer %s created twice", acct)
		}
		custs[acct] = true
	}
}

func TestHotReloadKeepsEveryEventAndRefusesABrokenEdit(t *testing.T) {
	flows := t.TempDir()
	for _, f := range []string{"package.flow", "order_to_cash.flow", "refund_credit.flow", "payout_journal.flow"} {
		b, err := os.ReadFile(filepath.Join("../../flows/stripe_d365", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(flows, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := start(t, func(s *setup) { s.Flows, s.Watch = flows, true })
	v1 := h.d.Version()
	time.Sleep(100 * time.Millisecond) // let the watcher start

	// Events keep arriving while the flow is edited.
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			default:
			}
			if code, _ := h.post(charge(t, n)); code == http.StatusOK {
				n++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	o2c := filepath.Join(flows, "order_to_cash.flow")
	src, _ := os.ReadFile(o2c)
	edited := strings.Replace(string(src), `"Stripe " + ch.id + " order "`, `"Card " + ch.id + " order "`, 1)
	if edited == string(src) {
		t.Fatal("the edit did not apply")
	}
	if err := os.WriteFile(o2c, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := h.waitVersion(v1)

	// A broken edit keeps the running plan and says why in /readyz.
	if err := os.WriteFile(o2c, []byte(strings.Replace(edited, "ch.amount", "ch.amout", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.d.reloadErr.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the broken edit was not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h.d.Version() != v2 {
		t.Fatalf("a broken edit replaced the plan")
	}
	resp, err := http.Get(h.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "amout") {
		t.Fatalf("/readyz = %d %s; want ready, naming the broken field", resp.StatusCode, body)
	}
	close(stop)
	n := <-sent
	c := h.settle(20 * time.Second)
	if c[store.Done] != n {
		t.Fatalf("%d events sent, statuses %v", n, c)
	}
	// Every event records the plan it ran on; both plans ran some.
	evs, _ := h.st.Events(context.Background(), store.Filter{Limit: 1000})
	versions := map[string]int{}
	for _, e := range evs {
		versions[e.PlanVersion]++
	}
	if versions[v1] == 0 || versions[v2] == 0 || len(versions) != 2 {
		t.Fatalf("plan versions of events = %v; want some on %s and some on %s", versions, v1, v2)
	}
}

// waitVersion waits until the plan version differs from old.
func (h *harness) waitVersion(old string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.d.Version() == old {
		if time.Now().After(deadline) {
			h.t.Fatal("the plan was not reloaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h.d.Version()
}

func TestWebhookSecretComesFromTheFlowsSecret(t *testing.T) {
	asked := ""
	h := start(t, func(s *setup) {
		s.StripeSecrets = nil
		s.Secret = func(name string) (string, error) {
			asked = name
			return "whsec_rolled_out, " + secret, nil
		}
	})
	if asked != "stripe_webhook_secret" {
		t.Fatalf("resolved secret %q; the flows name stripe_webhook_secret", asked)
	}
	if code, body := h.post(charge(t, 1)); code != http.StatusOK {
		t.Fatalf("HTTP %d %s", code, body)
	}

	st, err := store.Open(filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = New(Config{Flows: "../../flows/stripe_d365", Company: "usmf", Store: st, ERP: h.d.cfg.ERP,
		Secret: func(string) (string, error) { return "", nil }})
	if err == nil || !strings.Contains(err.Error(), "secret stripe_webhook_secret") {
		t.Fatalf("unset secret: %v", err)
	}
	_, err = New(Config{Flows: "../../flows/stripe_d365", Company: "demf", Store: st, ERP: h.d.cfg.ERP, StripeSecrets: []string{secret}})
	if err == nil || !strings.Contains(err.Error(), `writes to company "usmf"`) {
		t.Fatalf("a driver for another company: %v", err)
	}
}

func TestWaitingEventsDoNotStarveNewOnes(t *testing.T) {
	forEachERP(t, testWaitingEventsDoNotStarveNewOnes)
}

func testWaitingEventsDoNotStarveNewOnes(t *testing.T, ec erpCase) {
	h := start(t, onERP(ec))
	h.d.sched.mu.Lock()
	h.d.sched.window = 3 // fewer than the refunds that will wait
	h.d.sched.mu.Unlock()
	const n = 6
	refund := ec.refund
	if refund == nil {
		refund = chargeRefunded
	}
	for i := range n { // refunds first: their orders do not exist yet
		if code, body := h.post(refund(t, i)); code != http.StatusOK {
			t.Fatalf("HTTP %d %s", code, body)
		}
	}
	time.Sleep(100 * time.Millisecond) // they load and start waiting
	for i := range n {
		h.post(charge(t, i))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, _ := h.st.Counts(context.Background())
		if c[store.Done] == 2*n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statuses %v: waiting refunds kept the charges they wait for out", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	recs, err := h.sb.Records(ec.refunds)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, r := range recs {
		if ec.isRefund == nil || ec.isRefund(r) {
			got++
		}
	}
	if got != n {
		t.Fatalf("%d refunds in %s, want %d", got, ec.refunds, n)
	}
}

// chargeRefunded is charge.refunded for charge(t, i), refunded once (by
// refund re_test_i).
func chargeRefunded(t testing.TB, i int) []byte {
	return fixture(t, "charge.refunded.json", func(ev, obj map[string]any) {
		ev["id"], obj["id"] = fmt.Sprintf("evt_refund_%d", i), fmt.Sprintf("ch_test_%04d", i)
		obj["metadata"] = map[string]any{"order_id": fmt.Sprintf("SO-%05d", i)}
		obj["customer"] = fmt.Sprintf("cus_test_%d", i)
		re := obj["refunds"].(map[string]any)["data"].([]any)[0].(map[string]any)
		re["id"], re["charge"] = fmt.Sprintf("re_test_%04d", i), obj["id"]
	})
}

// refundCreated is refund.created for the refund of charge(t, i), the
// refund chargeRefunded holds.
func refundCreated(t testing.TB, i int) []byte {
	return fixture(t, "charge.refunded.json", func(ev, obj map[string]any) {
		re := obj["refunds"].(map[string]any)["data"].([]any)[0].(map[string]any)
		re["id"], re["charge"] = fmt.Sprintf("re_test_%04d", i), fmt.Sprintf("ch_test_%04d", i)
		ev["id"], ev["type"] = fmt.Sprintf("evt_refund_%d", i), "refund.created"
		ev["data"].(map[string]any)["object"] = re
	})
}

// A payout becomes one balanced journal: its balance transactions come
// from the Stripe API (stripe-go against stripe-mock), the journal goes to
// the sandbox over the F&O driver, and a redelivered payout.paid posts
// nothing more.
func TestPayoutJournalFromTheStripeAPI(t *testing.T) {
	forEachERP(t, testPayoutJournalFromTheStripeAPI)
}

func testPayoutJournalFromTheStripeAPI(t *testing.T, ec erpCase) {
	api := stripemock.Start(t)
	h := start(t, onERP(ec), func(s *setup) {
		s.Lists = map[string]engine.Lister{"stripe": stripe.NewClient("sk_test_123", api, nil)}
	})
	// The payout is what its transactions (as stripe-mock answers them) net to.
	client := stripe.NewClient("sk_test_123", api, nil)
	items, err := client.List(context.Background(), "balance_transactions", map[string]any{"payout": "po_000000000000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	var net int64
	for _, it := range items {
		if it["type"] != "payout" {
			n, _ := it["net"].(json.Number).Int64()
			net += n
		}
	}
	payout := fixture(t, "payout.paid.json", func(_, obj map[string]any) { obj["amount"] = json.Number(fmt.Sprint(net)) })
	for range 2 {
		if code, body := h.post(payout); code != http.StatusOK {
			t.Fatalf("HTTP %d %s", code, body)
		}
	}
	if c := h.settle(20 * time.Second); c[store.Done] != 1 {
		ev, _ := h.st.Events(context.Background(), store.Filter{})
		t.Fatalf("statuses %v: %+v", c, ev)
	}
	ec.journal(t, h.sb)
	// What the run read from the Stripe API is kept for replays.
	ev, err := h.st.Event(context.Background(), "evt_000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := h.st.List(context.Background(), ev.Seq, "balance_transactions", `{"payout":"po_000000000000000000000000"}`); !ok || err != nil {
		t.Fatalf("the balance transactions were not recorded: %v %v", ok, err)
	}
}

func TestAdminRoutesNeedTheTokenWhenSet(t *testing.T) {
	h := start(t, func(s *setup) { s.AdminToken = "t0ken" })
	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/admin/events", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", code)
	}
	if code := get("Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: HTTP %d", code)
	}
	if code := get("Bearer t0ken"); code != http.StatusOK {
		t.Errorf("the token: HTTP %d", code)
	}
	// Webhooks stay open (they are signed), health too.
	if code, _ := h.post(charge(t, 1)); code != http.StatusOK {
		t.Errorf("webhook: HTTP %d", code)
	}
	if !strings.Contains(h.get("/healthz"), "up") {
		t.Error("healthz needs no token")
	}
}
