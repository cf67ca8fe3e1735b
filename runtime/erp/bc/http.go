package bc

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

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
)

// answer is an HTTP answer read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// maxAnswer bounds an answer body (a page of 20,000 wide records fits).
const maxAnswer = 256 << 20

// send performs one API request and returns the answer, whatever its
// status. It fails only when no complete answer came: Transient when the
// request never left or changes nothing (GET), InDoubt when a write was
// sent and its answer was lost. A 401 is retried once with a new token.
func (d *Driver) send(ctx context.Context, method, url string, header http.Header, body []byte) (answer, error) {
	if d.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.Timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		tok := ""
		if d.tokens != nil {
			var err error
			if tok, err = d.tokens.Token(ctx); err != nil {
				return answer{}, err
			}
		}
		a, err := d.roundTrip(ctx, method, url, header, body, tok)
		if err != nil || a.status != http.StatusUnauthorized || d.tokens == nil || attempt > 0 {
			return a, err
		}
		d.tokens.Invalidate(tok) // a 401 applied nothing: safe to send again
	}
}

func (d *Driver) roundTrip(ctx context.Context, method, url string, header http.Header, body []byte, tok string) (answer, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("%s %s: %v", method, url, err), Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	what := method + " " + d.relative(url)
	resp, err := d.client.Do(req)
	if err != nil {
		return answer{}, d.lost(what, method, wrote.Load(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return answer{}, d.lost(what, method, true, fmt.Errorf("reading the answer: %w", err))
	}
	if len(data) > maxAnswer {
		return answer{}, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: fmt.Sprintf("%s: answer larger than %d bytes", what, maxAnswer)}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// lost classifies a request that got no complete answer.
func (d *Driver) lost(what, method string, sent bool, err error) error {
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

// relative shortens a service URL for messages.
func (d *Driver) relative(url string) string {
	if s, ok := strings.CutPrefix(url, d.service+"/"); ok {
		return s
	}
	return url
}

// failure maps an answer whose status is not success to an *erp.Error,
// from its status and BC's error code ({"error":{"code","message"}}):
// 429, 408 and 5xx are Transient (with Retry-After when sent), except
// Internal_* codes that name a data problem a retry repeats; 409
// Request_EntityChanged is Transient (the record moved on; reading it again
// settles it); every other status, and Authentication_*, Authorization_*,
// Application_* and BadRequest_* codes, are Permanent.
func (d *Driver) failure(what string, a answer) *erp.Error {
	e := &erp.Error{Kind: erp.Permanent, Status: a.status}
	code, msg, isBC := parseError(a.body)
	if isBC {
		e.Code = code
		e.Message = what + ": " + cmpOr(code, http.StatusText(a.status)) + ": " + msg
	} else {
		e.Message = what + ": " + odata.FirstLine(http.StatusText(a.status), a.body)
	}
	switch {
	case a.status == http.StatusTooManyRequests, a.status == http.StatusServiceUnavailable,
		a.status == http.StatusBadGateway, a.status == http.StatusGatewayTimeout:
		e.Kind, e.RetryAfter = erp.Transient, odata.RetryAfter(a.header, d.now())
	case a.status == http.StatusRequestTimeout, a.status == http.StatusConflict && code == "Request_EntityChanged":
		e.Kind = erp.Transient
	case a.status >= 500:
		e.Kind = erp.Transient
		if permanentCodes[code] {
			e.Kind = erp.Permanent
		}
	}
	return e
}

// permanentCodes are Internal_* codes that report the data, not the
// service: sending the request again gets the same answer.
var permanentCodes = map[string]bool{
	"Internal_RecordNotFound":          true,
	"Internal_EntityWithSameKeyExists": true,
	"Internal_InvalidTableRelation":    true,
	"Internal_DataNotFoundFilter":      true,
	"Internal_CompanyNotFound":         true,
}

// parseError reads BC's error body; ok is false when body is not one.
func parseError(body []byte) (code, message string, ok bool) {
	var b struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error == nil {
		return "", "", false
	}
	return b.Error.Code, strings.TrimSpace(b.Error.Message), true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// protocol is an answer that breaks what the protocol promises.
func protocol(what string, a answer, format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Status: a.status,
		Message: what + ": unexpected answer: " + fmt.Sprintf(format, args...)}
}
