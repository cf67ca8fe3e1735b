package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/internal/sample"
	"github.com/flowhq/flow/runtime/engine"
	"github.com/flowhq/flow/stdlib"
)

// The mapping benchmarks run the order-to-cash flow over generated charge
// events with the record driver (what `flowc run` does), next to a
// hand-written Go program doing the same decode -> map -> encode:
//
//	go test ./cmd/flowc -run '^$' -bench Mapping -benchtime 100000x
//
// Compare their events/s.

func chargeEvents(b *testing.B, n int) []byte {
	tmpl, err := os.ReadFile("../../testdata/stripe/events/charge.succeeded.json")
	if err != nil {
		b.Fatal(err)
	}
	evs, err := sample.Charges(tmpl, n, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	return append(bytes.Join(evs, []byte("\n")), '\n')
}

func BenchmarkMappingFlow(b *testing.B) {
	prog, diags, err := engine.Load("../../flows/stripe_d365", compiler.Config{})
	if err != nil || prog == nil {
		b.Fatalf("%v %v", err, diags)
	}
	in := chargeEvents(b, b.N)
	b.ResetTimer()
	out := bufio.NewWriter(io.Discard)
	sum, err := runEvents(context.Background(), prog, bytes.NewReader(in), out, io.Discard)
	if err != nil || sum.done != b.N {
		b.Fatalf("%+v %v", sum, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// charge is what the hand-written program decodes.
type charge struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID             string            `json:"id"`
			Amount         int64             `json:"amount"`
			Currency       string            `json:"currency"`
			Customer       string            `json:"customer"`
			Paid           bool              `json:"paid"`
			Created        int64             `json:"created"`
			Metadata       map[string]string `json:"metadata"`
			BillingDetails struct {
				Name string `json:"name"`
			} `json:"billing_details"`
		} `json:"object"`
	} `json:"data"`
}

type op struct {
	Op     string         `json:"op"`
	Entity string         `json:"entity"`
	Key    string         `json:"key,omitempty"`
	Fields map[string]any `json:"fields"`
}

// handWritten is order_to_cash.flow written by hand: what an integrator
// without flow would write and maintain.
func handWritten(in io.Reader, w io.Writer) (int, error) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return 0, err
	}
	enc := json.NewEncoder(w)
	customers := map[string]bool{}
	done := map[string]bool{}
	journals := 0
	n := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var ev charge
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return n, err
		}
		ch := ev.Data.Object
		order, ok := ch.Metadata["order_id"]
		if ev.Type != "charge.succeeded" || !ch.Paid || !ok {
			continue
		}
		n++
		cur := strings.ToUpper(ch.Currency)
		if !customers[ch.Customer] {
			customers[ch.Customer] = true
			name := ch.BillingDetails.Name
			if len(name) > 100 {
				name = name[:100]
			}
			enc.Encode(op{"create", "CustomersV3", "", map[string]any{"CustomerAccount": ch.Customer, "CustomerGroupId": "30",
				"SalesCurrencyCode": cur, "OrganizationName": name}})
		}
		if k := "stripe:" + ch.ID; !done[k] {
			done[k] = true
			enc.Encode(op{"upsert", "SalesOrderHeadersV2", k, map[string]any{"SalesOrderNumber": order,
				"OrderingCustomerAccountNumber": ch.Customer, "CurrencyCode": cur, "CustomersOrderReference": ch.ID}})
		}
		journals++
		batch := fmt.Sprintf("CustomerPaymentJournalHeaders-%06d", journals)
		enc.Encode(op{"create", "CustomerPaymentJournalHeaders", "stripe-pay:" + ch.ID, map[string]any{"JournalName": "CustPay"}})
		exp, _ := stdlib.Exponent(ch.Currency)
		day := stdlib.CalendarDate(time.Unix(ch.Created, 0), ny)
		text := "Stripe " + ch.ID + " order " + order
		if len(text) > 60 {
			text = text[:60]
		}
		enc.Encode(op{"create", "CustomerPaymentJournalLines", "stripe-payline:" + ch.ID, map[string]any{
			"JournalBatchNumber": batch, "LineNumber": 1, "AccountType": "Cust", "AccountDisplayValue": ch.Customer,
			"CreditAmount": json.Number(decimal.New(ch.Amount, -int32(exp)).String()), "CurrencyCode": cur,
			"TransactionDate": day.Format(time.RFC3339), "OffsetAccountType": "Ledger", "OffsetAccountDisplayValue": "110150",
			"PaymentReference": ch.ID, "TransactionText": text}})
	}
	return n, sc.Err()
}

func BenchmarkMappingHandWritten(b *testing.B) {
	in := chargeEvents(b, b.N)
	b.ResetTimer()
	out := bufio.NewWriter(io.Discard)
	n, err := handWritten(bytes.NewReader(in), out)
	if err != nil || n != b.N {
		b.Fatalf("%d %v", n, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
