package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testFlow = `package p

import "stripe"
import "d365fo" as erp

flow charge {
    on stripe.charge.succeeded as ev
    let ch = ev.data.object
    when "order_id" in ch.metadata
    upsert erp.SalesOrderHeadersV2 key "stripe:" + ch.id {
        SalesOrderNumber: ch.metadata["order_id"],
        OrderingCustomerAccountNumber: ch.customer,
        CurrencyCode: upper(ch.currency),
    }
}
`

const passingTests = `-- an order becomes a sales order/event.json --
{"id":"evt_1","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_1","amount":2000,"currency":"usd","customer":"cus_1","metadata":{"order_id":"SO-1"}}}}
-- an order becomes a sales order/expect.jsonl --
{"op":"upsert","entity":"SalesOrderHeadersV2","key":"stripe:ch_1","fields":{"SalesOrderNumber":"SO-1","CurrencyCode":"USD"}}
-- no order, no writes/event.json --
{"id":"evt_2","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_2","amount":2000,"currency":"usd","customer":"cus_1","metadata":{}}}}
-- no order, no writes/expect.jsonl --
-- a broken currency fails/event.json --
{"id":"evt_3","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_3","amount":2000,"currency":7,"customer":"cus_1","metadata":{"order_id":"SO-3"}}}}
-- a broken currency fails/expect-failure --
currency
`

const failingTests = `-- wrong expectation/event.json --
{"id":"evt_1","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_1","amount":2000,"currency":"usd","customer":"cus_1","metadata":{"order_id":"SO-1"}}}}
-- wrong expectation/expect.jsonl --
{"op":"upsert","entity":"SalesOrderHeadersV2","fields":{"CurrencyCode":"EUR"}}
{"op":"create","entity":"CustomerPaymentJournalHeaders"}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFlowcTest(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"p/a.flow": testFlow, "p/a.flowtest": passingTests,
		"bad/a.flow": testFlow, "bad/a.flowtest": failingTests,
		"malformed/a.flow": testFlow, "malformed/a.flowtest": "-- lonely/event.json --\n{}\n",
	})
	out, _ := flowc(t, 0, "test", filepath.Join(dir, "p"))
	if strings.TrimSpace(out) != "ok  3 tests" {
		t.Errorf("passing tests:\n%s", out)
	}
	out, _ = flowc(t, 0, "test", "-v", "-run", "order", filepath.Join(dir, "p"))
	if !strings.Contains(out, "--- PASS: an order becomes a sales order") || strings.Contains(out, "a broken currency") {
		t.Errorf("-v -run order (one test, shown):\n%s", out)
	}
	out, _ = flowc(t, 1, "test", filepath.Join(dir, "bad"))
	for _, want := range []string{
		"--- FAIL: wrong expectation",
		`write 1 (upsert SalesOrderHeadersV2 key "stripe:ch_1"): CurrencyCode = "USD", want "EUR"`,
		"write 2: want create CustomerPaymentJournalHeaders, got no more writes",
		"FAIL: 1 of 1 tests failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("failing test output lacks %q:\n%s", want, out)
		}
	}
	out, _ = flowc(t, 1, "test", "--format", "json", filepath.Join(dir, "bad"))
	if !strings.Contains(out, `"pass": false`) {
		t.Errorf("--format json:\n%s", out)
	}
	_, errs := flowc(t, 2, "test", filepath.Join(dir, "malformed"))
	if !strings.Contains(errs, "needs an event and an expectation") {
		t.Errorf("malformed test file: %s", errs)
	}
	flowc(t, 2, "test", "-run", "(", filepath.Join(dir, "p"))
	flowc(t, 2, "test", filepath.Join(dir, "nothing-here"))
}

// The example flows have tests, and they pass.
func TestExampleFlowsPassTheirTests(t *testing.T) {
	out, _ := flowc(t, 0, "test", "../../flows")
	if !strings.HasPrefix(out, "ok  ") {
		t.Errorf("flowc test flows/:\n%s", out)
	}
}

func TestFlowcTestRefusesWhatWouldPassUnnoticed(t *testing.T) {
	event := `{"id":"evt_1","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_1","amount":2000,"currency":"usd","customer":"cus_1","metadata":{"order_id":"SO-1"}}}}`
	dir := writeFiles(t, map[string]string{
		"typo/a.flow": testFlow, "typo/a.flowtest": "-- t/event.json --\n" + event + "\n-- t/expect.jsonl --\n" +
			`{"op":"upsert","entity":"SalesOrderHeadersV2","feilds":{"CurrencyCode":"EUR"}}` + "\n",
		"dup/a.flow": testFlow, "dup/a.flowtest": "-- t/event.json --\n" + event + "\n-- t/expect.jsonl --\n-- t/expect.jsonl --\n",
		"empty/a.flow": testFlow, "empty/a.flowtest": "--t/event.json--\n",
		"notype/a.flow": testFlow, "notype/a.flowtest": "-- t/event.json --\n" + strings.Replace(event, "charge.succeeded", "charge.succeded", 1) + "\n-- t/expect.jsonl --\n",
		"answer/a.flow": testFlow, "answer/a.flowtest": "-- t/event.json --\n" + event + "\n-- t/answers.jsonl --\n" +
			`{"entity":"Sale","fields":{"approved":true}}` + "\n-- t/expect.jsonl --\n",
	})
	out, _ := flowc(t, 1, "test", filepath.Join(dir, "typo"))
	if !strings.Contains(out, `unknown field "feilds"`) {
		t.Errorf("a typo in an expectation:\n%s", out)
	}
	_, errs := flowc(t, 2, "test", filepath.Join(dir, "dup"))
	if !strings.Contains(errs, "appears twice") {
		t.Errorf("a duplicated section: %s", errs)
	}
	_, errs = flowc(t, 2, "test", filepath.Join(dir, "empty"))
	if !strings.Contains(errs, "no tests") {
		t.Errorf("a file without sections: %s", errs)
	}
	out, _ = flowc(t, 1, "test", filepath.Join(dir, "notype"))
	if !strings.Contains(out, "no flow handles charge.succeded events") {
		t.Errorf("an event no flow handles:\n%s", out)
	}
	out, _ = flowc(t, 1, "test", filepath.Join(dir, "answer"))
	if !strings.Contains(out, "answers.jsonl: an answer is to a create in a gateway, but the flows create nothing in one") {
		t.Errorf("an answer no create takes:\n%s", out)
	}
}

// Generated numbers come from idempotency keys, so a version that writes
// one record fewer early on does not make every later event differ.
func TestReplayNumbersDoNotShift(t *testing.T) {
	journal := strings.Replace(testFlow, "    }\n}\n", `    }
    create pay = erp.CustomerPaymentJournalHeaders key "pay:" + ch.id {
        JournalName: "CustPay",
    }
    create erp.CustomerPaymentJournalLines key "line:" + ch.id {
        JournalBatchNumber: pay.JournalBatchNumber,
        LineNumber: 1,
        AccountDisplayValue: ch.customer,
        CurrencyCode: upper(ch.currency),
        TransactionDate: date(ch.created, "UTC"),
    }
}
`, 1)
	newer := strings.Replace(journal, `when "order_id" in ch.metadata`, `when "order_id" in ch.metadata && ch.id != "ch_1"`, 1)
	events := ""
	for i := 1; i <= 3; i++ {
		events += fmt.Sprintf(`{"id":"evt_%d","type":"charge.succeeded","created":1,"data":{"object":{"id":"ch_%d","amount":2000,"currency":"usd","customer":"cus_1","metadata":{"order_id":"SO-%d"}}}}`+"\n", i, i, i)
	}
	dir := writeFiles(t, map[string]string{"old/a.flow": journal, "new/a.flow": newer, "ev.jsonl": events})
	out, _ := flowc(t, 1, "replay", "--events", filepath.Join(dir, "ev.jsonl"), "--old", filepath.Join(dir, "old"), "--new", filepath.Join(dir, "new"))
	if !strings.Contains(out, "1 of 3 events write differently") {
		t.Errorf("one event changed, yet:\n%s", out)
	}
}
