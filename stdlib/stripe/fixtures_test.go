package stripe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/schema"
)

// fixtures is the copy of the shared Stripe fixtures (see its SOURCES.md).
const fixtures = "../../testdata/stripe"

// walker checks a decoded JSON value against a schema type and collects every
// mismatch, so one run lists everything the legacy overlay lacks.
type walker struct {
	c        *schema.Connector
	problems []string
	used     map[string]bool // what payloads exercised: "Object.field" (legacy) and "Object.field=value" (enums)
}

func newWalker(c *schema.Connector) *walker { return &walker{c: c, used: map[string]bool{}} }

func (w *walker) fail(path, format string, args ...any) {
	w.problems = append(w.problems, path+": "+fmt.Sprintf(format, args...))
}

// walk checks v at path against t. null is always allowed.
func (w *walker) walk(path string, t *schema.Type, v any) {
	if v == nil || t.Kind == schema.Any {
		return
	}
	switch t.Kind {
	case schema.String:
		s, ok := v.(string)
		if !ok {
			w.fail(path, "want string, got %s", jsonKind(v))
		} else if !t.HasEnumValue(s) {
			w.fail(path, "enum value %q not in %v", s, t.Enum)
		}
	case schema.Bool:
		if _, ok := v.(bool); !ok {
			w.fail(path, "want bool, got %s", jsonKind(v))
		}
	case schema.Int, schema.Minor, schema.Double:
		n, ok := v.(json.Number)
		if !ok {
			w.fail(path, "want number (%s), got %s", t, jsonKind(v))
		} else if _, err := n.Int64(); err != nil && t.Kind != schema.Double {
			w.fail(path, "want an integer (%s), got %s", t, n)
		}
	case schema.List:
		list, ok := v.([]any)
		if !ok {
			w.fail(path, "want list, got %s", jsonKind(v))
			return
		}
		for i, e := range list {
			w.walk(fmt.Sprintf("%s[%d]", path, i), t.Elem, e)
		}
	case schema.Map:
		m, ok := v.(map[string]any)
		if !ok {
			w.fail(path, "want map, got %s", jsonKind(v))
			return
		}
		for k, e := range m {
			w.walk(path+"["+k+"]", t.Elem, e)
		}
	case schema.Struct:
		w.object(path, t.Object, v)
	default:
		w.fail(path, "unexpected schema kind %s", t.Kind)
	}
}

// object checks a JSON object against the named schema object.
func (w *walker) object(path, name string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "want object %s, got %s", name, jsonKind(v))
		return
	}
	o, ok := w.c.Object(name)
	if !ok {
		w.fail(path, "unknown object %s", name)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := o.Field(k)
		if !ok {
			w.fail(path+"."+k, "no field %q in %s (add it to legacy.go if an older API version sends it)", k, name)
			continue
		}
		if strings.Contains(f.Doc, legacyMark) {
			w.used[o.ShortName()+"."+k] = true
		}
		if s, ok := m[k].(string); ok && f.Type.Enum != nil {
			w.used[o.ShortName()+"."+k+"="+s] = true
		}
		w.walk(path+"."+k, f.Type, m[k])
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestFixturesResolve walks every key path of every fixture payload and
// requires it to resolve in the schema with a compatible JSON kind. Fields of
// older API versions must come from legacy.go, and every legacy.go entry must
// be exercised by some fixture.
func TestFixturesResolve(t *testing.T) {
	c := Connector()
	w := newWalker(c)

	events, _ := filepath.Glob(filepath.Join(fixtures, "events", "*.json"))
	if len(events) == 0 {
		t.Fatal("no event fixtures")
	}
	for _, path := range events {
		ev := readJSON(t, path)
		typ, _ := ev["type"].(string)
		e, ok := c.Events[typ]
		if !ok {
			t.Errorf("%s: event type %q not in the schema", path, typ)
			continue
		}
		w.object(filepath.Base(path), e.Envelope, ev)
	}

	docs := map[string]string{
		"balance_transactions_object.example.json": "stripe.BalanceTransaction",
		"disputes_object.example.json":             "stripe.Dispute",
		"payouts_object.example.json":              "stripe.Payout",
		"refunds_object.example.json":              "stripe.Refund",
	}
	for file, object := range docs {
		w.object(file, object, readJSON(t, filepath.Join(fixtures, "docs_api_reference", file)))
	}
	// The list response of GET /v1/balance_transactions: its items are the
	// list source's elements.
	list := readJSON(t, filepath.Join(fixtures, "docs_api_reference", "balance_transactions_list.example.json"))
	items, _ := list["data"].([]any)
	if len(items) == 0 {
		t.Error("balance_transactions_list.example.json: no data")
	}
	for i, item := range items {
		w.object(fmt.Sprintf("balance_transactions_list.data[%d]", i), c.Lists["balance_transactions"].Elem, item)
	}
	// The docs' event example (a setup_intent.created in API version 2019-02-19).
	ev := readJSON(t, filepath.Join(fixtures, "docs_api_reference", "events_object.example.json"))
	if e, ok := c.Events[ev["type"].(string)]; ok {
		w.object("events_object.example.json", e.Envelope, ev)
	} else {
		t.Errorf("events_object.example.json: event %v not in the schema", ev["type"])
	}

	for _, p := range w.problems {
		t.Error(p)
	}
	for _, l := range legacyFields {
		if !w.used[l.Object+"."+l.Field] {
			t.Errorf("legacy.go: %s.%s is exercised by no fixture; drop it or add the payload", l.Object, l.Field)
		}
	}
	for _, l := range legacyEnums {
		for _, v := range l.Values {
			if !w.used[l.Object+"."+l.Field+"="+v] {
				t.Errorf("legacy.go: %s.%s value %q is exercised by no fixture", l.Object, l.Field, v)
			}
		}
	}
}
