package odata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowhq/flow/runtime/erp"
)

// Answer is an HTTP answer read in full.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// MaxAnswer bounds an answer body (a page of 20,000 wide records fits).
const MaxAnswer = 256 << 20

// Sender sends the requests of a driver for a Microsoft API (F&O OData,
// Business Central, Dataverse) with an Entra bearer token.
type Sender struct {
	Client  *http.Client
	Tokens  *TokenSource  // nil sends no Authorization
	Service string        // the service root, left out of messages
	Timeout time.Duration // per request, retries of a 401 included; 0 for none
	OData   bool          // send OData-Version: 4.0 and OData-MaxVersion: 4.0
}

// Send performs one request and returns the answer, whatever its status.
// It fails only when no complete answer came: Transient when the request
// never left or changes nothing (GET), InDoubt when a write was sent and
// its answer was lost. A 401 is retried once with a new token.
func (s *Sender) Send(ctx context.Context, method, u string, header http.Header, body []byte) (Answer, error) {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		tok := ""
		if s.Tokens != nil {
			var err error
			if tok, err = s.Tokens.Token(ctx); err != nil {
				return Answer{}, err
			}
		}
		a, err := s.roundTrip(ctx, method, u, header, body, tok)
		if err != nil || a.Status != http.StatusUnauthorized || s.Tokens == nil || attempt > 0 {
			return a, err
		}
		s.Tokens.Invalidate(tok) // a 401 applied nothing: safe to send again
	}
}

func (s *Sender) roundTrip(ctx context.Context, method, u string, header http.Header, body []byte, tok string) (Answer, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return Answer{}, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("%s %s: %v", method, u, err), Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if s.OData {
		req.Header.Set("OData-Version", "4.0")
		req.Header.Set("OData-MaxVersion", "4.0")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	what := method + " " + s.Relative(u)
	resp, err := s.Client.Do(req)
	if err != nil {
		return Answer{}, Lost(what, method, wrote.Load(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return Answer{}, Lost(what, method, true, fmt.Errorf("reading the answer: %w", err))
	}
	if len(data) > MaxAnswer {
		return Answer{}, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: fmt.Sprintf("%s: answer larger than %d bytes", what, MaxAnswer)}
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Lost classifies a request that got no complete answer: not sent, or a
// GET, is Transient; a write sent without its answer is InDoubt.
func Lost(what, method string, sent bool, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // what already names the request
	}
	switch {
	case !sent:
		return &erp.Error{Kind: erp.Transient, Message: what + ": not sent: " + err.Error(), Err: err}
	case method == http.MethodGet:
		return &erp.Error{Kind: erp.Transient, Message: what + ": no answer: " + err.Error(), Err: err}
	}
	return &erp.Error{Kind: erp.InDoubt, Message: what + ": sent, but the answer was lost: " + err.Error(), Err: err}
}

// Relative shortens a service URL for messages.
func (s *Sender) Relative(u string) string {
	if r, ok := strings.CutPrefix(u, s.Service+"/"); ok {
		return r
	}
	return u
}

// Protocol is an answer that breaks what the protocol promises (a page
// without its value array, a record that does not decode): Permanent.
func Protocol(what string, status int, format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Status: status,
		Message: what + ": unexpected answer: " + fmt.Sprintf(format, args...)}
}

// ReadPages GETs u and each @odata.nextLink after it, handing every item
// of every page's value array to item, until item says stop or no page
// follows. fail maps an answer whose status is not 200 to the driver's
// error; an error item returns that is not an *erp.Error is a Protocol
// error. A next link outside the service is refused: the token never
// leaves it.
func (s *Sender) ReadPages(ctx context.Context, u, what string, fail func(Answer) error, item func(raw json.RawMessage) (stop bool, err error)) error {
	for next := u; next != ""; {
		a, err := s.Send(ctx, http.MethodGet, next, nil, nil)
		if err != nil {
			return err
		}
		if a.Status != http.StatusOK {
			return fail(a)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.Body, &page); err != nil || page.Value == nil {
			return Protocol(what, a.Status, "want a JSON object with a value array, got %s", FirstLine("nothing", a.Body))
		}
		for _, raw := range page.Value {
			stop, err := item(raw)
			if err != nil {
				var e *erp.Error
				if errors.As(err, &e) {
					return err
				}
				return Protocol(what, a.Status, "%v", err)
			}
			if stop {
				return nil
			}
		}
		next = page.NextLink
		if next != "" && !strings.HasPrefix(next, s.Service+"/") {
			return Protocol(what, a.Status, "@odata.nextLink %q leaves the service %s", next, s.Service)
		}
	}
	return nil
}
