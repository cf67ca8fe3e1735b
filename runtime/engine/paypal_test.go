package engine

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/runtime/erp"
)

const paypalSigned = "../gateway/paypal/testdata/simulator_signed/"

func paypalEvent(t *testing.T, name string) *Event {
	t.Helper()
	b, err := os.ReadFile(paypalSigned + name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDecodeEventTellsTheGateway(t *testing.T) {
	ev := paypalEvent(t, "HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED.body.json")
	want := time.Date(2019, 2, 14, 21, 50, 7, 940e6, time.UTC)
	if ev.Source != "paypal" || ev.Type != "PAYMENT.CAPTURE.COMPLETED" || ev.ID != "WH-58D329510W468432D-8HN650336L201105X" || !ev.Received.Equal(want) {
		t.Errorf("paypal event = %s %s %s %v", ev.Source, ev.Type, ev.ID, ev.Received)
	}
	b, err := os.ReadFile("../../testdata/stripe/events/charge.succeeded.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err = DecodeEvent(b)
	if err != nil || ev.Source != "stripe" || ev.Type != "charge.succeeded" || ev.Received.IsZero() {
		t.Errorf("stripe event = %+v, %v", ev, err)
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"id": "x"}`, `{"event_type": "A.B"}`, `{"id": 1, "type": "x"}`, `{"id": "WH-1", "event_type": 3, "type": ""}`, `{"id":"x","type":"y"} trailing`} {
		if ev, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent(%q) = %+v, want an error", bad, ev)
		}
	}
	// A PayPal event with a create_time that is not RFC 3339 still routes.
	ev, err = DecodeEvent([]byte(`{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "create_time": "yesterday", "resource": {}}`))
	if err != nil || ev.Source != "paypal" || !ev.Received.IsZero() {
		t.Errorf("event with a bad create_time = %+v, %v", ev, err)
	}
}

// TestPayPalEventsRouteByEventType: flows written `on paypal.<EVENT_TYPE>`
// are what Program.Flows("paypal", event_type) returns, as the daemon asks
// for a stored event of source "paypal".
func TestPayPalEventsRouteByEventType(t *testing.T) {
	prog, diags, err := Load("../../flows/paypal_d365", compiler.Config{})
	if err != nil || prog == nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	names := func(fs []*Flow) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Plan.Name)
		}
		slices.Sort(out)
		return out
	}
	if got := names(prog.Flows("paypal", "PAYMENT.CAPTURE.COMPLETED")); !slices.Equal(got, []string{"capture_fees", "capture_platform_fees", "capture_to_sales_order"}) {
		t.Errorf("flows of PAYMENT.CAPTURE.COMPLETED = %v", got)
	}
	if got := names(prog.Flows("paypal", "PAYMENT.CAPTURE.REFUNDED")); !slices.Equal(got, []string{"refund_fee_returned", "refund_to_return_order"}) {
		t.Errorf("flows of PAYMENT.CAPTURE.REFUNDED = %v", got)
	}
	if got := prog.Flows("stripe", "PAYMENT.CAPTURE.COMPLETED"); len(got) != 0 {
		t.Errorf("a stripe event of a PayPal type triggers %v", names(got))
	}

	// The signed capture runs end to end, amounts exact.
	m := newMemERP()
	env := &Env{ERP: map[string]erp.Driver{"erp": m}, Ledger: &memLedger{m: map[string]erp.Record{}}}
	ev := paypalEvent(t, "HOOK_PAYMENT_CAPTURE_COMPLETED_V2__PAYMENT.CAPTURE.COMPLETED.body.json")
	for _, f := range prog.Flows(ev.Source, ev.Type) {
		if res, err := f.Run(context.Background(), env, ev, Options{}); err != nil || res.Status != Done {
			t.Fatalf("%s: %+v, %v", f.Plan.Name, res, err)
		}
	}
	order := m.records["SalesOrderHeadersV2"][0]
	if order["SalesOrderNumber"] != "5840243-146" || order["CustomersOrderReference"] != "12A34567BC123456S" {
		t.Errorf("sales order = %v", order)
	}
	pay := m.records["CustomerPaymentJournalLines"][0]
	if amt, ok := pay["CreditAmount"].(decimal.Decimal); !ok || amt.String() != "30" || amt.Exponent() != -2 {
		t.Errorf("CreditAmount = %#v, want decimal 30.00", pay["CreditAmount"])
	}
	var fees []string
	for _, l := range m.records["LedgerJournalLines"] {
		for _, k := range []string{"DebitAmount", "CreditAmount"} {
			if d, ok := l[k].(decimal.Decimal); ok {
				fees = append(fees, l["AccountDisplayValue"].(string)+" "+k+" "+d.StringFixed(2))
			}
		}
	}
	slices.Sort(fees)
	want := []string{"110160 CreditAmount 1.54", "110160 CreditAmount 2.00", "618110 DebitAmount 1.54", "618210 DebitAmount 2.00"}
	if !slices.Equal(fees, want) {
		t.Errorf("fee lines = %v, want %v", fees, want)
	}

	// The refund finds the order by the capture id in its up link.
	ev = paypalEvent(t, "HOOK_PAYMENT_CAPTURE_REFUNDED_V2__PAYMENT.CAPTURE.REFUNDED.body.json")
	m.records["SalesOrderHeadersV2"][0]["CustomersOrderReference"] = "0JF852973C016714D"
	for _, f := range prog.Flows(ev.Source, ev.Type) {
		if res, err := f.Run(context.Background(), env, ev, Options{}); err != nil || res.Status != Done {
			t.Fatalf("%s: %+v, %v", f.Plan.Name, res, err)
		}
	}
	ret := m.records["ReturnOrderHeaders"]
	if len(ret) != 1 || ret[0]["CustomersOrderReference"] != "5840243-146" {
		t.Errorf("return orders = %v", ret)
	}
}
