package stripe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The seed corpora in testdata/fuzz are made from the real fixtures by
// TestFuzzSeeds; FLOW_UPDATE=1 rewrites them.

// FuzzDecode: Decode never panics, and what it accepts satisfies the Event
// contract and survives a round trip through encoding/json.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := Decode(payload)
		if err != nil {
			if e != nil || !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Decode = %v, %v", e, err)
			}
			return
		}
		if !strings.HasPrefix(e.ID, "evt_") || e.Type == "" || e.Object() == nil {
			t.Fatalf("accepted %+v", *e)
		}
		if fs := floats("", e.Envelope); len(fs) > 0 {
			t.Fatalf("float64 values at %v", fs)
		}
		again, err := Decode(mustJSON(t, e.Envelope))
		if err != nil {
			t.Fatalf("re-encoded envelope: %v", err)
		}
		if again.ID != e.ID || again.Type != e.Type || again.ObjectID != e.ObjectID ||
			!again.Created.Equal(e.Created) || again.APIVersion != e.APIVersion ||
			again.Account != e.Account || again.Livemode != e.Livemode {
			t.Fatalf("round trip: %+v, then %+v", *e, *again)
		}
	})
}

// fuzzSecret is the secret of the published test vector, so that its seed
// verifies too.
const fuzzSecret = vectorSecret

// FuzzVerify: Verify never panics and fails only with SignatureErrors; what
// it accepts is bound to the secret and the body; Sign always round-trips.
func FuzzVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, header string, unix int64) {
		secrets := []string{fuzzSecret}
		now := time.Unix(unix, 0)
		err := Verify(payload, header, secrets, now, 0)
		var se SignatureError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Verify error %v is not a SignatureError", err)
		}
		if err == nil || errors.Is(err, ErrStale) {
			// The header signs this body with this secret, and no other.
			if Verify(payload, header, []string{"whsec_other"}, now, 0) != ErrBadSignature {
				t.Fatal("header also verifies under another secret")
			}
			if Verify(append(payload[:len(payload):len(payload)], ' '), header, secrets, now, 0) != ErrBadSignature {
				t.Fatal("header also verifies another body")
			}
		}
		if unix >= 0 {
			if err := Verify(payload, Sign(payload, fuzzSecret, now), secrets, now, 0); err != nil {
				t.Fatalf("Sign at %d does not verify: %v", unix, err)
			}
		}
	})
}

// TestFuzzSeeds keeps testdata/fuzz in step with the fixtures: one seed per
// real event payload for each fuzz target; FuzzVerify's seeds carry the
// payload signed at its own created time, checked at that time, plus the
// published vector's real header.
func TestFuzzSeeds(t *testing.T) {
	want := map[string]string{} // path -> corpus file
	for _, path := range fixtureEvents(t) {
		payload := readFile(t, path)
		name := seedName(path)
		want[filepath.Join("FuzzDecode", name)] = corpusFile(t, payload)
		e, err := Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		header := Sign(payload, fuzzSecret, e.Created)
		want[filepath.Join("FuzzVerify", name)] = corpusFile(t, payload, header, e.Created.Unix())
		if name == "signature-event_test_signature" {
			want[filepath.Join("FuzzVerify", name+"-published-header")] = corpusFile(t, payload, vectorHeader, int64(vectorT+100))
		}
	}
	update := os.Getenv("FLOW_UPDATE") != ""
	for name, content := range want {
		path := filepath.Join("testdata", "fuzz", name)
		if update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale (%v); run FLOW_UPDATE=1 go test -run TestFuzzSeeds", path, err)
		}
	}
}

// corpusFile encodes values in the go test fuzz v1 corpus format.
func corpusFile(t *testing.T, values ...any) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		default:
			t.Fatalf("corpusFile: unsupported %T", v)
		}
	}
	return b.String()
}
