package bc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowhq/flow/runtime/erp"
)

// tokenSource gets Microsoft Entra v2.0 client-credentials tokens, caches one and
// refreshes it before it expires. Concurrent callers share one fetch.
type tokenSource struct {
	url, clientID, secret, scope string
	client                       *http.Client
	timeout                      time.Duration
	now                          func() time.Time

	mu        sync.Mutex
	tok       string
	refreshAt time.Time
	inflight  *tokenFetch
}

// tokenFetch is one token request that callers wait on.
type tokenFetch struct {
	done chan struct{}
	tok  string
	err  error
}

// token returns a valid access token, fetching one when there is none or
// the cached one is about to expire.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	if ts.tok != "" && ts.now().Before(ts.refreshAt) {
		tok := ts.tok
		ts.mu.Unlock()
		return tok, nil
	}
	f := ts.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		ts.inflight = f
		go ts.fetch(f) // detached: one caller giving up does not fail the others
	}
	ts.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", &erp.Error{Kind: erp.Transient, Message: "waiting for an access token: " + ctx.Err().Error(), Err: ctx.Err()}
	}
}

// invalidate drops tok if it is still the cached token (after a 401).
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	if ts.tok == tok {
		ts.tok = ""
	}
	ts.mu.Unlock()
}

func (ts *tokenSource) fetch(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), ts.timeout)
	defer cancel()
	start := ts.now()
	tok, ttl, err := ts.request(ctx)
	ts.mu.Lock()
	if err == nil {
		// Refresh when 90% of the lifetime has passed, at most 5 minutes early.
		early := min(ttl/10, 5*time.Minute)
		ts.tok, ts.refreshAt = tok, start.Add(ttl-early)
	}
	ts.inflight = nil
	ts.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// request posts the client-credentials grant. A token request changes
// nothing, so every failure is Transient except a refusal of the
// credentials or an answer that is not a token.
func (ts *tokenSource) request(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {ts.clientID},
		"client_secret": {ts.secret},
		"scope":         {ts.scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &erp.Error{Kind: erp.Permanent, Message: "token request: " + err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.client.Do(req)
	if err != nil {
		return "", 0, &erp.Error{Kind: erp.Transient, Message: "token request: " + err.Error(), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, &erp.Error{Kind: erp.Transient, Status: resp.StatusCode, Message: "token request: reading the answer: " + err.Error(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		var aad struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &aad) // a non-JSON answer leaves both empty
		e := &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Code: aad.Error,
			Message: "token request refused: " + firstLine(aad.Description, body)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout {
			e.Kind, e.RetryAfter = erp.Transient, retryAfter(resp.Header, ts.now())
		}
		return "", 0, e
	}
	var t struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" || !strings.EqualFold(t.TokenType, "Bearer") {
		return "", 0, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: "token endpoint answered something that is not a bearer token: " + firstLine("", body)}
	}
	secs, err := strconv.ParseInt(strings.Trim(string(t.ExpiresIn), `"`), 10, 64) // v1 sends "3599", v2 3599
	if err != nil || secs <= 0 {
		return "", 0, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: fmt.Sprintf("token endpoint answered expires_in %s, want a positive number of seconds", t.ExpiresIn)}
	}
	return t.AccessToken, time.Duration(secs) * time.Second, nil
}
