package paytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// DateLayout is how PayTrace writes the days of an export request.
const DateLayout = "01/02/2006"

// Export returns the raw transactions PayTrace exports for the days from
// first to last (inclusive; days in the merchant's zone, as PayTrace keeps
// them): POST /v1/transactions/export/by_date_range. The samples show no
// paging fields: one request answers the whole range (the Poller asks for
// a bounded window at a time).
func (c *Client) Export(ctx context.Context, first, last time.Time) ([]json.RawMessage, error) {
	var out struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	_, err := c.call(ctx, "/v1/transactions/export/by_date_range",
		map[string]any{"start_date": first.Format(DateLayout), "end_date": last.Format(DateLayout)}, &out)
	if err != nil {
		return nil, err
	}
	return out.Transactions, nil
}

// Event is the event the poller makes of an exported transaction: what
// stdlib/paytrace types as paytrace.TransactionEvent.
type Event struct {
	Gateway     string       `json:"gateway"` // "paytrace"
	ID          string       `json:"id"`      // the transaction id
	Type        string       `json:"type"`    // "transaction.sale"
	Created     string       `json:"created"` // RFC 3339, in the merchant's zone
	Transaction *Transaction `json:"transaction"`
}

// Transaction is an exported transaction with its amounts exact (decimal
// text) and its times in RFC 3339.
type Transaction struct {
	TransactionID       string      `json:"transaction_id"`
	TransactionType     string      `json:"transaction_type"`
	Amount              string      `json:"amount"`
	TaxAmount           string      `json:"tax_amount"`
	Currency            string      `json:"currency"`
	Description         string      `json:"description"`
	InvoiceID           string      `json:"invoice_id"`
	CustomerReferenceID string      `json:"customer_reference_id"`
	CustomerID          string      `json:"customer_id"`
	ReceiptEmailedTo    string      `json:"receipt_emailed_to"`
	ApprovalCode        string      `json:"approval_code"`
	ApprovalMessage     string      `json:"approval_message"`
	AVSResponse         string      `json:"avs_response"`
	CSCResponse         string      `json:"csc_response"`
	StatusCode          string      `json:"status_code"`
	StatusMessage       string      `json:"status_message"`
	CreditCard          *CreditCard `json:"credit_card,omitempty"`
	BillingAddress      *Address    `json:"billing_address,omitempty"`
	ShippingAddress     *Address    `json:"shipping_address,omitempty"`
	Created             *Created    `json:"created"`
	Settled             string      `json:"settled,omitempty"` // absent while unsettled

	created time.Time
}

// CreditCard is a transaction's masked card.
type CreditCard struct {
	MaskedNumber    string `json:"masked_number"`
	ExpirationMonth int64  `json:"expiration_month"`
	ExpirationYear  int64  `json:"expiration_year"`
}

// Address is a billing or shipping address.
type Address struct {
	Name           string `json:"name"`
	StreetAddress  string `json:"street_address"`
	StreetAddress2 string `json:"street_address2"`
	City           string `json:"city"`
	County         string `json:"county"`
	State          string `json:"state"`
	Zip            string `json:"zip"`
	Country        string `json:"country"`
}

// Created says who made a transaction, how and when.
type Created struct {
	Through string `json:"through"`
	At      string `json:"at"` // RFC 3339
	By      string `json:"by"`
	FromIP  string `json:"from_ip"`
}

// BadTransaction is an exported transaction flowd cannot read: an amount
// that is not dollars and cents, a date that is not PayTrace's, a missing
// id. The poller stores none of it and says which and why.
type BadTransaction struct {
	ID     string // the transaction id, when it has one
	Field  string // "amount", "created.at"
	Reason string
}

func (e *BadTransaction) Error() string {
	id := e.ID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Sprintf("paytrace: transaction %s: %s: %s", id, e.Field, e.Reason)
}

// reader picks typed fields out of a decoded JSON object, remembering the
// first problem.
type reader struct {
	id  string
	err *BadTransaction
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = &BadTransaction{ID: r.id, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

// str reads a text field: a string, a number's text, or "" for null or
// absent.
func (r *reader) str(m map[string]any, field, path string) string {
	switch v := m[field].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		r.fail(path+field, "want text, got %s", jsonval.Kind(v))
		return ""
	}
}

func (r *reader) integer(m map[string]any, field, path string) int64 {
	var text string
	switch v := m[field].(type) {
	case nil:
		return 0
	case json.Number:
		text = v.String()
	case string:
		if text = strings.TrimSpace(v); text == "" {
			return 0
		}
	default:
		r.fail(path+field, "want a whole number, got %s", jsonval.Kind(v))
		return 0
	}
	d, err := decimal.NewFromString(text)
	if err != nil || !d.IsInteger() || d.Abs().GreaterThan(decimal.NewFromInt(1<<40)) {
		r.fail(path+field, "%q is not a whole number", text)
		return 0
	}
	return d.IntPart()
}

func (r *reader) object(m map[string]any, field string) map[string]any {
	switch v := m[field].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		r.fail(field, "want an object, got %s", jsonval.Kind(v))
		return nil
	}
}

// Amount reads one of PayTrace's amounts: dollars as a JSON number (110)
// or a string ("8.10"), exact. It refuses what is not a plain decimal
// (floats' exponents are fine, "NaN", "$5" and "1,000.00" are not) and
// more than two decimals (PayTrace settles US dollars).
func Amount(v any) (decimal.Decimal, error) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	case nil:
		return decimal.Zero, fmt.Errorf("no amount")
	default:
		return decimal.Zero, fmt.Errorf("want a number or a string, got %s", jsonval.Kind(v))
	}
	if text == "" || len(text) > 40 || strings.ContainsAny(text, "$, _") {
		return decimal.Zero, fmt.Errorf("%q is not an amount in dollars", text)
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%q is not an amount in dollars", text)
	}
	if !d.Equal(d.Round(2)) {
		return decimal.Zero, fmt.Errorf("%q has more than two decimals", text)
	}
	if d.Abs().GreaterThan(decimal.New(1, 12)) {
		return decimal.Zero, fmt.Errorf("%q is out of range", text)
	}
	return d, nil
}

// timeLayouts are the ways PayTrace writes times and days, without a zone.
var timeLayouts = []string{"1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// Time reads one of PayTrace's times ("4/10/2015 4:06:30 PM", or a day
// "04/10/2015") in loc, the merchant's zone: PayTrace writes no zone.
func Time(s string, loc *time.Location) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a PayTrace date (M/D/YYYY h:mm:ss AM)", s)
}

// EventType is the event type of a PayTrace transaction_type: "SALE" ->
// "transaction.sale"; "" when the type is empty or odd.
func EventType(transactionType string) string {
	t := strings.ToLower(strings.TrimSpace(transactionType))
	if t == "" || len(t) > 40 {
		return ""
	}
	var b strings.Builder
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '_' || r == '/':
			b.WriteByte('_')
		default:
			return ""
		}
	}
	return "transaction." + b.String()
}

// Normalize reads a raw exported transaction into its event, with times
// read in loc. It never panics on input; what it cannot read is a
// *BadTransaction.
func Normalize(raw []byte, loc *time.Location) (*Event, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, &BadTransaction{Field: "transaction", Reason: "not a JSON object"}
	}
	r := &reader{}
	id := r.str(m, "transaction_id", "")
	r.id = id
	if r.err == nil {
		if _, err := checkID(id); err != nil {
			r.fail("transaction_id", "%q is not a transaction id", id)
		}
	}
	tx := &Transaction{TransactionID: id, Currency: "USD"}
	tx.TransactionType = strings.ToUpper(strings.TrimSpace(r.str(m, "transaction_type", "")))
	typ := EventType(tx.TransactionType)
	if r.err == nil && typ == "" {
		r.fail("transaction_type", "%q is not a transaction type", tx.TransactionType)
	}
	amount, err := Amount(m["amount"])
	if err != nil {
		r.fail("amount", "%v", err)
	}
	if amount.IsNegative() {
		if typ == "transaction.refund" { // a refund's direction is its type
			amount = amount.Neg()
		} else {
			r.fail("amount", "%s is negative", amount)
		}
	}
	tx.Amount = amount.String()
	tax := decimal.Zero
	if v, ok := m["tax_amount"]; ok && v != nil && v != "" {
		if tax, err = Amount(v); err != nil {
			r.fail("tax_amount", "%v", err)
		}
	}
	tx.TaxAmount = tax.String()
	for _, f := range []struct {
		dst  *string
		name string
	}{
		{&tx.Description, "description"}, {&tx.InvoiceID, "invoice_id"}, {&tx.CustomerReferenceID, "customer_reference_id"},
		{&tx.CustomerID, "customer_id"}, {&tx.ReceiptEmailedTo, "receipt_emailed_to"}, {&tx.ApprovalCode, "approval_code"},
		{&tx.ApprovalMessage, "approval_message"}, {&tx.AVSResponse, "avs_response"}, {&tx.CSCResponse, "csc_response"},
		{&tx.StatusCode, "status_code"}, {&tx.StatusMessage, "status_message"},
	} {
		*f.dst = strings.TrimSpace(r.str(m, f.name, ""))
	}
	if cc := r.object(m, "credit_card"); cc != nil {
		tx.CreditCard = &CreditCard{MaskedNumber: r.str(cc, "masked_number", "credit_card."),
			ExpirationMonth: r.integer(cc, "expiration_month", "credit_card."), ExpirationYear: r.integer(cc, "expiration_year", "credit_card.")}
	}
	address := func(field string) *Address {
		a := r.object(m, field)
		if a == nil {
			return nil
		}
		p := field + "."
		return &Address{Name: r.str(a, "name", p), StreetAddress: r.str(a, "street_address", p), StreetAddress2: r.str(a, "street_address2", p),
			City: r.str(a, "city", p), County: r.str(a, "county", p), State: r.str(a, "state", p), Zip: r.str(a, "zip", p), Country: r.str(a, "country", p)}
	}
	tx.BillingAddress, tx.ShippingAddress = address("billing_address"), address("shipping_address")
	created := r.object(m, "created")
	if created == nil {
		r.fail("created", "missing: the transaction has no time")
	} else {
		at := r.str(created, "at", "created.")
		t, err := Time(at, loc)
		if err != nil {
			r.fail("created.at", "%v", err)
		}
		tx.created = t
		tx.Created = &Created{Through: r.str(created, "through", "created."), At: t.Format(time.RFC3339), By: r.str(created, "by", "created."), FromIP: r.str(created, "from_ip", "created.")}
	}
	if s := strings.TrimSpace(r.str(m, "settled", "")); s != "" {
		t, err := Time(s, loc)
		if err != nil {
			r.fail("settled", "%v", err)
		}
		tx.Settled = t.Format(time.RFC3339)
	}
	if r.err != nil {
		return nil, r.err
	}
	return &Event{Gateway: "paytrace", ID: id, Type: typ, Created: tx.Created.At, Transaction: tx}, nil
}
