package ax2012

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
)

// maxAnswer bounds an answer body.
const maxAnswer = 64 << 20

// call is one service operation to send.
type call struct {
	service, op string
	messageID   string // "" lets AX generate one (reads)
	writes      bool   // the operation changes data: a lost answer leaves it in doubt
	body        func(w *aif.Writer)
}

func (c call) what() string { return c.service + "." + c.op }

// do sends c and returns the body element of the answer (the response
// wrapper). Every failure is an *erp.Error: the request never sent or
// refused by the transport, a fault (classified by classify), or an answer
// that is not the SOAP the operation promises.
func (d *Driver) do(ctx context.Context, c call) (*aif.Node, error) {
	endpoint := d.endpoint(c.service)
	action := aif.Action(c.service, c.op)
	msg := aif.Message{Version: d.cfg.SOAPVersion, Action: action, To: endpoint, Body: c.body,
		Context: &aif.CallContext{Company: d.cfg.Company, Language: d.cfg.Language, LogonAsUser: d.cfg.LogonAsUser,
			MessageID: c.messageID, PartitionKey: d.cfg.PartitionKey}}
	body, err := msg.Bytes()
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("ax2012: %s: encoding the request: %v", c.what(), err), Err: err}
	}
	if d.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.Timeout)
		defer cancel()
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("ax2012: %s: %v", c.what(), err), Err: err}
	}
	req.Header.Set("Content-Type", d.cfg.SOAPVersion.ContentType(action))
	if d.cfg.SOAPVersion == aif.SOAP11 {
		req.Header.Set("SOAPAction", `"`+action+`"`)
	}
	if d.cfg.Username != "" {
		req.SetBasicAuth(d.cfg.Username, d.cfg.Password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, lost(c, wrote.Load(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, lost(c, true, fmt.Errorf("reading the answer: %w", err))
	}
	if len(data) > maxAnswer {
		return nil, &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode, Message: fmt.Sprintf("ax2012: %s: answer larger than %d bytes", c.what(), maxAnswer)}
	}
	return d.answer(c, resp, data)
}

// answer interprets a complete HTTP answer.
func (d *Driver) answer(c call, resp *http.Response, data []byte) (*aif.Node, error) {
	status := resp.StatusCode
	isSOAP := soapContent(resp.Header.Get("Content-Type"))
	var env *aif.Envelope
	var perr error
	if isSOAP || status == http.StatusOK || status == http.StatusInternalServerError {
		env, perr = aif.ReadEnvelope(data)
	}
	switch {
	case env != nil && env.Fault != nil:
		return nil, classify(c, status, env.Fault)
	case status != http.StatusOK:
		e := &erp.Error{Kind: erp.Permanent, Status: status,
			Message: fmt.Sprintf("ax2012: %s: HTTP %d %s", c.what(), status, excerpt(http.StatusText(status), data))}
		if status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500 {
			e.Kind = erp.Transient
		}
		return nil, e
	case perr != nil:
		return nil, protocol(c, status, "%v (%s)", perr, excerpt("", data))
	}
	want := aif.Wrapper(c.service, c.op, "Response")
	if env.Body == nil || env.Body.Name.Local != want {
		got := "an empty body"
		if env.Body != nil {
			got = "<" + env.Body.Name.Local + ">"
		}
		return nil, protocol(c, status, "want <%s>, got %s", want, got)
	}
	return env.Body, nil
}

func soapContent(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "text/xml" || mt == "application/soap+xml" || mt == "application/xml")
}

// classify maps a SOAP fault to an error. AX answers every fault with
// HTTP 500, so the fault says what happened: an AifFault is AX refusing the
// request (validation, a missing record: Permanent) unless its exception
// type or text is a deadlock, an update conflict or a timeout (Transient);
// a fault without AifFault is the WCF host: Client/Sender faults are the
// request's (Permanent), Server/Receiver ones the service's (Transient). A
// write AX rejects as a duplicate message is marked with Code "duplicate".
func classify(c call, status int, f *aif.Fault) *erp.Error {
	e := &erp.Error{Kind: erp.Permanent, Status: status, Code: f.Code, Message: fmt.Sprintf("ax2012: %s: %s", c.what(), f.Text())}
	text := strings.ToLower(f.Text())
	switch {
	case f.AIF != nil:
		switch f.AIF.ExceptionType {
		case "Deadlock", "UpdateConflict", "UpdateConflictNotRecovered":
			e.Kind = erp.Transient
		}
		if strings.Contains(text, "deadlock") || strings.Contains(text, "timeout") || strings.Contains(text, "timed out") {
			e.Kind = erp.Transient
		}
		if f.AIF.ExceptionType != "" {
			e.Code = f.AIF.ExceptionType
		}
		if c.writes && c.messageID != "" && duplicateMessage(text, c.messageID) {
			e.Code = duplicateCode
		}
	case f.Code == "Server" || f.Code == "Receiver" || strings.Contains(strings.ToLower(f.Code), "internalservicefault"):
		e.Kind = erp.Transient
	}
	return e
}

// duplicateCode marks AX's rejection of a message id it has processed.
const duplicateCode = "duplicate"

// duplicateMessage recognizes AIF's duplicate message check ("A message
// with ID {...} has already been received" and similar wordings).
func duplicateMessage(text, id string) bool {
	if !strings.Contains(text, "duplicate") && !strings.Contains(text, "already") {
		return false
	}
	return strings.Contains(text, "message") &&
		(strings.Contains(text, strings.ToLower(aif.NormalizeMessageID(id))) || strings.Contains(text, "duplicate message"))
}

// lost classifies a request without a complete answer: Transient when it
// never left or changes nothing, InDoubt for a write that may have landed.
func lost(c call, sent bool, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case !sent:
		return &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("ax2012: %s: not sent: %v", c.what(), err), Err: err}
	case !c.writes:
		return &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("ax2012: %s: no answer: %v", c.what(), err), Err: err}
	}
	return &erp.Error{Kind: erp.InDoubt, Message: fmt.Sprintf("ax2012: %s: sent, but the answer was lost: %v", c.what(), err), Err: err}
}

// protocol is an answer that breaks what the service promises.
func protocol(c call, status int, format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Status: status,
		Message: fmt.Sprintf("ax2012: %s: unexpected answer: ", c.what()) + fmt.Sprintf(format, args...)}
}

// excerpt is a short printable excerpt of body, or fallback when empty.
func excerpt(fallback string, body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
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
	if fallback != "" {
		return fallback + " (" + s + ")"
	}
	return s
}
