package bc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
)

// answer is an HTTP answer read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send performs one request (see odata.Sender.Send) and returns the
// answer, whatever its status.
func (d *Driver) send(ctx context.Context, method, url string, header http.Header, body []byte) (answer, error) {
	a, err := d.sender().Send(ctx, method, url, header, body)
	return fromOData(a), err
}

func (d *Driver) sender() *odata.Sender {
	return &odata.Sender{Client: d.client, Tokens: d.tokens, Service: d.service, Timeout: d.cfg.Timeout, OData: false}
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
	return odata.Protocol(what, a.status, format, args...)
}

// pages reads a collection page by page (see odata.Sender.ReadPages).
func (d *Driver) pages(ctx context.Context, u, what string, item func(raw json.RawMessage) (stop bool, err error)) error {
	return d.sender().ReadPages(ctx, u, what, func(a odata.Answer) error { return d.failure(what, fromOData(a)) }, item)
}

func fromOData(a odata.Answer) answer {
	return answer{status: a.Status, header: a.Header, body: a.Body}
}
