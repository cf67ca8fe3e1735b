package stripe

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib/jsonval"
)

// fixtures is the repository's copy of Stripe payloads (see its SOURCES.md
// and SOURCES files for where each comes from).
const fixtures = "../../../testdata/stripe"

// vectorSecret, vectorHeader and the file signature/event_test_signature.json
// are stripe-dotnet's published webhook test vector (testdata/stripe/SOURCES).
const (
	vectorSecret = "webhook_secret"
	vectorT      = 1533204620
	vectorHeader = "t=1533204620," +
		"v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7," +
		"v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureEvents returns the paths of every full event payload in the
// fixtures: the captured webhook events, the API reference's example event
// and the signature test vector's event.
func fixtureEvents(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtures, "events", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no event fixtures in %s/events (%v)", fixtures, err)
	}
	return append(paths,
		filepath.Join(fixtures, "docs_api_reference", "events_object.example.json"),
		filepath.Join(fixtures, "signature", "event_test_signature.json"))
}

// readJSON decodes a fixture as the package does, numbers as json.Number.
func readJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := jsonval.DecodeStrict(readFile(t, path), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// floats returns the paths of every float64 in v: there must be none when
// numbers are decoded as json.Number.
func floats(path string, v any) []string {
	switch v := v.(type) {
	case float64:
		return []string{path}
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, floats(path+"."+k, v[k])...)
		}
		return out
	case []any:
		var out []string
		for i, e := range v {
			out = append(out, floats(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
		return out
	}
	return nil
}

// seedName names a fuzz seed after its fixture: "events-charge.succeeded".
func seedName(path string) string {
	dir := filepath.Base(filepath.Dir(path))
	return dir + "-" + strings.TrimSuffix(filepath.Base(path), ".json")
}

// mustJSON marshals v for tests.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
