package d365fo

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
	return &odata.Sender{Client: d.client, Tokens: d.tokens, Service: d.service, Timeout: d.cfg.Timeout, OData: true}
}

// failure maps an answer whose status is not success to an *erp.Error.
// 429, 408 and 5xx are Transient, except a 5xx that carries F&O's write
// exception (validateWrite failed: a request problem that a retry repeats);
// every other status is Permanent.
func (d *Driver) failure(what string, a answer) *erp.Error {
	e := &erp.Error{Kind: erp.Permanent, Status: a.status}
	detail, isOData := odata.ParseError(a.body)
	if isOData {
		e.Code = detail.Code
		e.Message = what + ": " + detail.Text()
	} else {
		e.Message = what + ": " + odata.FirstLine(http.StatusText(a.status), a.body)
	}
	switch {
	case a.status == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = erp.Transient, odata.RetryAfter(a.header, d.now())
	case a.status == http.StatusRequestTimeout:
		e.Kind = erp.Transient
	case a.status >= 500:
		e.Kind = erp.Transient
		if isOData && detail.InnerError != nil && detail.InnerError.Type == odata.WriteException && !retryableWrite(detail.Text()) {
			e.Kind = erp.Permanent
		}
	}
	return e
}

// retryableWrite reports whether a write exception is a conflict that a
// retry can get past.
func retryableWrite(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "deadlock") || strings.Contains(m, "update conflict") || strings.Contains(m, "timeout")
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
