package hook

import (
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

func TestConnectorValidates(t *testing.T) {
	c := Connector()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "hook" || c.Kind != schema.Gateway || len(c.Events) != 0 {
		t.Errorf("connector %s, kind %v, %d events: want hook, a gateway, no events", c.Name, c.Kind, len(c.Events))
	}
	var config []string
	for _, f := range c.Config {
		config = append(config, f.Name)
	}
	if strings.Join(config, ",") != "url,secret" {
		t.Errorf("config %v, want url and secret", config)
	}
}

// Flows create notices with a required topic; a create binds hook.Notice.
func TestNotice(t *testing.T) {
	c := Connector()
	if got := c.EntityNames(); len(got) != 1 || got[0] != "Notice" {
		t.Fatalf("entities %v, want Notice", got)
	}
	o := c.Entities["Notice"]
	if o == nil || c.Objects[o.Name] != o || o.Name != "hook.NoticeCreateParams" {
		t.Fatalf("params object %v", o)
	}
	var required []string
	for _, f := range o.Fields {
		if f.Required {
			required = append(required, f.Name)
		}
		if f.Doc == "" {
			t.Errorf("%s.%s has no doc", o.Name, f.Name)
		}
	}
	if strings.Join(required, ",") != "topic" {
		t.Errorf("required %v, want topic", required)
	}
	for name, want := range map[string]*schema.Type{"topic": schema.StringType, "subject": schema.StringType,
		"text": schema.StringType, "fields": schema.MapOf(schema.StringType, schema.StringType)} {
		if f, ok := o.Field(name); !ok || !f.Type.Equal(want) {
			t.Errorf("%s.%s: %+v, want %v", o.Name, name, f, want)
		}
	}
	if len(o.Fields) != 4 {
		t.Errorf("%s has %d fields, want 4", o.Name, len(o.Fields))
	}
	for name, max := range map[string]int{"topic": 100, "subject": 255, "text": 0} {
		if f, _ := o.Field(name); f.MaxLength != max {
			t.Errorf("%s.%s: MaxLength %d, want %d", o.Name, name, f.MaxLength, max)
		}
	}
	n := c.Objects["hook.Notice"]
	if n == nil {
		t.Fatal("no hook.Notice for a create to bind")
	}
	for name, kind := range map[string]schema.Kind{"id": schema.String, "status": schema.Int, "delivered_at": schema.Timestamp} {
		if f, ok := n.Field(name); !ok || f.Type.Kind != kind {
			t.Errorf("hook.Notice.%s: %+v, want %v", name, f, kind)
		}
	}
	if len(n.Fields) != 3 {
		t.Errorf("hook.Notice has %d fields, want 3", len(n.Fields))
	}
}

func TestLoadChecksTheURL(t *testing.T) {
	ok := []map[string]string{
		nil,
		{"url": "https://example.com/hooks"},
		{"url": "HTTPS://example.com:8443/hooks?team=ar"},
		{"url": "http://127.0.0.1:8080/x"},
		{"url": "http://localhost/x"},
		{"url": "http://[::1]:9000/x"},
		{"url": "param:dunning_hook_url", "secret": "secret:dunning_hook_secret"},
	}
	for _, s := range ok {
		if _, err := Load(s, ""); err != nil {
			t.Errorf("Load(%v): %v", s, err)
		}
	}
	bad := map[string]map[string]string{
		`url: scheme "ftp"`:                  {"url": "ftp://x"},
		"url: http to example.com":           {"url": "http://example.com/"},
		"url: http to 10.0.0.8":              {"url": "http://10.0.0.8/x"},
		"url: not an absolute URL":           {"url": "example.com/hooks"},
		"url: not an absolute URL: want":     {"url": "https:///hooks"},
		"url: empty":                         {"url": ""},
		"secret: name a secret declared":     {"url": "https://example.com/hooks", "secret": "whsec_123"},
		"url: not a URL: want an https URL ": {"url": "https://exa mple.com/%zz"},
	}
	for want, s := range bad {
		_, err := Load(s, "")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Load(%v) = %v, want %q", s, err, want)
		}
	}
}
