package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowhq/flow/runtime/store"
)

// The console in a real headless Chromium: an operator signs in, reads an
// event's trail, replays a dead letter after the flow that failed it was
// fixed, sees it done, and loads every page (testdata/console-e2e drives
// the browser with playwright-core; run `npm ci` there first).
func TestConsoleInABrowser(t *testing.T) {
	script, _ := filepath.Abs("testdata/console-e2e/e2e.mjs")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, errNode := exec.LookPath("node")
	_, errModules := os.Stat("testdata/console-e2e/node_modules/playwright-core")
	_, errChromium := os.Stat(chromium)
	if err := firstErr(errNode, errModules, errChromium); err != nil {
		if os.Getenv("FLOW_REQUIRE_BROWSER") != "" {
			t.Fatalf("FLOW_REQUIRE_BROWSER is set but: %v", err)
		}
		t.Skipf("no browser test: %v (install node and chromium, then npm ci in testdata/console-e2e)", err)
	}
	if testing.Short() {
		t.Skip("a browser test is not short")
	}

	// A flow with a bug dead-letters a charge...
	flows := copyFlows(t)
	o2c := filepath.Join(flows, "order_to_cash.flow")
	good, err := os.ReadFile(o2c)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), `" order " + ch.metadata["order_id"]`, `" order " + ch.metadata["order"]`, 1)
	if bad == string(good) {
		t.Fatal("the test's bug did not apply to order_to_cash.flow")
	}
	if err := os.WriteFile(o2c, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, func(s *setup) { s.Flows, s.AdminToken = flows, "console-t0ken" })
	h.post(charge(t, 1))
	h.settle(10 * time.Second)
	if ev, err := h.st.Event(context.Background(), "evt_test_0001"); err != nil || ev.Status != store.Dead {
		t.Fatalf("the bug did not dead-letter the charge: %+v %v", ev, err)
	}
	// ...the integrator fixes the flow, and another charge runs.
	if err := os.WriteFile(o2c, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Reload(); err != nil {
		t.Fatal(err)
	}
	h.post(charge(t, 2))
	// A customer who pays about 20 USD charged 900 USD: held for review.
	for i := range 6 {
		h.post(fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
			ev["id"], obj["id"] = fmt.Sprintf("evt_usual_%d", i), fmt.Sprintf("ch_usual_%d", i)
			obj["customer"], obj["amount"], obj["created"] = "cus_steady", json.Number(fmt.Sprint(1900+i*50)), json.Number(fmt.Sprint(1648320032+i*86400))
			obj["metadata"] = map[string]any{"order_id": fmt.Sprintf("SO-U%d", i)}
		}))
	}
	h.settle(10 * time.Second)
	h.post(fixture(t, "charge.succeeded.json", func(ev, obj map[string]any) {
		ev["id"], obj["id"] = "evt_big", "ch_big"
		obj["customer"], obj["amount"], obj["created"] = "cus_steady", json.Number("90000"), json.Number(fmt.Sprint(1648320032+7*86400))
		obj["metadata"] = map[string]any{"order_id": "SO-BIG"}
	}))
	h.settle(10 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, h.url, "console-t0ken", "stripe:evt_test_0001", "stripe:evt_test_0002", "stripe:evt_big")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("the console test failed: %v", err)
	}
	if n := h.count("CustomerPaymentJournalLines"); n != 9 {
		t.Errorf("after the replay and the approval the ERP has %d payment lines, want 9", n)
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
