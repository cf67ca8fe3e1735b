package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

// The console's data needs the admin token: as a bearer token, or as the
// session cookie that signing in with it sets; a cookie alone cannot change
// anything without the console's header, and a forged or expired cookie is
// refused.
func TestConsoleSessionNeedsTheToken(t *testing.T) {
	h := start(t, func(s *setup) { s.AdminToken = "t0ken" })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	do := func(method, path, body string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp
	}

	shell := do("GET", "/console/", "")
	page, _ := io.ReadAll(shell.Body)
	if shell.StatusCode != 200 || !strings.Contains(string(page), "flowd console") ||
		!strings.Contains(shell.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("console shell: %d %q %v", shell.StatusCode, page, shell.Header)
	}
	for _, path := range []string{"/admin/payouts", "/admin/plan", "/admin/stats", "/admin/events", "/admin/dlq"} {
		if r := do("GET", path, ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the token: HTTP %d", path, r.StatusCode)
		}
	}
	if r := do("POST", "/console/login", `{"token": "guess"}`); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token signed in: HTTP %d", r.StatusCode)
	}
	r := do("POST", "/console/login", `{"token": "t0ken"}`)
	cookie := r.Header.Get("Set-Cookie")
	if r.StatusCode != http.StatusNoContent || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("sign-in: HTTP %d, cookie %q", r.StatusCode, cookie)
	}
	if r := do("GET", "/admin/plan", ""); r.StatusCode != 200 {
		t.Fatalf("plan with the session: HTTP %d", r.StatusCode)
	} else {
		var info struct {
			Version string `json:"version"`
			Plan    struct {
				Flows []struct{ Name string } `json:"flows"`
			} `json:"plan"`
		}
		json.NewDecoder(r.Body).Decode(&info)
		if info.Version != h.d.Version() || len(info.Plan.Flows) == 0 {
			t.Errorf("plan: %+v", info)
		}
	}
	if r := do("POST", "/admin/dlq/replay", ""); r.StatusCode != http.StatusForbidden {
		t.Errorf("a replay with the cookie but not the console's header: HTTP %d", r.StatusCode)
	}
	if r := do("POST", "/admin/dlq/replay", "", consoleHeader, "1"); r.StatusCode != http.StatusOK {
		t.Errorf("a replay from the console: HTTP %d", r.StatusCode)
	}

	// Cookies the daemon did not sign, or that expired, are refused.
	for name, value := range map[string]string{
		"forged":  "99999999999.00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"expired": h.d.session(time.Now().Add(-time.Minute)),
		"garbage": "not-a-session",
	} {
		req, _ := http.NewRequest("GET", h.url+"/admin/plan", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s cookie: HTTP %d", name, resp.StatusCode)
		}
	}
}

// An event's page shows its payload with who the customer is masked, and
// what operations need (ids, amounts, currency) kept.
func TestEventDetailMasksPersonalData(t *testing.T) {
	h := start(t)
	h.post(charge(t, 3))
	h.settle(10 * time.Second)
	body := h.get("/admin/events/evt_test_0003")
	var out struct {
		Event   store.Event     `json:"event"`
		Trail   []store.Step    `json:"trail"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	p := string(out.Payload)
	if strings.Contains(p, "Customer 3") || strings.Contains(p, "@") || !strings.Contains(p, masked) {
		t.Errorf("personal data shows: %s", p)
	}
	if !strings.Contains(p, `"ch_test_0003"`) || !strings.Contains(p, `"amount": 2000`) || len(out.Trail) == 0 {
		t.Errorf("the payload lost what operations need, or no trail: %s %v", p, out.Trail)
	}
}

// recorder is a Notifier that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	alerts []Alert
}

func (r *recorder) Notify(_ context.Context, a Alert) error {
	r.mu.Lock()
	r.alerts = append(r.alerts, a)
	r.mu.Unlock()
	return nil
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.alerts {
		out = append(out, a.Kind)
	}
	return out
}

// A flood of one kind of alert sends the first few, then one summary of
// what was held back when the window ends.
func TestAlertsAreRateLimitedAndSummarized(t *testing.T) {
	rec := &recorder{}
	a := newAlerter(rec, 2, time.Minute, slog.New(slog.DiscardHandler))
	now := time.Unix(1_700_000_000, 0)
	a.now = func() time.Time { return now }
	for range 5 {
		a.fire(Alert{Kind: AlertDeadLetter, Title: "dead"})
	}
	a.fire(Alert{Kind: AlertReloadFailed, Title: "reload"}) // another kind has its own budget
	now = now.Add(2 * time.Minute)
	a.fire(Alert{Kind: AlertDeadLetter, Title: "dead again"})
	a.close()
	got := strings.Join(rec.kinds(), ",")
	want := "dead_letter,dead_letter,reload_failed,alerts_dropped,dead_letter"
	if got != want {
		t.Fatalf("alerts %s, want %s", got, want)
	}
	if s := rec.alerts[3].Title; !strings.Contains(s, "3 more dead_letter alerts") {
		t.Errorf("summary: %q", s)
	}
}

// The webhook notifier posts the chat {"text": ...} shape over real HTTP;
// dead letters and a failed reload reach it, with no payload data.
func TestDeadLettersAndFailedReloadsAlertOverAWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	flows := copyFlows(t)
	h := start(t, func(s *setup) {
		s.Notifier = &WebhookNotifier{URL: hook.URL}
		s.Flows = flows
	})
	h.post(fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
		ev["id"], obj["id"] = "evt_guest", "ch_guest"
		obj["metadata"] = map[string]any{"order_id": "SO-GUEST"}
		obj["billing_details"].(map[string]any)["name"] = "Private Person"
	}))
	h.settle(10 * time.Second)
	if err := os.WriteFile(filepath.Join(flows, "broken.flow"), []byte("package stripe_d365\nflow f {\n on stripe.charge.nope as ev\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Reload(); err == nil {
		t.Fatal("a broken flow reloaded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.shutdown()
	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]string{}
	for _, m := range got {
		kinds[m["kind"].(string)] = m["text"].(string)
	}
	if !strings.Contains(kinds[AlertDeadLetter], "stripe:evt_guest") || strings.Contains(kinds[AlertDeadLetter], "Private Person") {
		t.Errorf("dead letter alert: %q", kinds[AlertDeadLetter])
	}
	if !strings.Contains(kinds[AlertReloadFailed], "broken.flow") {
		t.Errorf("reload alert: %q (all: %v)", kinds[AlertReloadFailed], got)
	}
}

// copyFlows copies the example flows to a directory the test may break.
func copyFlows(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../flows/stripe_d365/*.flow")
	if err != nil || len(files) == 0 {
		t.Fatalf("flows: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A charge far from its customer's history waits in review with the
// numbers behind the flag; approved it runs on and writes once, rejected it
// ends skipped with the note.
func TestAnUnusualChargeWaitsForAPerson(t *testing.T) {
	rec := &recorder{}
	h := start(t, func(s *setup) { s.Notifier = rec })
	t0 := int64(1648320032)
	post := func(id string, amount int64, at int64) {
		t.Helper()
		h.post(fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
			ev["id"], obj["id"] = id, "ch_"+id
			obj["customer"], obj["amount"], obj["created"] = "cus_steady", json.Number(fmt.Sprint(amount)), json.Number(fmt.Sprint(at))
			obj["metadata"] = map[string]any{"order_id": "SO-" + id}
		}))
	}
	for i := range 6 {
		post(fmt.Sprintf("evt_usual_%d", i), 1800+int64(i)*100, t0+int64(i)*86400)
	}
	h.settle(10 * time.Second)
	post("evt_big", 90000, t0+7*86400)
	post("evt_bigger", 120000, t0+8*86400)
	h.settle(10 * time.Second)
	c, _ := h.st.Counts(context.Background())
	if c[store.Done] != 6 || c[store.Review] != 2 {
		t.Fatalf("statuses %v; want 6 done and 2 in review", c)
	}
	var held []store.Event
	if err := json.Unmarshal([]byte(h.get("/admin/review")), &held); err != nil || len(held) != 2 {
		t.Fatalf("review queue: %v %v", held, err)
	}
	if why := held[1].Error; !strings.Contains(why, "900.00 USD is") || !strings.Contains(why, "robust deviations above this customer's median of 20.50 USD over 6 earlier charges") {
		t.Errorf("reason: %q", why)
	}
	lines := h.count("CustomerPaymentJournalLines")

	decide := func(id, what, body string) int {
		t.Helper()
		resp, err := http.Post(h.url+"/admin/review/"+id+"/"+what, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := decide("evt_big", "approve", ""); code != 200 {
		t.Fatalf("approve: HTTP %d", code)
	}
	if code := decide("evt_bigger", "reject", `{"note": "the customer says it was not them"}`); code != 200 {
		t.Fatalf("reject: HTTP %d", code)
	}
	if code := decide("evt_usual_1", "approve", ""); code != http.StatusConflict {
		t.Errorf("approving an event not in review: HTTP %d", code)
	}
	time.Sleep(50 * time.Millisecond)
	h.settle(10 * time.Second)
	big, _ := h.st.Event(context.Background(), "evt_big")
	bigger, _ := h.st.Event(context.Background(), "evt_bigger")
	if big.Status != store.Done || !big.Approved {
		t.Errorf("approved: %+v", big)
	}
	if bigger.Status != store.Skipped || bigger.Error != "rejected in review: the customer says it was not them" {
		t.Errorf("rejected: %+v", bigger)
	}
	if n := h.count("CustomerPaymentJournalLines"); n != lines+1 {
		t.Errorf("payment lines %d -> %d; want one more, for the approved charge only", lines, n)
	}
	h.shutdown()
	if kinds := strings.Join(rec.kinds(), ","); strings.Count(kinds, AlertReview) != 2 {
		t.Errorf("alerts %s; want two review alerts", kinds)
	}
}

// A burst that stops is still summed up when its window ends, without
// waiting for another alert of its kind.
func TestAHeldBackBurstIsSummedUpWhenItsWindowEnds(t *testing.T) {
	rec := &recorder{}
	a := newAlerter(rec, 1, 40*time.Millisecond, slog.New(slog.DiscardHandler))
	for range 3 {
		a.fire(Alert{Kind: AlertDeadLetter, Title: "dead"})
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(rec.kinds()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a.close()
	if got := strings.Join(rec.kinds(), ","); got != "dead_letter,alerts_dropped" {
		t.Fatalf("alerts %s", got)
	}
	if s := rec.alerts[1].Title; !strings.Contains(s, "2 more dead_letter alerts") {
		t.Errorf("summary %q", s)
	}
}

// The incoming-webhook URL is a credential: a failed delivery's error does
// not carry it into the log.
func TestAnAlertWebhookErrorDoesNotNameTheURL(t *testing.T) {
	n := &WebhookNotifier{URL: "http://127.0.0.1:1/services/T000/B000/s3cr3tt0ken", Client: &http.Client{Timeout: time.Second}}
	err := n.Notify(context.Background(), Alert{Kind: AlertDeadLetter, Title: "x"})
	if err == nil || strings.Contains(err.Error(), "s3cr3tt0ken") {
		t.Fatalf("err = %v", err)
	}
}
