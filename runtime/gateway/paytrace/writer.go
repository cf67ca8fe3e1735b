package paytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
)

// The Client charges PayTrace customer profiles for flows that write to
// the gateway (`create paytrace.Sale key ... { customer_id: ..., amount:
// ... }`): it implements erp.Driver, and flowd binds it for the paytrace
// import when a flow writes there.
//
// A sale PayTrace processed is a record, approved or not: a decline (102,
// 103, or any answer with success false and a transaction id) binds
// approved false, so the flow decides what comes next. Failures are
// classified for the executor: a request PayTrace refused (response_code 1
// and its errors map, a refused token) and a sale the driver refuses to
// send (unknown parameters, no customer_id, an amount that is not positive
// dollars and cents) are permanent; 429, 5xx other than 504, and a request
// that never left (no connection, no token) are transient; a request that
// was sent but whose answer was lost (a timeout, a reset connection, a
// truncated or unreadable answer, a 504 from a proxy) is in doubt, and Find
// settles it.
var _ erp.Driver = (*Client)(nil)

// SaleEntity is the object flows create (stdlib/paytrace's creatable).
const SaleEntity = "Sale"

const salePath = "/v1/transactions/sale/by_customer"

// Response codes of a sale.
const (
	codeRequestError = 1
	codeApproved     = 101
	codeDeclined     = 102
)

// findDays is how many days Find exports: today and the two before, in
// the merchant's zone.
const findDays = 3

// maxAmount is the longest amount PayTrace takes: 12 characters
// ("999999999.99"), the AMOUNT length its API data definitions give.
const maxAmount = 12

// Write charges the customer profile w names (POST
// /v1/transactions/sale/by_customer) and returns the sale: approved true
// for response_code 101, false for a decline. Only creates of SaleEntity
// are possible.
func (c *Client) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	s, err := buildSale(w)
	if err != nil {
		return nil, err
	}
	status, answer, err := c.send(ctx, salePath, s.body())
	if err != nil {
		return nil, sendFailure(err)
	}
	return s.decode(status, answer)
}

// Find settles a sale in doubt. PayTrace takes no idempotency key, so Find
// exports the last three days (POST /v1/transactions/export/by_date_range,
// days in Config.Loc) and returns the newest SALE whose customer_id,
// invoice_id and amount equal w's, or found false.
//
// This assumes a flow makes at most one attempt per invoice and day, as a
// retry schedule of days does: the newest match is then the attempt in
// doubt, if it reached PayTrace. Should declines appear in the export, an
// earlier attempt's decline may stand for one that never arrived; the
// flow then sees a decline and tries again on its next day. Without an
// invoice_id nothing ties a sale to its attempt, so Find refuses to guess.
//
// The record holds what the export shows, which has no response code:
// approved is true iff the sale has an approval_code (what the export
// shows of declines is unconfirmed), and response_code is 101 or 102
// accordingly.
func (c *Client) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	s, err := buildSale(w)
	if err != nil {
		return nil, false, err
	}
	if s.invoiceID == "" {
		return nil, false, permanent(errors.New("paytrace: a sale in doubt without an invoice_id cannot be told from others of the same customer and amount: check PayTrace by hand"))
	}
	loc := c.cfg.Loc
	today := day(c.cfg.Now(), loc)
	raws, err := c.Export(ctx, today.AddDate(0, 0, -(findDays-1)), today)
	if err != nil {
		return nil, false, readFailure(err)
	}
	var best *Event
	for _, raw := range raws {
		ev, err := Normalize(raw, loc)
		if err != nil {
			if s.mayBe(raw) {
				return nil, false, permanent(fmt.Errorf("paytrace: settling a sale in doubt: %w: it may be this sale", err))
			}
			continue
		}
		if s.matches(ev.Transaction) && (best == nil || newer(ev, best)) {
			best = ev
		}
	}
	if best == nil {
		return nil, false, nil
	}
	return exportedSale(best.Transaction), true, nil
}

// Lookup is not offered: the checker refuses lookups on a gateway.
func (c *Client) Lookup(context.Context, string, erp.Record) (erp.Record, bool, error) {
	return nil, false, permanent(errors.New("paytrace: flows do not look up PayTrace objects"))
}

// PostJournal is not offered: journals are posted to an ERP.
func (c *Client) PostJournal(context.Context, erp.Journal) (erp.Record, []erp.Record, error) {
	return nil, nil, permanent(errors.New("paytrace: journals are posted to an ERP, not to PayTrace"))
}

// sale is a checked sale create.
type sale struct {
	customerID, invoiceID string
	amount                decimal.Decimal
	optional              map[string]string // description, customer_reference_id, email when set
}

// body is the request; send adds integrator_id.
func (s *sale) body() map[string]any {
	b := map[string]any{"amount": s.amount.StringFixed(2), "customer_id": s.customerID}
	if s.invoiceID != "" {
		b["invoice_id"] = s.invoiceID
	}
	for k, v := range s.optional {
		b[k] = v
	}
	return b
}

// buildSale checks w; what PayTrace would refuse, or what could not be
// settled, fails permanently before anything is sent.
func buildSale(w erp.Write) (*sale, error) {
	if w.Op != erp.Create {
		return nil, permanent(fmt.Errorf("paytrace: flows can only create %s objects, not %s them", w.Entity, w.Op))
	}
	if w.Entity != SaleEntity {
		return nil, permanent(fmt.Errorf("paytrace: flows cannot create %s objects (only %s)", w.Entity, SaleEntity))
	}
	s, err := saleParams(w.Fields)
	if err != nil {
		return nil, permanent(fmt.Errorf("paytrace: create %s: %w", SaleEntity, err))
	}
	return s, nil
}

func saleParams(f erp.Record) (*sale, error) {
	p := erp.NewParams(f)
	s := &sale{customerID: p.Str("customer_id", 50), invoiceID: p.Str("invoice_id", 50), optional: map[string]string{}}
	amount, hasAmount := p.Dec("amount")
	for _, k := range []struct {
		name string
		max  int
	}{{"description", 0}, {"customer_reference_id", 17}, {"email", 0}} {
		if v := p.Str(k.name, k.max); v != "" {
			s.optional[k.name] = v
		}
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(s.customerID) == "":
		return nil, errors.New("a sale needs the customer_id of a PayTrace customer profile")
	case strings.TrimSpace(s.customerID) != s.customerID:
		return nil, fmt.Errorf("customer_id %q has spaces around it", s.customerID)
	case !hasAmount:
		return nil, errors.New("a sale needs an amount")
	case !amount.IsPositive():
		return nil, fmt.Errorf("amount %s is not positive", amount)
	case !amount.Equal(amount.Truncate(2)):
		return nil, fmt.Errorf("amount %s has more than two decimal places: PayTrace charges dollars and cents; round it in the flow", amount)
	case len(amount.StringFixed(2)) > maxAmount:
		return nil, fmt.Errorf("amount %s is too large for PayTrace", amount)
	}
	s.amount = amount
	return s, nil
}

// decode maps the answer to a sale to its record or a failure.
func (s *sale) decode(status int, answer []byte) (erp.Record, error) {
	what := "POST " + salePath
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(answer))
	d.UseNumber()
	err := d.Decode(&m)
	code, codeOK := wholeNumber(m["response_code"])
	success, successOK := m["success"].(bool)
	if err != nil || !codeOK || !successOK {
		bad := notJSON(what, status, answer)
		e := &erp.Error{Kind: erp.Permanent, Status: status, Message: "paytrace: create Sale: " + strings.TrimPrefix(bad.Error(), "paytrace: "), Err: bad}
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			e.Err = &APIError{Code: status, Status: "not authorized: check the API user's permissions"}
			e.Message = "paytrace: create Sale: " + strings.TrimPrefix(e.Err.Error(), "paytrace: ")
		case status/100 == 2: // PayTrace took the request; what it did is unknown
			e.Kind = erp.InDoubt
		case status == http.StatusRequestTimeout: // the request did not arrive whole
			e.Kind = erp.Transient
		}
		return nil, e
	}
	text := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case json.Number:
			return v.String()
		}
		return ""
	}
	txID := text("transaction_id")
	rec := erp.Record{
		"approved":           false,
		"transaction_id":     txID,
		"response_code":      code,
		"status_message":     text("status_message"),
		"approval_code":      text("approval_code"),
		"approval_message":   text("approval_message"),
		"avs_response":       text("avs_response"),
		"csc_response":       text("csc_response"),
		"masked_card_number": text("masked_card_number"),
		"amount":             s.amount,
		"invoice_id":         s.invoiceID,
		"customer_id":        s.customerID,
	}
	errs := errorMap(m["errors"])
	switch {
	case code == codeApproved && success:
		if txID == "" {
			return nil, permanent(fmt.Errorf("paytrace: create Sale: PayTrace approved the sale (%s) but sent no transaction_id: check PayTrace before charging again", rec["status_message"]))
		}
		rec["approved"] = true
		return rec, nil
	case code != codeRequestError && !success && txID != "": // a decline: PayTrace made a transaction and said no
		return rec, nil
	case code == codeRequestError || len(errs) > 0:
		api := &APIError{Code: int(code), Status: text("status_message"), Errors: errs}
		codes := make([]string, 0, len(errs))
		for k := range errs {
			codes = append(codes, k)
		}
		sort.Strings(codes)
		return nil, &erp.Error{Kind: erp.Permanent, Status: status, Code: strings.Join(codes, ","),
			Message: "paytrace: create Sale: " + strings.TrimPrefix(api.Error(), "paytrace: "), Err: api}
	}
	return nil, permanent(fmt.Errorf("paytrace: create Sale: unexpected answer (success %t, response_code %d, transaction_id %q): %s", success, code, txID, rec["status_message"]))
}

// wholeNumber reads a JSON integer (or its text).
func wholeNumber(v any) (int64, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	default:
		return 0, false
	}
	d, err := decimal.NewFromString(text)
	if err != nil || !d.IsInteger() || d.Abs().GreaterThan(decimal.NewFromInt(1<<31)) {
		return 0, false
	}
	return d.IntPart(), true
}

// errorMap reads PayTrace's errors map: code -> messages.
func errorMap(v any) map[string][]string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, msgs := range m {
		switch x := msgs.(type) {
		case []any:
			for _, msg := range x {
				out[k] = append(out[k], fmt.Sprint(msg))
			}
		case nil:
			out[k] = nil
		default:
			out[k] = []string{fmt.Sprint(x)}
		}
	}
	return out
}

// matches reports whether an exported transaction is a sale of s.
func (s *sale) matches(tx *Transaction) bool {
	if tx.TransactionType != "SALE" || tx.CustomerID != s.customerID || tx.InvoiceID != strings.TrimSpace(s.invoiceID) {
		return false
	}
	amount, err := decimal.NewFromString(tx.Amount)
	return err == nil && amount.Equal(s.amount)
}

// mayBe reports whether a transaction Normalize cannot read has s's
// customer and invoice, so it may be s.
func (s *sale) mayBe(raw []byte) bool {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return false
	}
	str := func(k string) string { return strings.TrimSpace(fmt.Sprint(m[k])) }
	return str("customer_id") == s.customerID && str("invoice_id") == strings.TrimSpace(s.invoiceID)
}

// newer reports whether a was created after b (the larger id on a tie).
func newer(a, b *Event) bool {
	ta, tb := a.Transaction.created, b.Transaction.created
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return len(a.ID) > len(b.ID) || len(a.ID) == len(b.ID) && a.ID > b.ID
}

// exportedSale is the record of a sale as the export shows it.
func exportedSale(tx *Transaction) erp.Record {
	amount, _ := decimal.NewFromString(tx.Amount) // Normalize wrote it
	masked := ""
	if tx.CreditCard != nil {
		masked = tx.CreditCard.MaskedNumber
	}
	approved := tx.ApprovalCode != ""
	code := int64(codeDeclined)
	if approved {
		code = codeApproved
	}
	return erp.Record{
		"approved":           approved,
		"transaction_id":     tx.TransactionID,
		"response_code":      code,
		"status_message":     tx.StatusMessage,
		"approval_code":      tx.ApprovalCode,
		"approval_message":   tx.ApprovalMessage,
		"avs_response":       tx.AVSResponse,
		"csc_response":       tx.CSCResponse,
		"masked_card_number": masked,
		"amount":             amount,
		"invoice_id":         tx.InvoiceID,
		"customer_id":        tx.CustomerID,
	}
}

// sendFailure classifies a failure to get an answer to a sale: before it
// was sent, transient (or permanent for refused credentials); after, in
// doubt; a 429 or 5xx answer transient, but a 504 in doubt (a proxy gave
// up waiting for PayTrace, which may have charged the card).
func sendFailure(err error) error {
	e := &erp.Error{Kind: erp.Permanent, Message: "paytrace: create Sale: " + strings.TrimPrefix(err.Error(), "paytrace: "), Err: err}
	var (
		ns   *notSent
		lost *lostAnswer
		u    *unavailable
		api  *APIError
	)
	switch {
	case errors.As(err, &ns):
		if !errors.As(err, &api) {
			e.Kind = erp.Transient
		}
	case errors.As(err, &lost):
		e.Kind = erp.InDoubt
		e.Message += " (the answer was lost: the sale may have been made)"
	case errors.As(err, &u):
		e.Status, e.RetryAfter = u.status, u.retryAfter
		switch {
		case u.status == http.StatusGatewayTimeout, u.status/100 == 2:
			e.Kind = erp.InDoubt
		case u.status == 0, u.status == http.StatusTooManyRequests, u.status >= 500:
			e.Kind = erp.Transient
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded): // before it was written
		e.Kind = erp.Transient
	}
	return e
}

// readFailure classifies a failed read: a refused request is permanent,
// anything else transient (reading again is safe).
func readFailure(err error) error {
	kind := erp.Transient
	var api *APIError
	if errors.As(err, &api) {
		kind = erp.Permanent
	}
	return &erp.Error{Kind: kind, Message: "paytrace: settling a sale in doubt: " + strings.TrimPrefix(err.Error(), "paytrace: "), Err: err}
}

// permanent is a failure that retrying cannot fix.
func permanent(err error) error {
	return &erp.Error{Kind: erp.Permanent, Message: err.Error(), Err: err}
}
