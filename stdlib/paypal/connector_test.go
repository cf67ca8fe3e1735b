package paypal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/schema"
)

// gatewayTestdata holds the PayPal fixtures (see its README.md).
const gatewayTestdata = "../../runtime/gateway/paypal/testdata"

func TestConnectorValidates(t *testing.T) {
	c := Connector()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "paypal" || c.Kind != schema.Gateway {
		t.Errorf("Name, Kind = %q, %v; want paypal, gateway", c.Name, c.Kind)
	}
	if !strings.Contains(c.Doc, "payments_payment_v2 2.5") {
		t.Errorf("Doc %q does not name the spec versions", c.Doc)
	}
}

func TestConnectorIsSharedAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*schema.Connector, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = Connector()
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c != got[0] {
			t.Fatal("Connector returned different values")
		}
	}
}

func TestEvents(t *testing.T) {
	c := Connector()
	for name, want := range map[string]string{
		"PAYMENT.CAPTURE.COMPLETED": "paypal.Capture",
		"PAYMENT.CAPTURE.PENDING":   "paypal.Capture",
		"PAYMENT.CAPTURE.REFUNDED":  "paypal.Refund",
		"PAYMENT.CAPTURE.REVERSED":  "paypal.Refund",
		"CUSTOMER.DISPUTE.CREATED":  "paypal.Dispute",
		"CUSTOMER.DISPUTE.RESOLVED": "paypal.Dispute",
	} {
		e, ok := c.Events[name]
		if !ok {
			t.Errorf("no event %s", name)
			continue
		}
		if e.Object != want || e.Envelope != want+"Event" {
			t.Errorf("%s: object %s, envelope %s; want %s, %sEvent", name, e.Object, e.Envelope, want, want)
		}
		env := c.Objects[e.Envelope]
		res, ok := env.Field("resource")
		if !ok || !res.Type.Equal(schema.ObjectOf(want)) {
			t.Errorf("%s: resource is not a %s", e.Envelope, want)
		}
		for _, f := range []string{"id", "event_type", "create_time", "resource_type", "summary"} {
			if _, ok := env.Field(f); !ok {
				t.Errorf("%s has no %s", e.Envelope, f)
			}
		}
	}
	if got := c.Reverses["PAYMENT.CAPTURE.COMPLETED"]; !slices.Equal(got, []string{"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"}) {
		t.Errorf("reverses of PAYMENT.CAPTURE.COMPLETED = %v", got)
	}
}

// TestMoneyIsDecimal: every amount is exact. No field anywhere is a double,
// and every Money's value is a decimal.
func TestMoneyIsDecimal(t *testing.T) {
	c := Connector()
	money := c.Objects["paypal.Money"]
	if f, ok := money.Field("value"); !ok || f.Type.Kind != schema.Decimal {
		t.Fatalf("paypal.Money.value is not a decimal")
	}
	if f, ok := c.Objects["paypal.ExchangeRate"].Field("value"); !ok || f.Type.Kind != schema.Decimal {
		t.Errorf("paypal.ExchangeRate.value is not a decimal")
	}
	for _, o := range c.Objects {
		for _, f := range o.Fields {
			if f.Type.Kind == schema.Double || (f.Type.Kind == schema.List && f.Type.Elem.Kind == schema.Double) {
				t.Errorf("%s.%s is a double", o.Name, f.Name)
			}
		}
	}
	for _, path := range [][]string{
		{"paypal.Capture", "amount"},
		{"paypal.SellerReceivableBreakdown", "paypal_fee"},
		{"paypal.SellerReceivableBreakdown", "net_amount"},
		{"paypal.RefundSellerPayableBreakdown", "total_refunded_amount"},
		{"paypal.Dispute", "dispute_amount"},
		{"paypal.TransactionInfo", "fee_amount"},
	} {
		f, ok := c.Objects[path[0]].Field(path[1])
		if !ok || !f.Type.Equal(schema.ObjectOf("paypal.Money")) {
			t.Errorf("%s.%s is not a paypal.Money", path[0], path[1])
		}
	}
}

func TestTransactionsList(t *testing.T) {
	l := Connector().Lists["transactions"]
	if l == nil || l.Elem != "paypal.Transaction" || l.Total != nil {
		t.Fatalf("transactions list = %+v", l)
	}
	var required []string
	for _, p := range l.Params {
		if p.Required {
			required = append(required, p.Name+":"+p.Type.String())
		}
	}
	if !slices.Equal(required, []string{"start_date:timestamp", "end_date:timestamp"}) {
		t.Errorf("required params %v", required)
	}
}

// walker checks a decoded JSON value against a schema type and collects
// every mismatch and every field the schema does not declare.
type walker struct {
	c       *schema.Connector
	issues  []string
	offsets bool // accept Transaction Search's "+0000" offsets in timestamps
}

// rfc3339 is what the runtime parses a timestamp from; searchTime is
// Transaction Search's variant, which the gateway client rewrites.
var searchTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d{4}$`)

func (w *walker) walk(path string, t *schema.Type, v any) {
	if v == nil {
		return
	}
	bad := func() { w.issues = append(w.issues, fmt.Sprintf("%s: %s is not a %s", path, describe(v), t)) }
	switch t.Kind {
	case schema.Any:
	case schema.String:
		s, ok := v.(string)
		if !ok {
			bad()
		} else if !t.HasEnumValue(s) {
			w.issues = append(w.issues, fmt.Sprintf("%s: %q is not one of %v", path, s, t.Enum))
		}
	case schema.Timestamp:
		s, ok := v.(string)
		if !ok {
			bad()
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil && !(w.offsets && searchTime.MatchString(s)) {
			bad()
		}
	case schema.Decimal:
		s, ok := v.(string)
		if _, err := decimal.NewFromString(s); !ok || err != nil {
			bad()
		}
	case schema.Int:
		if n, ok := v.(json.Number); !ok || strings.ContainsAny(string(n), ".eE") {
			bad()
		}
	case schema.Bool:
		if _, ok := v.(bool); !ok {
			bad()
		}
	case schema.List:
		l, ok := v.([]any)
		if !ok {
			bad()
			return
		}
		for i, e := range l {
			w.walk(fmt.Sprintf("%s[%d]", path, i), t.Elem, e)
		}
	case schema.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad()
			return
		}
		o := w.c.Objects[t.Object]
		for k, e := range m {
			f, ok := o.Field(k)
			if !ok {
				w.issues = append(w.issues, fmt.Sprintf("%s.%s: not a field of %s", path, k, o.Name))
				continue
			}
			w.walk(path+"."+k, f.Type, e)
		}
	default:
		bad()
	}
}

func describe(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func decodeFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// knownGaps are fields real payloads carry that the OpenAPI files do not
// declare. Flows cannot read them (the checker rejects them), which is the
// safe side; each is listed so that a new one fails the test.
var knownGaps = map[string]bool{
	// The documented CUSTOMER.DISPUTE.CREATED sample.
	"event.resource.disputed_transactions[0].seller_protection_eligible: not a field of paypal.DisputeTransactionInfo": true,
	"event.links[0].encType: not a field of paypal.LinkDescription":                                                    true,
	"event.links[1].encType: not a field of paypal.LinkDescription":                                                    true,
}

// TestFixturesMatchSchema walks every webhook fixture through its event's
// envelope type: each field must be declared and of the declared type.
func TestFixturesMatchSchema(t *testing.T) {
	c := Connector()
	files, _ := filepath.Glob(filepath.Join(gatewayTestdata, "simulator_signed", "*.body.json"))
	more, _ := filepath.Glob(filepath.Join(gatewayTestdata, "docs_samples", "*.json"))
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("found %d fixtures", len(files))
	}
	for _, f := range files {
		ev := decodeFile(t, f)
		name, _ := ev["event_type"].(string)
		e, ok := c.Events[name]
		if !ok {
			t.Errorf("%s: no event %s", f, name)
			continue
		}
		w := &walker{c: c}
		w.walk("event", schema.ObjectOf(e.Envelope), ev)
		for _, issue := range w.issues {
			if !knownGaps[issue] {
				t.Errorf("%s: %s", filepath.Base(f), issue)
			}
		}
	}
}

// TestTransactionSearchMatchesSchema walks the Transaction Search pages'
// items as paypal.Transaction.
func TestTransactionSearchMatchesSchema(t *testing.T) {
	c := Connector()
	files, _ := filepath.Glob(filepath.Join(gatewayTestdata, "reporting", "*.json"))
	if len(files) != 2 {
		t.Fatalf("found %d Transaction Search pages", len(files))
	}
	for _, f := range files {
		page := decodeFile(t, f)
		items, _ := page["transaction_details"].([]any)
		if len(items) == 0 {
			t.Fatalf("%s: no transaction_details", f)
		}
		w := &walker{c: c, offsets: true}
		w.walk("transaction_details", schema.ListOf(schema.ObjectOf("paypal.Transaction")), items)
		for _, issue := range w.issues {
			t.Errorf("%s: %s", filepath.Base(f), issue)
		}
	}
}

func TestDecodeRejectsBadText(t *testing.T) {
	for _, text := range []string{
		"bogus\tline\n",
		"\tfield\tstring\tdoc\n",
		"object\tA\t\n\tf\tenum:Nope\t\n",
		"object\tA\t\n\tf\tfloat\t\n",
		"object\tA\t\nobject\tA\t\n",
	} {
		if _, err := build(text); err == nil {
			t.Errorf("build(%q) did not fail", text)
		}
	}
	if _, err := build("object\tA\t\n\tf\tobj:B\t\n"); err != nil {
		t.Errorf("build: %v", err) // a dangling reference is Validate's to find
	}
}
