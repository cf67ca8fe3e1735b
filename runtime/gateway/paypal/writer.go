package paypal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/jsonval"
)

// The Client creates PayPal objects for flows that write to the gateway
// (`create paypal.Refund key ... { ... }`, `create paypal.Payout ...`): it
// implements erp.Driver, and flowd binds it for the paypal import when a
// flow writes there (the client it lists transactions with).
//
// Every create is sent with a PayPal-Request-Id derived from the flow's key
// (RequestID): PayPal answers a request id it has seen (for 30 days at
// least) with the object it made the first time instead of making another.
// A payout's sender_batch_id is the same value, and PayPal refuses a batch
// id used in the last 30 days, pointing at the original batch, which Write
// then reads and returns. So Find settles a write in doubt by sending the
// same request again: PayPal answers with what the lost attempt made, or
// makes it now if that attempt never reached PayPal. Either way there is one
// refund or payout per key.
//
// Failures are classified for the executor: PayPal's 4xx answers are
// permanent; 429, 409 (the same request id still in progress), 5xx and a
// request that never left (no connection, no token) are transient; a
// request that was sent but whose answer was lost is in doubt.
var _ erp.Driver = (*Client)(nil)

// The objects flows may create (stdlib/paypal's creatables).
const (
	RefundEntity = "Refund"
	PayoutEntity = "Payout"
)

// RequestID is the PayPal-Request-Id (and, for a payout, the
// sender_batch_id) a create of entity with the flow's key is sent with:
// "flow-" and the hex SHA-256 of both, so any key fits PayPal's limits and
// the header leaks nothing of it.
func RequestID(entity, key string) string {
	sum := sha256.Sum256([]byte(entity + "\x00" + key))
	return "flow-" + hex.EncodeToString(sum[:])
}

// Write creates the object w names. Only creates are possible.
func (c *Client) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	req, err := buildCreate(w)
	if err != nil {
		return nil, err
	}
	return c.create(ctx, w.Entity, req)
}

// Find returns the object an earlier attempt of w created, by sending the
// same request with the same PayPal-Request-Id again (see Client): PayPal
// answers with that object, or creates it now if no attempt reached it, so
// a found object is always the one and only for w's key.
func (c *Client) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	req, err := buildCreate(w)
	if err != nil {
		return nil, false, err
	}
	rec, err := c.create(ctx, w.Entity, req)
	if err != nil {
		if erp.KindOf(err) == erp.InDoubt { // still unanswered: not settled yet
			return nil, false, &erp.Error{Kind: erp.Transient, Message: err.Error(), Err: err}
		}
		return nil, false, err
	}
	return rec, true, nil
}

// Lookup is not offered: the checker refuses lookups on a gateway.
func (c *Client) Lookup(context.Context, string, erp.Record) (erp.Record, bool, error) {
	return nil, false, permanent(errors.New("paypal: flows do not look up PayPal objects"))
}

// PostJournal is not offered: journals are posted to an ERP.
func (c *Client) PostJournal(context.Context, erp.Journal) (erp.Record, []erp.Record, error) {
	return nil, nil, permanent(errors.New("paypal: journals are posted to an ERP, not to PayPal"))
}

// createRequest is one create, ready to send.
type createRequest struct {
	path      string
	body      []byte
	requestID string
	payout    bool // a duplicate sender_batch_id answer names the batch
}

// buildCreate checks w and encodes its request; what PayPal would refuse
// anyway fails permanently before anything is sent.
func buildCreate(w erp.Write) (*createRequest, error) {
	if w.Op != erp.Create {
		return nil, permanent(fmt.Errorf("paypal: flows can only create %s objects, not %s them", w.Entity, w.Op))
	}
	if w.Key == "" {
		return nil, permanent(fmt.Errorf("paypal: create %s without an idempotency key", w.Entity))
	}
	id := RequestID(w.Entity, w.Key)
	var (
		req *createRequest
		err error
	)
	switch w.Entity {
	case RefundEntity:
		req, err = refundRequest(w.Fields)
	case PayoutEntity:
		req, err = payoutRequest(w.Fields, id)
	default:
		return nil, permanent(fmt.Errorf("paypal: flows cannot create %s objects", w.Entity))
	}
	if err != nil {
		return nil, permanent(fmt.Errorf("paypal: create %s: %w", w.Entity, err))
	}
	req.requestID = id
	return req, nil
}

func refundRequest(f erp.Record) (*createRequest, error) {
	p := erp.NewParams(f)
	capture := p.Str("capture_id", 36)
	amount, hasAmount := p.Dec("amount")
	currency := p.Str("currency", 0)
	body := map[string]any{}
	for _, k := range []struct {
		name string
		max  int
	}{{"invoice_id", 127}, {"custom_id", 127}, {"note_to_payer", 255}} {
		if v := p.Str(k.name, k.max); v != "" {
			body[k.name] = v
		}
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	if capture == "" {
		return nil, errors.New("a refund needs the capture_id of the payment it refunds")
	}
	if hasAmount {
		m, err := money(amount, currency)
		if err != nil {
			return nil, err
		}
		body["amount"] = map[string]string{"currency_code": m.Currency, "value": m.Value}
	} else if currency != "" {
		return nil, errors.New("currency without an amount: a refund of what is left of the capture takes neither")
	}
	data, err := encodeJSON(body)
	if err != nil {
		return nil, err
	}
	return &createRequest{path: capturesPath + url.PathEscape(capture) + "/refund", body: data}, nil
}

func payoutRequest(f erp.Record, batchID string) (*createRequest, error) {
	p := erp.NewParams(f)
	receiver := p.Str("receiver", 127)
	recipientType := p.Str("recipient_type", 0)
	amount, hasAmount := p.Dec("amount")
	currency := p.Str("currency", 0)
	item := map[string]any{}
	for _, k := range []struct {
		name string
		max  int
	}{{"note", 4000}, {"sender_item_id", 63}} {
		if v := p.Str(k.name, k.max); v != "" {
			item[k.name] = v
		}
	}
	header := map[string]any{"sender_batch_id": batchID}
	for _, k := range []struct {
		name string
		max  int
	}{{"email_subject", 255}, {"email_message", 1000}} {
		if v := p.Str(k.name, k.max); v != "" {
			header[k.name] = v
		}
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	if receiver == "" {
		return nil, errors.New("a payout needs a receiver")
	}
	switch recipientType {
	case "":
		recipientType = "EMAIL"
	case "EMAIL", "PAYPAL_ID", "PHONE":
	default:
		return nil, fmt.Errorf("recipient_type %q: want EMAIL, PAYPAL_ID or PHONE", recipientType)
	}
	if !hasAmount {
		return nil, errors.New("a payout needs an amount")
	}
	m, err := money(amount, currency)
	if err != nil {
		return nil, err
	}
	item["receiver"], item["recipient_type"] = receiver, recipientType
	// The Payouts API names the currency "currency", not "currency_code".
	item["amount"] = map[string]string{"currency": m.Currency, "value": m.Value}
	data, err := encodeJSON(map[string]any{"sender_batch_header": header, "items": []any{item}})
	if err != nil {
		return nil, err
	}
	return &createRequest{path: payoutsPath, body: data, payout: true}, nil
}

// wireMoney is an amount as sent: currency and value text.
type wireMoney struct{ Currency, Value string }

// zeroDecimal are the currencies PayPal takes without decimals.
var zeroDecimal = map[string]bool{"HUF": true, "JPY": true, "TWD": true}

// money checks an amount and writes it with its currency's places
// (12.5 USD is "12.50"). An amount with more places than the currency has
// is refused, never rounded.
func money(amount decimal.Decimal, currency string) (wireMoney, error) {
	cur := strings.ToUpper(currency)
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return wireMoney{}, fmt.Errorf("currency %q: want an ISO 4217 code such as USD", currency)
	}
	if !amount.IsPositive() {
		return wireMoney{}, fmt.Errorf("amount %s is not positive", amount)
	}
	places := int32(2)
	if zeroDecimal[cur] {
		places = 0
	}
	if !amount.Equal(amount.Truncate(places)) {
		return wireMoney{}, fmt.Errorf("amount %s has more than %d decimal places, which %s does not have: round it in the flow", amount, places, cur)
	}
	v := amount.StringFixed(places)
	if len(v) > 32 {
		return wireMoney{}, fmt.Errorf("amount %s is too large", amount)
	}
	return wireMoney{Currency: cur, Value: v}, nil
}

// create sends req and returns the object PayPal made (or had made for the
// same request id). A payout whose sender_batch_id PayPal already holds is
// answered with that batch.
func (c *Client) create(ctx context.Context, entity string, req *createRequest) (erp.Record, error) {
	h := http.Header{}
	h.Set("PayPal-Request-Id", req.requestID)
	h.Set("Prefer", "return=representation")
	ans, err := c.exchange(ctx, http.MethodPost, req.path, req.body, h)
	if err != nil {
		return nil, createError(entity, err)
	}
	if ans.status >= 200 && ans.status <= 299 {
		var obj map[string]any
		if err := jsonval.DecodeStrict(ans.data, &obj); err != nil || obj == nil {
			// PayPal made it, but its answer cannot be read: settle it.
			return nil, &erp.Error{Kind: erp.InDoubt, Status: ans.status, Message: fmt.Sprintf("paypal: create %s: %v: the answer is not a JSON object", entity, ErrUnexpectedResponse), Err: ErrUnexpectedResponse}
		}
		return obj, nil
	}
	if req.payout && ans.status >= 400 && ans.status < 500 {
		if batch := duplicateBatch(ans.data); batch != "" {
			obj, err := c.Payout(ctx, batch)
			if err != nil { // a read: retrying it is safe
				return nil, createError(entity, &notSent{err})
			}
			hdr, _ := obj["batch_header"].(map[string]any)
			sent, _ := hdr["sender_batch_header"].(map[string]any)
			if sent == nil || sent["sender_batch_id"] != req.requestID {
				return nil, permanent(fmt.Errorf("paypal: create %s: PayPal refused the batch as a duplicate of %s, which is not this key's batch", entity, batch))
			}
			return obj, nil
		}
	}
	return nil, createError(entity, ans.apiError(http.MethodPost, req.path))
}

// duplicateBatch returns the payout batch a refused payout's answer links
// to: PayPal refuses a sender_batch_id it has seen with a link to that
// batch. "" when the answer has none.
func duplicateBatch(data []byte) string {
	type link struct {
		Href string `json:"href"`
	}
	var body struct {
		Links   []link `json:"links"`
		Details []struct {
			Link  []link `json:"link"`
			Links []link `json:"links"`
		} `json:"details"`
	}
	if jsonval.DecodeStrict(data, &body) != nil {
		return ""
	}
	links := body.Links
	for _, d := range body.Details {
		links = append(append(links, d.Link...), d.Links...)
	}
	for _, l := range links {
		u, err := url.Parse(l.Href)
		if err != nil {
			continue
		}
		id, ok := strings.CutPrefix(u.Path, payoutsPath+"/")
		if ok && id != "" && !strings.Contains(id, "/") {
			return id
		}
	}
	return ""
}

// answer is an API answer other than a transport failure.
type answer struct {
	status     int
	data       []byte
	retryAfter time.Duration
}

func (a *answer) apiError(method, path string) error {
	return &createAPIError{APIError: newAPIError(method, path, a.status, a.data), retryAfter: a.retryAfter}
}

// createAPIError is an APIError with the 429's Retry-After.
type createAPIError struct {
	*APIError
	retryAfter time.Duration
}

func (e *createAPIError) Unwrap() error { return e.APIError }

// notSent is a request that never reached PayPal: no token, no
// connection. Retrying it cannot double anything.
type notSent struct{ err error }

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }

// exchange sends one authenticated request, fetching a token when none is
// cached and once more when PayPal answers 401. A transport failure is a
// *notSent when the request was not written, and wraps ErrUnavailable
// either way.
func (c *Client) exchange(ctx context.Context, method, path string, body []byte, h http.Header) (*answer, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.bearer(ctx)
		if err != nil {
			return nil, &notSent{err}
		}
		ans, err := c.sendTraced(ctx, method, path, body, h, token)
		if err != nil {
			return nil, err
		}
		if ans.status == http.StatusUnauthorized && attempt == 0 {
			c.forget(token)
			continue
		}
		return ans, nil
	}
}

// sendTraced is api.send that tells a request never written from one whose
// answer was lost, and keeps a 429's Retry-After.
func (c *Client) sendTraced(ctx context.Context, method, path string, body []byte, h http.Header, token string) (*answer, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(ctx, trace), c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, &notSent{fmt.Errorf("paypal: %v", err)}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.client.Do(req)
	if err != nil {
		err = fmt.Errorf("%w: %s %s: %v", ErrUnavailable, method, path, err)
		if !wrote.Load() {
			return nil, &notSent{err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %v", ErrUnavailable, method, path, err)
	}
	ans := &answer{status: resp.StatusCode, data: data}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ans.retryAfter = time.Duration(min(s, 3600)) * time.Second
	}
	return ans, nil
}

// createError classifies a create's failure: an API answer by its status,
// a request that never left as transient, and a request whose answer was
// lost (it may have been carried out) as in doubt.
func createError(entity string, err error) error {
	e := &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("paypal: create %s: %v", entity, err), Err: err}
	var ae *APIError
	var ns *notSent
	switch {
	case errors.As(err, &ae):
		e.Status, e.Code = ae.Status, ae.Name
		if ae.Transient() {
			e.Kind = erp.Transient
		}
		var ce *createAPIError
		if errors.As(err, &ce) {
			e.RetryAfter = ce.retryAfter
		}
	case errors.As(err, &ns):
		if Transient(err) {
			e.Kind = erp.Transient
		}
	case errors.Is(err, ErrUnexpectedResponse):
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Kind = erp.InDoubt
	}
	return e
}

// permanent is a failure that retrying cannot fix.
func permanent(err error) error {
	return &erp.Error{Kind: erp.Permanent, Message: err.Error(), Err: err}
}
