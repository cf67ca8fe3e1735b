package hook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
	schema "github.com/flowhq/flow/stdlib/hook"
)

var _ erp.Driver = (*Client)(nil)

// NoticeEntity is the object flows create: create notify.Notice ...
const NoticeEntity = schema.NoticeEntity

const (
	defaultTimeout = 30 * time.Second
	maxAnswer      = 64 << 10 // bytes of an answer read
	maxRetryAfter  = time.Hour
	maxReason      = 200 // bytes of an answer quoted in an error
)

// Config is a hook client's configuration, resolved from the import's
// settings.
type Config struct {
	URL    string // where notices are POSTed; see stdlib/hook.CheckURL
	Secret string // the signing key; "" sends deliveries unsigned
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	// The Client uses a copy that follows no redirects.
	HTTP *http.Client
	Now  func() time.Time // nil means time.Now
}

// Client delivers notices to one endpoint. It is safe for concurrent use.
type Client struct {
	url    string
	host   string // for errors: the URL's path may hold a token
	secret string
	http   *http.Client
	now    func() time.Time
}

// New returns a client for cfg, or an error when cfg.URL is not an https
// URL (or http to a loopback host).
func New(cfg Config) (*Client, error) {
	if err := schema.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("hook: url: %w", err)
	}
	u, _ := url.Parse(cfg.URL) // CheckURL parsed it
	hc := &http.Client{Timeout: defaultTimeout}
	if cfg.HTTP != nil {
		c := *cfg.HTTP
		hc = &c
	}
	// A redirected POST turns into a GET (301, 302, 303) or goes where the
	// import did not say: answer it as a refusal instead.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{url: cfg.URL, host: u.Host, secret: cfg.Secret, http: hc, now: now}, nil
}

// DeliveryID is the id of every delivery of a create of entity with the
// flow's key: "ntc_" and the first 32 hex digits of SHA-256(entity, NUL,
// key). Receivers dedupe on it.
func DeliveryID(entity, key string) string {
	sum := sha256.Sum256([]byte(entity + "\x00" + key))
	return "ntc_" + hex.EncodeToString(sum[:16])
}

// Write delivers the notice w creates and returns hook.Notice: the
// delivery id, the status the endpoint answered and when. Only creates of
// Notice are possible; a notice the endpoint could not take (a missing
// topic, an unknown parameter) fails permanently before anything is sent.
func (c *Client) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	n, err := buildNotice(w)
	if err != nil {
		return nil, err
	}
	return c.deliver(ctx, n)
}

// Find reports that nothing is known: a hook cannot be asked what it
// received. The executor then sends the notice again, with the same id, so
// delivery is at least once and the receiver dedupes on the id.
func (c *Client) Find(context.Context, erp.Write) (erp.Record, bool, error) {
	return nil, false, nil
}

// Lookup is not offered: a hook only receives.
func (c *Client) Lookup(context.Context, string, erp.Record) (erp.Record, bool, error) {
	return nil, false, permanent(errors.New("hook: flows do not look up notices: a hook only receives"))
}

// PostJournal is not offered: journals are posted to an ERP.
func (c *Client) PostJournal(context.Context, erp.Journal) (erp.Record, []erp.Record, error) {
	return nil, nil, permanent(errors.New("hook: journals are posted to an ERP, not to a hook"))
}

// notice is one delivery, as sent.
type notice struct {
	ID      string            `json:"id"`
	Topic   string            `json:"topic"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	Fields  map[string]string `json:"fields"`
	SentAt  string            `json:"sent_at"`
}

// buildNotice checks w and reads its parameters.
func buildNotice(w erp.Write) (*notice, error) {
	if w.Op != erp.Create {
		return nil, permanent(fmt.Errorf("hook: flows can only create %s objects, not %s them", w.Entity, w.Op))
	}
	if w.Entity != NoticeEntity {
		return nil, permanent(fmt.Errorf("hook: flows cannot create %s objects, only %s", w.Entity, NoticeEntity))
	}
	if w.Key == "" {
		return nil, permanent(fmt.Errorf("hook: create %s without an idempotency key", w.Entity))
	}
	n := &notice{ID: DeliveryID(w.Entity, w.Key), Fields: map[string]string{}}
	names := make([]string, 0, len(w.Fields))
	for name := range w.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := w.Fields[name]
		var err error
		switch name {
		case "topic":
			n.Topic, err = str(name, v, 100)
		case "subject":
			n.Subject, err = str(name, v, 255)
		case "text":
			n.Text, err = str(name, v, 0)
		case "fields":
			n.Fields, err = strMap(v)
		default:
			err = fmt.Errorf("no parameter %q (a notice has topic, subject, text and fields)", name)
		}
		if err != nil {
			return nil, permanent(fmt.Errorf("hook: create %s: %w", w.Entity, err))
		}
	}
	if n.Topic == "" {
		return nil, permanent(fmt.Errorf("hook: create %s: a notice needs a topic", w.Entity))
	}
	return n, nil
}

// str reads a string parameter; nil is "".
func str(name string, v any, maxLen int) (string, error) {
	switch s := erp.Plain(v).(type) {
	case nil:
		return "", nil
	case string:
		if n := utf8.RuneCountInString(s); maxLen > 0 && n > maxLen {
			return "", fmt.Errorf("%s: %d characters, at most %d", name, n, maxLen)
		}
		return s, nil
	default:
		return "", fmt.Errorf("%s: want a string, got %T", name, v)
	}
}

// strMap reads fields: a map of strings to strings, as the engine hands it
// over (map[string]any), as Go code does (map[string]string) or as a CEL
// map whose keys and values carry strings.
func strMap(v any) (map[string]string, error) {
	out := map[string]string{}
	switch m := erp.Plain(v).(type) {
	case nil:
		return out, nil
	case map[string]string:
		for k, s := range m {
			out[k] = s
		}
		return out, nil
	case map[string]any:
		for k, x := range m {
			s, ok := erp.Plain(x).(string)
			if !ok {
				return nil, fmt.Errorf("fields[%q]: want a string, got %T", k, x)
			}
			out[k] = s
		}
		return out, nil
	}
	rv := reflect.ValueOf(erp.Plain(v))
	if rv.Kind() != reflect.Map {
		return nil, fmt.Errorf("fields: want a map of strings, got %T", v)
	}
	for it := rv.MapRange(); it.Next(); {
		k, ok := erp.Plain(it.Key().Interface()).(string)
		if !ok {
			return nil, fmt.Errorf("fields: want string keys, got %T", it.Key().Interface())
		}
		s, ok := erp.Plain(it.Value().Interface()).(string)
		if !ok {
			return nil, fmt.Errorf("fields[%q]: want a string, got %T", k, it.Value().Interface())
		}
		out[k] = s
	}
	return out, nil
}

// deliver sends n once and classifies the outcome.
func (c *Client) deliver(ctx context.Context, n *notice) (erp.Record, error) {
	sent := c.now()
	n.SentAt = sent.UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(n); err != nil {
		return nil, permanent(fmt.Errorf("hook: encoding the notice: %w", err))
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, permanent(fmt.Errorf("hook: delivery to %s: %w", c.host, unwrapURL(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", n.ID)
	req.Header.Set("User-Agent", "flowd")
	if c.secret != "" {
		req.Header.Set(SignatureHeader, Sign(c.secret, body, sent))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		err = unwrapURL(err)
		if !wrote.Load() { // nothing reached the endpoint: sending again is safe
			return nil, &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("hook: delivery %s to %s not sent: %v", n.ID, c.host, err), Err: err}
		}
		return nil, &erp.Error{Kind: erp.InDoubt, Message: fmt.Sprintf("hook: delivery %s to %s sent, answer lost: %v", n.ID, c.host, err), Err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer)) // the status decides; the body only explains
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return erp.Record{"id": n.ID, "status": int64(resp.StatusCode), "delivered_at": c.now()}, nil
	}
	e := &erp.Error{Kind: erp.Permanent, Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests, s >= 500:
		e.Kind = erp.Transient
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	e.Message = fmt.Sprintf("hook: delivery %s to %s: HTTP %d", n.ID, c.host, resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e.Message += ": the endpoint redirects; configure the URL it redirects to"
	} else if r := reason(data); r != "" {
		e.Message += ": " + r
	}
	return nil, e
}

// retryAfter reads a Retry-After of seconds, at most an hour; 0 when
// absent or not seconds.
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, maxRetryAfter)
}

// reason is the first line of an answer, at most maxReason bytes of valid
// UTF-8.
func reason(data []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(data), []byte("\n"))
	s := strings.ToValidUTF8(string(line), "\uFFFD")
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.TrimSpace(s)
}

// unwrapURL drops the *url.Error around a transport failure: its text
// repeats the URL, whose path may hold a token.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// permanent is a failure that retrying cannot fix.
func permanent(err error) error {
	return &erp.Error{Kind: erp.Permanent, Message: err.Error(), Err: err}
}
