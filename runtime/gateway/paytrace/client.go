package paytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
)

// Hosts of the API.
const (
	Production = "https://api.paytrace.com"
	Sandbox    = "https://api.sandbox.paytrace.com"
)

// Config configures a Client.
type Config struct {
	BaseURL      string // default Production
	Username     string // the API user
	Password     string
	IntegratorID string       // sent with every request
	HTTP         *http.Client // default: a client with a 30 s timeout
	// Now is the clock tokens expire by, and the one Find takes today from
	// (default time.Now).
	Now func() time.Time
	// Loc is the merchant's time zone, in which PayTrace keeps its days:
	// Find exports the days around today in it (default UTC).
	Loc *time.Location
}

// Client calls PayTrace's JSON API v1. It is safe for concurrent use; it
// shares one token between calls.
type Client struct {
	cfg  Config
	base string

	mu      sync.Mutex
	token   string
	expires time.Time
}

// maxAnswer bounds what the client reads of an answer.
const maxAnswer = 64 << 20

// New returns a client; it makes no request until one is needed.
func New(cfg Config) (*Client, error) {
	if cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("paytrace: a username and a password are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = Production
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("paytrace: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	return &Client{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/")}, nil
}

// tokenAnswer is POST /oauth/token's answer, or its OAuth error.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// refreshMargin is how long before its expiry a token is replaced.
const refreshMargin = 5 * time.Minute

// Token returns a bearer token, from the cache while it has more than a
// few minutes left (PayTrace's last 7200 s), or a new one.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock() // one request for a token at a time; the others wait for it
	now := c.cfg.Now()
	if c.token != "" && now.Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"password"}, "username": {c.cfg.Username}, "password": {c.cfg.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	status, body, err := c.do(req)
	if err != nil {
		return "", err
	}
	var a tokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return "", notJSON("POST /oauth/token", status, body)
	}
	if a.Error != "" || status == http.StatusBadRequest || status == http.StatusUnauthorized {
		if a.Error == "" {
			a.Error = http.StatusText(status)
		}
		msg := a.Error
		if a.ErrorDescription != "" {
			msg += ": " + a.ErrorDescription
		}
		return "", &APIError{Code: status, Status: "the token was refused: " + msg}
	}
	if status/100 != 2 {
		return "", unavailablef("POST /oauth/token: HTTP %d", status)
	}
	if a.AccessToken == "" || !strings.EqualFold(a.TokenType, "bearer") {
		return "", unavailablef("POST /oauth/token: the answer has no bearer token (token_type %q)", a.TokenType)
	}
	life := 7200 * time.Second
	if n, err := decimal.NewFromString(strings.Trim(string(a.ExpiresIn), `"`)); err == nil && n.IsPositive() && n.LessThan(decimal.NewFromInt(1<<31)) {
		life = time.Duration(n.IntPart()) * time.Second
	}
	margin := min(refreshMargin, life/2)
	c.token, c.expires = a.AccessToken, now.Add(life-margin)
	return c.token, nil
}

// forget drops the cached token if it is still tok (PayTrace refused it).
func (c *Client) forget(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// do sends req and reads the answer; errors are ErrUnavailable, and so
// are 429 and 5xx. A failure after the request was written is a
// *lostAnswer (PayTrace may have acted on it); a cancelled ctx is ctx's
// error.
func (c *Client) do(req *http.Request) (int, []byte, error) {
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}))
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		if ctx := req.Context(); ctx.Err() != nil {
			err = ctx.Err()
		} else {
			err = unavailablef("%s %s: %v", req.Method, req.URL.Path, err)
		}
		if wrote.Load() {
			err = &lostAnswer{err}
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return 0, nil, &lostAnswer{unavailablef("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)}
	}
	if len(body) > maxAnswer {
		return 0, nil, &unavailable{msg: fmt.Sprintf("%s %s: the answer is over %d MiB", req.Method, req.URL.Path, maxAnswer>>20), status: resp.StatusCode}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		u := &unavailable{msg: fmt.Sprintf("%s %s: HTTP %d", req.Method, req.URL.Path, resp.StatusCode), status: resp.StatusCode}
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			u.retryAfter = time.Duration(min(s, 3600)) * time.Second
		}
		return 0, nil, u
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt != "application/json" && !strings.HasSuffix(mt, "+json") && resp.StatusCode/100 == 2 {
		return 0, nil, notJSON(req.Method+" "+req.URL.Path, resp.StatusCode, body)
	}
	return resp.StatusCode, body, nil
}

func notJSON(what string, status int, body []byte) error {
	snippet := strings.ToValidUTF8(string(body), "?")
	if len(snippet) > 80 {
		snippet = snippet[:80] + "..."
	}
	return &unavailable{msg: fmt.Sprintf("%s: the answer is not PayTrace's JSON (HTTP %d): %q", what, status, snippet), status: status}
}

// envelope is the part every v1 answer shares.
type envelope struct {
	Success       *bool               `json:"success"`
	ResponseCode  *int                `json:"response_code"`
	StatusMessage string              `json:"status_message"`
	Errors        map[string][]string `json:"errors"`
	TransactionID json.Number         `json:"transaction_id"`
	Approval      string              `json:"approval_message"`
}

// call POSTs body (with the integrator id) to path with a bearer token and
// decodes the answer into out; a refused token is replaced once.
func (c *Client) call(ctx context.Context, path string, body map[string]any, out any) (*envelope, error) {
	status, answer, err := c.send(ctx, path, body)
	if err != nil {
		return nil, err
	}
	return decodeAnswer("POST "+path, status, answer, out)
}

// send POSTs body (with the integrator id) to path with a bearer token and
// returns the answer's status and bytes; a token PayTrace refuses (401) is
// replaced once. A failure to get a token is a *notSent.
func (c *Client) send(ctx context.Context, path string, body map[string]any) (int, []byte, error) {
	if c.cfg.IntegratorID != "" {
		body["integrator_id"] = c.cfg.IntegratorID
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	for try := 0; ; try++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return 0, nil, &notSent{err}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		status, answer, err := c.do(req)
		if err != nil {
			return 0, nil, err
		}
		if status == http.StatusUnauthorized && try == 0 { // expired or revoked early
			c.forget(tok)
			continue
		}
		return status, answer, nil
	}
}

// decodeAnswer maps an answer to the caller's value or an error.
func decodeAnswer(what string, status int, answer []byte, out any) (*envelope, error) {
	var env envelope
	d := json.NewDecoder(bytes.NewReader(answer))
	d.UseNumber()
	if err := d.Decode(&env); err != nil || env.ResponseCode == nil || env.Success == nil {
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return nil, &APIError{Code: status, Status: "not authorized: check the API user's permissions"}
		}
		return nil, notJSON(what, status, answer)
	}
	code := *env.ResponseCode
	switch {
	case declineCodes[code]:
		return &env, &Decline{Code: code, Status: env.StatusMessage, Approval: strings.TrimSpace(env.Approval), TransactionID: string(env.TransactionID)}
	case !*env.Success || len(env.Errors) > 0:
		return &env, &APIError{Code: code, Status: env.StatusMessage, Errors: env.Errors}
	case !successCodes[code]:
		return &env, &APIError{Code: code, Status: "unknown response_code: " + env.StatusMessage}
	}
	if out != nil {
		d := json.NewDecoder(bytes.NewReader(answer))
		d.UseNumber()
		if err := d.Decode(out); err != nil {
			return &env, unavailablef("%s: the answer does not have PayTrace's shape: %v", what, err)
		}
	}
	return &env, nil
}

// RefundResult is what a refund made.
type RefundResult struct {
	TransactionID string // the refund's own transaction
	Code          int    // 106 refunded, 108 a test refund
	Status        string
}

// Refund refunds amount (dollars) of a settled transaction (POST
// /v1/transactions/refund/for_transaction); a zero amount refunds it in
// full. A refund PayTrace did not make is a *Decline (107); a bad
// transaction id an *APIError.
func (c *Client) Refund(ctx context.Context, transactionID string, amount decimal.Decimal) (*RefundResult, error) {
	id, err := checkID(transactionID)
	if err != nil {
		return nil, err
	}
	if amount.IsNegative() || !amount.Equal(amount.Round(2)) {
		return nil, fmt.Errorf("paytrace: refund amount %s: want dollars and cents, not negative", amount)
	}
	body := map[string]any{"transaction_id": json.Number(id)}
	if !amount.IsZero() {
		body["amount"] = amount.StringFixed(2)
	}
	env, err := c.call(ctx, "/v1/transactions/refund/for_transaction", body, nil)
	if err != nil {
		return nil, err
	}
	return &RefundResult{TransactionID: string(env.TransactionID), Code: *env.ResponseCode, Status: env.StatusMessage}, nil
}

// checkID checks a transaction id: PayTrace's are positive integers.
func checkID(id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 19 || strings.Trim(id, "0123456789") != "" {
		return "", fmt.Errorf("paytrace: transaction id %q is not a number", id)
	}
	return id, nil
}
