package paypal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// The REST API paths the Client uses.
const (
	capturesPath     = "/v2/payments/captures/"
	transactionsPath = "/v1/reporting/transactions"
	payoutsPath      = "/v1/payments/payouts"
)

// ErrUnexpectedResponse is wrapped when PayPal answers 2xx with JSON that is
// not what was asked for (not an object, a page that cannot be continued).
// Retrying would get the same answer, so it is not transient.
var ErrUnexpectedResponse = errors.New("paypal: unexpected response")

// errNoID rejects a call without an id before any request is made.
var errNoID = errors.New("empty id")

// ClientConfig configures NewClient. BaseURL, ClientID and Secret are
// required.
type ClientConfig struct {
	// BaseURL is the API's https base URL: LiveBaseURL, SandboxBaseURL, or
	// a test server's.
	BaseURL string
	// ClientID and Secret are the REST app's credentials, exchanged for an
	// OAuth2 token (client-credentials grant) that is kept until it expires.
	ClientID, Secret string
	// Client makes the API requests; nil means a plain http.Client.
	Client *http.Client
	// Timeout bounds each API request (DefaultFetchTimeout when 0 or less),
	// on top of the request context.
	Timeout time.Duration
	// Now is the clock token expiry is measured with; nil means time.Now.
	Now func() time.Time
}

// Client reads and writes PayPal's REST API: captures, refunds, Transaction
// Search and payouts. Objects come back as map[string]any decoded with
// json.Number for numbers (amounts are strings, as PayPal sends them). It
// shares the token code with Online (the api type): a token is fetched
// once, kept until shortly before it expires, and fetched again once when
// PayPal answers 401. A Client is safe for concurrent use.
type Client struct {
	*api
}

// NewClient returns a Client. It fails only on configuration.
func NewClient(cfg ClientConfig) (*Client, error) {
	a, err := newAPI("paypal", cfg.BaseURL, cfg.ClientID, cfg.Secret, cfg.Client, cfg.Timeout, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Client{api: a}, nil
}

// APIError is an answer of PayPal's other than 2xx.
type APIError struct {
	Method, Path string
	Status       int
	Name         string // PayPal's error name: "RESOURCE_NOT_FOUND", "UNPROCESSABLE_ENTITY"
	Message      string
	DebugID      string // quote it to PayPal support
	Issues       []string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("paypal: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	for _, part := range []string{e.Name, e.Message} {
		if part != "" {
			s += ": " + part
		}
	}
	if len(e.Issues) > 0 {
		s += " (" + strings.Join(e.Issues, ", ") + ")"
	}
	if e.DebugID != "" {
		s += " [debug_id " + e.DebugID + "]"
	}
	return s
}

// Transient reports whether the call may succeed later: a rate limit (429),
// a conflict with a request still in progress (409) or a PayPal server
// error (5xx).
func (e *APIError) Transient() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusConflict || e.Status >= 500
}

func newAPIError(method, path string, status int, data []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var body struct {
		Name        string `json:"name"`
		Message     string `json:"message"`
		DebugID     string `json:"debug_id"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Details     []struct {
			Field string `json:"field"`
			Issue string `json:"issue"`
		} `json:"details"`
	}
	if jsonval.DecodeStrict(data, &body) == nil {
		e.Name, e.Message, e.DebugID = body.Name, body.Message, body.DebugID
		if e.Name == "" {
			e.Name, e.Message = body.Error, body.Description
		}
		for _, d := range body.Details {
			if d.Issue != "" {
				e.Issues = append(e.Issues, strings.TrimSpace(d.Issue+" "+d.Field))
			}
		}
	}
	return e
}

// Transient reports whether err, returned by a Client method, may go away
// if the call is retried later: PayPal unreachable or timing out
// (ErrUnavailable), a cancelled context, or an APIError that says so.
// Everything else is permanent: PayPal's other 4xx answers (invalid
// request, missing object, refused credentials), ErrUnexpectedResponse and
// a call without an id.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Transient()
	}
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// do sends an authenticated request and decodes a 2xx answer into out (nil
// to ignore it). It fetches a token when none is cached, and once more when
// PayPal answers 401. header, when set, adds headers (PayPal-Request-Id).
func (c *Client) do(ctx context.Context, method, path string, body []byte, header http.Header, out any) error {
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	for attempt := 0; ; attempt++ {
		token, err := c.bearer(ctx)
		if err != nil {
			return err
		}
		status, data, err := c.send(ctx, method, path, contentType, bytes.NewReader(body), func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			for k, v := range header {
				r.Header[k] = v
			}
		})
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.forget(token)
			continue
		}
		if status < 200 || status > 299 {
			return newAPIError(method, path, status, data)
		}
		if out == nil {
			return nil
		}
		if err := jsonval.DecodeStrict(data, out); err != nil {
			return fmt.Errorf("%w: %s %s: %v", ErrUnexpectedResponse, method, path, err)
		}
		return nil
	}
}

// object requests one object.
func (c *Client) object(ctx context.Context, method, path string, body []byte, header http.Header) (map[string]any, error) {
	var obj map[string]any
	if err := c.do(ctx, method, path, body, header, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: %s %s: not an object", ErrUnexpectedResponse, method, path)
	}
	return obj, nil
}

// Capture fetches a captured payment (GET /v2/payments/captures/{id}): the
// same shape as a PAYMENT.CAPTURE.* event's resource.
func (c *Client) Capture(ctx context.Context, id string) (map[string]any, error) {
	if id == "" {
		return nil, fmt.Errorf("paypal: get capture: %w", errNoID)
	}
	return c.object(ctx, http.MethodGet, capturesPath+url.PathEscape(id), nil, nil)
}

// Money is an amount as PayPal's API takes it.
type Money struct {
	Currency string          // ISO-4217: "USD"
	Value    decimal.Decimal // exact; sent with its own places: 30.00 as "30.00"
}

// json is the amount as the v2 payments API spells it (currency_code).
func (m Money) json() map[string]string {
	places := max(int32(0), -m.Value.Exponent())
	return map[string]string{"currency_code": strings.ToUpper(m.Currency), "value": m.Value.StringFixed(places)}
}

// payoutJSON is the amount as the v1 Payouts API spells it (currency).
func (m Money) payoutJSON() map[string]string {
	places := max(int32(0), -m.Value.Exponent())
	return map[string]string{"currency": strings.ToUpper(m.Currency), "value": m.Value.StringFixed(places)}
}

// RefundRequest is the body of a capture refund. The zero value refunds
// what is left of the capture.
type RefundRequest struct {
	Amount      *Money // nil: the whole remaining amount
	InvoiceID   string
	CustomID    string
	NoteToPayer string
}

// Refund refunds a capture (POST /v2/payments/captures/{id}/refund) and
// returns the refund. requestID is sent as PayPal-Request-Id: PayPal
// answers a repeated request with the same id with the refund it already
// made instead of refunding twice, so a retry after a timeout is safe as
// long as it reuses the id (an idempotency key of the caller's, such as
// "refund:" + the return order's number). It is required.
func (c *Client) Refund(ctx context.Context, captureID, requestID string, req RefundRequest) (map[string]any, error) {
	if captureID == "" {
		return nil, fmt.Errorf("paypal: refund: %w", errNoID)
	}
	if requestID == "" {
		return nil, errors.New("paypal: refund: a PayPal-Request-Id is required, so that a retry cannot refund twice")
	}
	body := map[string]any{}
	if req.Amount != nil {
		if !req.Amount.Value.IsPositive() {
			return nil, fmt.Errorf("paypal: refund: amount %s is not positive", req.Amount.Value)
		}
		body["amount"] = req.Amount.json()
	}
	for k, v := range map[string]string{"invoice_id": req.InvoiceID, "custom_id": req.CustomID, "note_to_payer": req.NoteToPayer} {
		if v != "" {
			body[k] = v
		}
	}
	data, err := encodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("paypal: refund: %v", err)
	}
	h := http.Header{"Paypal-Request-Id": {requestID}, "Prefer": {"return=representation"}}
	return c.object(ctx, http.MethodPost, capturesPath+url.PathEscape(captureID)+"/refund", data, h)
}

// PayoutItem is one payment of a payout batch.
type PayoutItem struct {
	RecipientType string // "EMAIL", "PHONE" or "PAYPAL_ID"
	Receiver      string // the address, phone number or PayPal id
	Amount        Money
	Note          string
	SenderItemID  string // the caller's id of the item, e.g. the vendor invoice
}

// Payout is a batch of payments to vendors.
type Payout struct {
	// SenderBatchID is the caller's id of the batch. PayPal refuses a
	// batch id used in the last 30 days, and it is sent as
	// PayPal-Request-Id too: a retried payout never pays twice.
	SenderBatchID string
	EmailSubject  string
	EmailMessage  string
	Items         []PayoutItem
}

// CreatePayout sends a payout batch (POST /v1/payments/payouts) and returns
// PayPal's answer (batch_header with payout_batch_id and batch_status).
func (c *Client) CreatePayout(ctx context.Context, p Payout) (map[string]any, error) {
	if p.SenderBatchID == "" {
		return nil, errors.New("paypal: payout: a sender batch id is required, so that a retry cannot pay twice")
	}
	if len(p.Items) == 0 {
		return nil, errors.New("paypal: payout: no items")
	}
	header := map[string]string{"sender_batch_id": p.SenderBatchID}
	if p.EmailSubject != "" {
		header["email_subject"] = p.EmailSubject
	}
	if p.EmailMessage != "" {
		header["email_message"] = p.EmailMessage
	}
	items := make([]map[string]any, len(p.Items))
	for i, it := range p.Items {
		if it.Receiver == "" || !it.Amount.Value.IsPositive() {
			return nil, fmt.Errorf("paypal: payout: item %d needs a receiver and a positive amount", i+1)
		}
		item := map[string]any{"receiver": it.Receiver, "amount": it.Amount.payoutJSON()}
		for k, v := range map[string]string{"recipient_type": it.RecipientType, "note": it.Note, "sender_item_id": it.SenderItemID} {
			if v != "" {
				item[k] = v
			}
		}
		items[i] = item
	}
	data, err := encodeJSON(map[string]any{"sender_batch_header": header, "items": items})
	if err != nil {
		return nil, fmt.Errorf("paypal: payout: %v", err)
	}
	return c.object(ctx, http.MethodPost, payoutsPath, data, http.Header{"Paypal-Request-Id": {p.SenderBatchID}})
}

// Payout fetches a payout batch (GET /v1/payments/payouts/{id}) with its
// items' statuses.
func (c *Client) Payout(ctx context.Context, batchID string) (map[string]any, error) {
	if batchID == "" {
		return nil, fmt.Errorf("paypal: get payout: %w", errNoID)
	}
	return c.object(ctx, http.MethodGet, payoutsPath+"/"+url.PathEscape(batchID), nil, nil)
}
