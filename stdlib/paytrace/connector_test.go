package paytrace

import (
	"strings"
	"testing"
)

func TestConnectorValidates(t *testing.T) {
	c := Connector()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, name := range EventTypes {
		if c.Events[name] == nil {
			t.Errorf("no event %s", name)
		}
	}
	tx, _ := c.Object("paytrace.Transaction")
	for _, f := range []string{"amount", "tax_amount"} {
		if fl, ok := tx.Field(f); !ok || fl.Type.String() != "decimal" {
			t.Errorf("%s is not a decimal", f)
		}
	}
}

func TestSettingsAreChecked(t *testing.T) {
	ok := []map[string]string{
		nil,
		{"poll": "*/5 * * * *", "timezone": "America/Chicago"},
		{"poll": "0 2 * * 1-5", "timezone": "UTC", "since": "2024-05-01"},
		{"username": "secret:paytrace_user"},
	}
	for _, s := range ok {
		if _, err := Load(s, ""); err != nil {
			t.Errorf("Load(%v): %v", s, err)
		}
	}
	bad := map[string]map[string]string{
		"is not a cron spec":  {"poll": "every 5 minutes", "timezone": "UTC"},
		"is not a time zone":  {"timezone": "Central"},
		"name the merchant's": {"timezone": "Local"},
		"is not a date":       {"since": "05/01/2024"},
		"five fields":         {"poll": "*/5 * * *", "timezone": "UTC"},
	}
	for want, s := range bad {
		_, err := Load(s, "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%v) = %v, want %q", s, err, want)
		}
	}
}
