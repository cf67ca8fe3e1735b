package hook

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/flowhq/flow/stdlib/schema"
)

// Name is the connector's import path in flows: import "hook".
const Name = "hook"

// NoticeEntity is what flows create: create notify.Notice key ... { ... }.
const NoticeEntity = "Notice"

// Connector returns the hook connector schema (built once, immutable, safe
// for concurrent use).
func Connector() *schema.Connector { return connector() }

// Load is the connector's loader: it checks the settings an import gives as
// strings and returns the schema. A url string must pass CheckURL; the
// secret must be a declared secret, never the key itself written in the
// flow. (Settings given as a param or a secret are not strings here; a
// "param:" or "secret:" reference, as a plan holds them, is let through and
// checked when flowd resolves it.)
func Load(settings map[string]string, _ string) (*schema.Connector, error) {
	if u, ok := settings["url"]; ok && !isReference(u) {
		if err := CheckURL(u); err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
	}
	if s, ok := settings["secret"]; ok && !strings.HasPrefix(s, "secret:") {
		return nil, errors.New("secret: name a secret declared with `secret NAME`, not a string: the signing key must not be written in the flow")
	}
	return Connector(), nil
}

func isReference(v string) bool {
	return strings.HasPrefix(v, "param:") || strings.HasPrefix(v, "secret:")
}

// CheckURL checks where notices are POSTed: an absolute https URL, or http
// to a loopback host (localhost, 127.0.0.1, [::1]) for a receiver on the
// same machine. Its errors do not repeat the URL, whose path may hold a
// token.
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("empty: want an https URL such as https://example.com/hooks")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL: want an https URL such as https://example.com/hooks")
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return errors.New("not an absolute URL: want an https URL such as https://example.com/hooks")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("http to %s: notices leave the machine only over https (http is for localhost, 127.0.0.1 or [::1])", u.Hostname())
	default:
		return fmt.Errorf("scheme %q: want https (or http to localhost)", u.Scheme)
	}
}

// IsLoopback reports whether host (without a port or brackets) is
// localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var connector = sync.OnceValue(func() *schema.Connector {
	c, err := build()
	if err != nil {
		panic("stdlib/hook: " + err.Error()) // a build defect; TestConnectorValidates
	}
	return c
})

func qualify(name string) string { return Name + "." + name }

func build() (*schema.Connector, error) {
	str := schema.StringType
	params, err := schema.NewObject(qualify(NoticeEntity+"CreateParams"),
		"A notice to POST to the import's url, as JSON: the delivery id, topic, subject, text, fields and sent_at.",
		[]*schema.Field{
			{Name: "topic", Type: str, Required: true, MaxLength: 100, Doc: `What the notice is about, for the receiver to route on: "dunning.declined", "ar.alert".`},
			{Name: "subject", Type: str, MaxLength: 255, Doc: "A one-line summary, for a person: an email subject, a chat message's title."},
			{Name: "text", Type: str, Doc: "The notice's text."},
			{Name: "fields", Type: schema.MapOf(str, str), Doc: `Named values for the receiver: {"invoice": invoice, "customer": account}.`},
		}, nil)
	if err != nil {
		return nil, err
	}
	answer, err := schema.NewObject(qualify(NoticeEntity),
		"A notice the endpoint accepted (answered 2xx).",
		[]*schema.Field{
			{Name: "id", Type: str, Doc: `The delivery id, "ntc_" and 32 hex digits: the same for every attempt of one key, so the receiver dedupes on it.`},
			{Name: "status", Type: schema.IntType, Doc: "The HTTP status the endpoint answered (200, 202, 204)."},
			{Name: "delivered_at", Type: schema.TimestampType, Doc: "When the endpoint answered."},
		}, nil)
	if err != nil {
		return nil, err
	}
	c := &schema.Connector{
		Name: Name,
		Kind: schema.Gateway,
		Doc: "Outbound notification hook: flows create notices, which flowd POSTs as JSON to the import's url, " +
			"signed with the import's secret when it has one. Delivery is at least once, with a stable id.",
		Objects:  map[string]*schema.Object{params.Name: params, answer.Name: answer},
		Entities: map[string]*schema.Object{NoticeEntity: params},
		Config:   config(),
	}
	return c, c.Validate()
}

// config returns what `import "hook"` may configure.
func config() []*schema.Field {
	return []*schema.Field{
		{Name: "url", Type: schema.StringType, Doc: "Where notices are POSTed (a string or a param): an https URL, or http to localhost, 127.0.0.1 or [::1]."},
		{Name: "secret", Type: schema.StringType, Doc: "Optional: the secret that signs each delivery (a Flow-Signature header, HMAC-SHA256); unsigned without it."},
	}
}
