package dataverse

import (
	"context"
	"encoding/json"
	"errors"
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
func (d *Driver) send(ctx context.Context, method, u string, header http.Header, body []byte) (answer, error) {
	a, err := d.sender().Send(ctx, method, u, header, body)
	return fromOData(a), err
}

func (d *Driver) sender() *odata.Sender {
	return &odata.Sender{Client: d.client, Tokens: d.tokens, Service: d.service, Timeout: d.cfg.Timeout, OData: true}
}

// Service protection codes: Dataverse answers 429 with one of them when
// a user exceeds a limit in the 5-minute window.
const (
	CodeExecutionTime = "0x80072321" // combined execution time exceeded
	CodeRequests      = "0x80072322" // number of requests exceeded
	CodeConcurrency   = "0x80072326" // concurrent requests exceeded
)

// throttleCodes are the service protection codes.
var throttleCodes = map[string]bool{CodeExecutionTime: true, CodeRequests: true, CodeConcurrency: true}

// failure maps an answer whose status is not success to an *erp.Error from
// its status and Dataverse's error body ({"error":{"code":"0x...","message"}}):
// 429, the service protection codes, 408 and 5xx are Transient (with
// Retry-After); every other status is Permanent.
func (d *Driver) failure(what string, a answer) *erp.Error {
	e := &erp.Error{Kind: erp.Permanent, Status: a.status}
	if detail, ok := odata.ParseError(a.body); ok {
		e.Code = detail.Code
		e.Message = what + ": " + cmpOr(detail.Code, http.StatusText(a.status)) + ": " + cmpOr(detail.Text(), http.StatusText(a.status))
	} else {
		e.Message = what + ": " + odata.FirstLine(http.StatusText(a.status), a.body)
	}
	switch {
	case a.status == http.StatusTooManyRequests, throttleCodes[strings.ToLower(e.Code)],
		a.status == http.StatusServiceUnavailable, a.status == http.StatusBadGateway, a.status == http.StatusGatewayTimeout:
		e.Kind, e.RetryAfter = erp.Transient, odata.RetryAfter(a.header, d.now())
	case a.status == http.StatusRequestTimeout, a.status >= 500:
		e.Kind = erp.Transient
	}
	return e
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

func asError(err error, target **erp.Error) bool { return err != nil && errors.As(err, target) }
