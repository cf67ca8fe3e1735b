package stripe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// pageSize is the most items Stripe returns per list page.
const pageSize = 100

// ErrUnexpectedResponse is wrapped when Stripe answers 2xx with JSON that is
// not what was asked for: another kind of object, or a list page that cannot
// be continued. Retrying would get the same answer, so it is not Transient.
var ErrUnexpectedResponse = errors.New("unexpected response")

// errNoID rejects a call without an object ID before any request is made.
var errNoID = errors.New("empty id")

// Client reads the Stripe API through stripe-go's backend, which sets the
// Authorization and Stripe-Version headers and retries connection errors,
// 409s, 5xxs and lock-timeout 429s (twice, with backoff). Objects come back
// as map[string]any decoded from the response body with json.Number for
// numbers. A Client is safe for concurrent use.
type Client struct {
	key     string
	backend stripego.Backend
}

// NewClient returns a Client using apiKey against backendURL ("" for
// https://api.stripe.com; a stripe-mock URL in tests) through httpClient (nil
// for stripe-go's default client, with its 80 s timeout).
func NewClient(apiKey, backendURL string, httpClient *http.Client) *Client {
	cfg := &stripego.BackendConfig{
		HTTPClient: httpClient,
		// Errors are returned to the caller, who logs them; stripe-go would
		// also print them to stderr.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if backendURL != "" {
		cfg.URL = stripego.String(backendURL)
	}
	return &Client{key: apiKey, backend: stripego.GetBackendWithConfig(stripego.APIBackend, cfg)}
}

// Payout fetches the payout with the given ID ("po_...").
func (c *Client) Payout(ctx context.Context, id string) (map[string]any, error) {
	params := &stripego.PayoutParams{Params: stripego.Params{Context: ctx}}
	return c.get("payout", "/v1/payouts/%s", id, params)
}

// Charge fetches the charge with the given ID ("ch_...").
func (c *Client) Charge(ctx context.Context, id string) (map[string]any, error) {
	params := &stripego.ChargeParams{Params: stripego.Params{Context: ctx}}
	return c.get("charge", "/v1/charges/%s", id, params)
}

// get fetches one object and checks that it is of the wanted kind.
func (c *Client) get(object, pathFormat, id string, params stripego.ParamsContainer) (map[string]any, error) {
	if id == "" {
		return nil, fmt.Errorf("stripe: get %s: %w", object, errNoID)
	}
	var res rawResponse
	if err := c.backend.Call(http.MethodGet, stripego.FormatURLPath(pathFormat, id), c.key, params, &res); err != nil {
		return nil, fmt.Errorf("stripe: get %s %s: %w", object, id, err)
	}
	var obj map[string]any
	if err := res.decode(&obj); err != nil {
		return nil, fmt.Errorf("stripe: get %s %s: %w: %v", object, id, ErrUnexpectedResponse, err)
	}
	if got := obj["object"]; got != object {
		return nil, fmt.Errorf("stripe: get %s %s: %w: object is %v", object, id, ErrUnexpectedResponse, got)
	}
	return obj, nil
}

// BalanceTransactions lists every balance transaction paid out by the payout
// with the given ID, in Stripe's order (newest first), fetching pages of 100
// as the caller iterates. It stops at the first error, which it yields
// with a nil item; breaking out of the loop stops it between items.
func (c *Client) BalanceTransactions(ctx context.Context, payoutID string) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		if payoutID == "" {
			yield(nil, fmt.Errorf("stripe: list balance transactions: %w", errNoID))
			return
		}
		params := &stripego.BalanceTransactionListParams{Payout: stripego.String(payoutID)}
		params.Context = ctx
		params.Limit = stripego.Int64(pageSize)
		for {
			page, err := c.listPage(params)
			if err != nil {
				yield(nil, fmt.Errorf("stripe: list balance transactions of payout %s: %w", payoutID, err))
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			next, err := page.cursor(params.StartingAfter)
			if err != nil {
				yield(nil, fmt.Errorf("stripe: list balance transactions of payout %s: %w: %v", payoutID, ErrUnexpectedResponse, err))
				return
			}
			params.StartingAfter = &next
		}
	}
}

// listPage is one page of a Stripe list ("object": "list").
type listPage struct {
	Object  string           `json:"object"`
	Data    []map[string]any `json:"data"`
	HasMore bool             `json:"has_more"`
}

func (c *Client) listPage(params *stripego.BalanceTransactionListParams) (*listPage, error) {
	// As stripe-go's balancetransaction.List does: Call cannot encode list
	// params, CallRaw takes the query and the common params apart.
	query := &form.Values{}
	form.AppendTo(query, params)
	var res rawResponse
	if err := c.backend.CallRaw(http.MethodGet, "/v1/balance_transactions", c.key, query, params.GetParams(), &res); err != nil {
		return nil, err
	}
	var page listPage
	if err := res.decode(&page); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnexpectedResponse, err)
	}
	if page.Object != "list" {
		return nil, fmt.Errorf("%w: object is %q, want a list", ErrUnexpectedResponse, page.Object)
	}
	if slices.ContainsFunc(page.Data, func(item map[string]any) bool { return item == nil }) {
		return nil, fmt.Errorf("%w: null list item", ErrUnexpectedResponse)
	}
	return &page, nil
}

// cursor returns the ID to pass as starting_after for the next page: the
// last item's. A page that has more but cannot move past prev is an error,
// not an endless loop.
func (p *listPage) cursor(prev *string) (string, error) {
	if len(p.Data) == 0 {
		return "", errors.New("empty page with has_more")
	}
	id, _ := p.Data[len(p.Data)-1]["id"].(string)
	if id == "" {
		return "", errors.New("last item has no id")
	}
	if prev != nil && *prev == id {
		return "", fmt.Errorf("page after %s ends with %s again", id, id)
	}
	return id, nil
}

// rawResponse receives a response through stripe-go's backend without
// decoding it into stripe-go's structs: the body stays in LastResponse.
type rawResponse struct {
	stripego.APIResource
}

// decode decodes the response body into v with json.Number for numbers.
func (r *rawResponse) decode(v any) error {
	if r.LastResponse == nil {
		return errors.New("no response")
	}
	return jsonval.DecodeStrict(r.LastResponse.RawJSON, v)
}

// Transient reports whether err, returned by a Client method, may go away
// if the call is retried later: a rate limit (429), a conflict (409), a
// Stripe server error (5xx), a connection failure or timeout, a cancelled
// context, or a response body that was not JSON (a proxy's error page).
// Everything else is permanent: Stripe's 4xx answers (invalid request,
// authentication, missing object), ErrUnexpectedResponse, an empty ID and a
// TLS certificate that does not verify.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var se *stripego.Error
	if errors.As(err, &se) {
		s := se.HTTPStatusCode
		return s == http.StatusTooManyRequests || s == http.StatusConflict || s >= 500
	}
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, errNoID), errors.As(err, &certErr):
		return false
	}
	return true
}
