package odata

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
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
)

// TokenSource gets Microsoft Entra client-credentials tokens, caches one
// and refreshes it when 90% of its lifetime has passed (at most 5 minutes
// early). Concurrent callers share one fetch. It speaks both endpoint
// versions: v2.0 (/oauth2/v2.0/token) with Scope, v1 (/oauth2/token) with
// Resource. The F&O (v1), Business Central and Dataverse (v2.0) drivers
// use it.
type TokenSource struct {
	URL, ClientID, Secret string
	Scope                 string // v2.0: "https://contoso.crm.dynamics.com/.default"
	Resource              string // v1: used when Scope is ""
	Client                *http.Client
	Timeout               time.Duration
	Now                   func() time.Time

	mu        sync.Mutex
	tok       string
	refreshAt time.Time
	inflight  *tokenFetch
}

type tokenFetch struct {
	done chan struct{}
	tok  string
	err  error
}

// Token returns a valid access token, fetching one when there is none or
// the cached one is about to expire.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	if ts.tok != "" && ts.Now().Before(ts.refreshAt) {
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

// Invalidate drops tok if it is still the cached token (after a 401).
func (ts *TokenSource) Invalidate(tok string) {
	ts.mu.Lock()
	if ts.tok == tok {
		ts.tok = ""
	}
	ts.mu.Unlock()
}

func (ts *TokenSource) fetch(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), ts.Timeout)
	defer cancel()
	start := ts.Now()
	tok, ttl, err := ts.request(ctx)
	ts.mu.Lock()
	if err == nil {
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
func (ts *TokenSource) request(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {ts.ClientID},
		"client_secret": {ts.Secret},
	}
	if ts.Scope != "" {
		form.Set("scope", ts.Scope)
	} else {
		form.Set("resource", ts.Resource)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &erp.Error{Kind: erp.Permanent, Message: "token request: " + err.Error(), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.Client.Do(req)
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
			Message: "token request refused: " + FirstLine(aad.Description, body)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout {
			e.Kind, e.RetryAfter = erp.Transient, RetryAfter(resp.Header, ts.Now())
		}
		return "", 0, e
	}
	var t struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" || !strings.EqualFold(t.TokenType, "Bearer") {
		return "", 0, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: "token endpoint answered something that is not a bearer token: " + FirstLine("", body)}
	}
	secs, err := strconv.ParseInt(strings.Trim(string(t.ExpiresIn), `"`), 10, 64) // v1 sends "3599", v2 3599
	if err != nil || secs <= 0 {
		return "", 0, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: fmt.Sprintf("token endpoint answered expires_in %s, want a positive number of seconds", t.ExpiresIn)}
	}
	return t.AccessToken, time.Duration(secs) * time.Second, nil
}

// RetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent
// or past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// FirstLine is a short printable excerpt of body (its first line, at most
// 200 bytes), or fallback when there is none; both when they differ.
func FirstLine(fallback string, body []byte) string {
	s := strings.TrimSpace(string(body))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	if s == "" || !utf8.ValidString(s) {
		return fallback
	}
	if fallback != "" && fallback != s {
		return fallback + " (" + s + ")"
	}
	return s
}
