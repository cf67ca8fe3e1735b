package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// PayPal's REST API base URLs.
const (
	LiveBaseURL    = "https://api-m.paypal.com"
	SandboxBaseURL = "https://api-m.sandbox.paypal.com"
)

// The API paths Online uses.
const (
	tokenPath  = "/v1/oauth2/token"
	verifyPath = "/v1/notifications/verify-webhook-signature"
)

// maxAPIResponse bounds what Online reads of an API answer.
const maxAPIResponse = 1 << 20

// OnlineConfig configures NewOnline. BaseURL, ClientID, Secret and
// WebhookID are required.
type OnlineConfig struct {
	// BaseURL is the API's https base URL: LiveBaseURL, SandboxBaseURL, or
	// a test server's.
	BaseURL string
	// ClientID and Secret are the REST app's credentials, exchanged for an
	// OAuth2 token (client-credentials grant) that is kept until it expires.
	ClientID, Secret string
	// WebhookID is the id of the webhook subscription (see OfflineConfig).
	WebhookID string

	// Client makes the API requests; nil means a plain http.Client.
	Client *http.Client
	// Timeout bounds each API request (DefaultFetchTimeout when 0 or less),
	// on top of the request context.
	Timeout time.Duration
	// Now is the clock token expiry is measured with; nil means time.Now.
	Now func() time.Time
}

// Online verifies deliveries by asking PayPal (POST
// /v1/notifications/verify-webhook-signature). It still checks the headers
// and the certificate URL itself first, so that nothing malformed is sent.
// Note that the API takes the event as a JSON object, not the raw body: it
// re-serialises what Offline checks byte for byte. It is safe for
// concurrent use.
type Online struct {
	*api
	webhookID string
}

// api is PayPal's REST API as one set of client credentials sees it: the
// base URL, the HTTP client and the OAuth2 token (client-credentials grant),
// cached until shortly before it expires. Online and Client share it.
type api struct {
	base             string
	clientID, secret string
	client           *http.Client
	timeout          time.Duration
	now              func() time.Time

	mu      sync.Mutex // held while a token is fetched, so only one is
	token   string
	expires time.Time
}

// newAPI checks the base URL and the credentials; what says the error
// names the caller ("paypal webhook", "paypal").
func newAPI(what, baseURL, clientID, secret string, client *http.Client, timeout time.Duration, now func() time.Time) (*api, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%s: base URL %q is not an https URL", what, baseURL)
	}
	if clientID == "" || secret == "" {
		return nil, fmt.Errorf("%s: no client id or secret configured", what)
	}
	a := &api{
		base:     strings.TrimSuffix(baseURL, "/"),
		clientID: clientID,
		secret:   secret,
		client:   client,
		timeout:  positive(timeout, DefaultFetchTimeout),
		now:      now,
	}
	if a.client == nil {
		a.client = &http.Client{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// NewOnline returns an Online verifier. It fails only on configuration.
func NewOnline(cfg OnlineConfig) (*Online, error) {
	a, err := newAPI("paypal webhook", cfg.BaseURL, cfg.ClientID, cfg.Secret, cfg.Client, cfg.Timeout, cfg.Now)
	if err != nil {
		return nil, err
	}
	if cfg.WebhookID == "" {
		return nil, errors.New("paypal webhook: no webhook id configured")
	}
	return &Online{api: a, webhookID: cfg.WebhookID}, nil
}

// verifyRequest is the API's verify_webhook_signature.
type verifyRequest struct {
	AuthAlgo         string          `json:"auth_algo"`
	CertURL          string          `json:"cert_url"`
	TransmissionID   string          `json:"transmission_id"`
	TransmissionSig  string          `json:"transmission_sig"`
	TransmissionTime string          `json:"transmission_time"`
	WebhookID        string          `json:"webhook_id"`
	WebhookEvent     json.RawMessage `json:"webhook_event"`
}

// Verify checks the headers and the certificate URL as Offline does, then
// asks PayPal. It returns nil when PayPal answers SUCCESS, ErrBadSignature
// on FAILURE or when PayPal rejects the request as invalid (4xx), an error
// wrapping ErrUnavailable when PayPal cannot be reached or answers 429 or
// 5xx, and a plain error when PayPal refuses the credentials.
func (o *Online) Verify(ctx context.Context, header http.Header, body []byte) error {
	d, err := parseHeaders(header)
	if err != nil {
		return err
	}
	if _, err := checkCertURL(d.certURL); err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return fmt.Errorf("%w: not a JSON object", ErrMalformedBody)
	}
	req, err := encodeJSON(verifyRequest{
		AuthAlgo:         d.authAlgo,
		CertURL:          d.certURL,
		TransmissionID:   d.transmissionID,
		TransmissionSig:  d.sigText,
		TransmissionTime: d.transmissionTime,
		WebhookID:        o.webhookID,
		WebhookEvent:     body,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedBody, err)
	}
	var ans struct {
		Status string `json:"verification_status"`
	}
	if err := o.call(ctx, req, &ans); err != nil {
		return err
	}
	switch ans.Status {
	case "SUCCESS":
		return nil
	case "FAILURE":
		return fmt.Errorf("%w: PayPal answered FAILURE", ErrBadSignature)
	}
	return fmt.Errorf("%w: PayPal answered verification_status %q", ErrUnavailable, ans.Status)
}

// encodeJSON marshals v without escaping <, > and &, so the event goes out
// as close to the bytes received as encoding/json allows (compacted).
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// call POSTs a verify request with a bearer token, fetching one when none is
// cached and once more when PayPal answers 401, and decodes a 200 answer
// into ans. PayPal rejecting the request as invalid (4xx but 401, 403 and
// 429) is ErrBadSignature: what it validates came from the sender.
func (o *Online) call(ctx context.Context, req []byte, ans any) error {
	for attempt := 0; ; attempt++ {
		token, err := o.bearer(ctx)
		if err != nil {
			return err
		}
		status, data, err := o.post(ctx, verifyPath, "application/json", bytes.NewReader(req), func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
		})
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusOK:
			if err := json.Unmarshal(data, ans); err != nil {
				return fmt.Errorf("%w: verification answer: %v", ErrUnavailable, err)
			}
			return nil
		case status == http.StatusUnauthorized && attempt == 0:
			o.forget(token)
			continue
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("paypal webhook: PayPal refused the token: %s", apiError(status, data))
		case status == http.StatusTooManyRequests || status >= 500:
			return fmt.Errorf("%w: verify-webhook-signature: %s", ErrUnavailable, apiError(status, data))
		case status >= 400 && status < 500:
			return fmt.Errorf("%w: PayPal rejected the request: %s", ErrBadSignature, apiError(status, data))
		}
		return fmt.Errorf("%w: verify-webhook-signature: %s", ErrUnavailable, apiError(status, data))
	}
}

// bearer returns a cached token that has not expired, or fetches one.
func (o *api) bearer(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token != "" && o.now().Before(o.expires) {
		return o.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	status, data, err := o.post(ctx, tokenPath, "application/x-www-form-urlencoded", strings.NewReader(form), func(r *http.Request) {
		r.SetBasicAuth(o.clientID, o.secret)
	})
	if err != nil {
		return "", err
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return "", fmt.Errorf("%w: oauth2 token: %s", ErrUnavailable, apiError(status, data))
	case status != http.StatusOK:
		return "", fmt.Errorf("paypal webhook: PayPal refused the client credentials: %s", apiError(status, data))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"` // seconds
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("%w: oauth2 token: no access_token in the answer", ErrUnavailable)
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer") {
		return "", fmt.Errorf("paypal webhook: oauth2 token type %q, want Bearer", tok.TokenType)
	}
	o.token, o.expires = tok.AccessToken, o.now().Add(tokenLife(tok.ExpiresIn))
	return o.token, nil
}

// tokenLife is how long a token that expires in s seconds is used: a
// minute less (half as long for tokens of two minutes or less), so that no
// request goes out with a token about to expire.
func tokenLife(s int64) time.Duration {
	const maxSeconds = 30 * 24 * 3600 // more would be a bogus answer
	s = min(max(s, 0), maxSeconds)
	life := time.Duration(s) * time.Second
	if life <= 2*time.Minute {
		return life / 2
	}
	return life - time.Minute
}

// forget drops token if it is still the cached one.
func (o *api) forget(token string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == token {
		o.token = ""
	}
}

// post sends one POST request; see send.
func (o *api) post(ctx context.Context, path, contentType string, body io.Reader, auth func(*http.Request)) (int, []byte, error) {
	return o.send(ctx, http.MethodPost, path, contentType, body, auth)
}

// send sends one API request and reads at most maxAPIResponse bytes of the
// answer. Transport failures wrap ErrUnavailable.
func (o *api) send(ctx context.Context, method, path, contentType string, body io.Reader, auth func(*http.Request)) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, body)
	if err != nil {
		return 0, nil, fmt.Errorf("paypal: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	auth(req)
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	return resp.StatusCode, data, nil
}

// apiError words an API error answer: the status, then PayPal's error name
// and message (or error and error_description, for OAuth2) when it has them.
func apiError(status int, data []byte) string {
	var e struct {
		Name        string `json:"name"`
		Message     string `json:"message"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	s := fmt.Sprintf("HTTP %d", status)
	if json.Unmarshal(data, &e) != nil {
		return s
	}
	for _, part := range []string{e.Name, e.Message, e.Error, e.Description} {
		if part != "" {
			s += ": " + part
		}
	}
	return s
}
