package hook_test

import (
	"strings"
	"testing"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/parser"
	"github.com/flowhq/flow/stdlib"
)

// compile checks src as one file with the built-in connectors and returns
// the printed diagnostics.
func compile(t *testing.T, src string) string {
	t.Helper()
	conns := map[string]compiler.ConnectorLoader{}
	for k, v := range stdlib.Connectors() {
		conns[k] = v
	}
	s := diag.NewSource("in.flow", []byte(src))
	f, d := parser.ParseFile("in.flow", []byte(src))
	var out strings.Builder
	if d.HasErrors() {
		d.WriteText(&out, func(string) *diag.Source { return s })
		t.Fatalf("parse:\n%s", out.String())
	}
	_, _, diags := compiler.New(compiler.Config{Connectors: conns}).Compile([]*compiler.File{{AST: f, Source: s}})
	diags.WriteText(&out, func(string) *diag.Source { return s })
	return out.String()
}

const notice = `package p

import "stripe"
import "hook" as notify {
    url: %URL%,
    secret: %SECRET%,
}

param dunning_hook_url: string = "https://example.com/hooks"
secret dunning_hook_secret

flow declined {
    on stripe.charge.failed as ev
    let ch = ev.data.object
    create notify.Notice key "dunning:" + ch.id {
        %BODY%
    }
}
`

func flow(url, secret, body string) string {
	return strings.NewReplacer("%URL%", url, "%SECRET%", secret, "%BODY%", body).Replace(notice)
}

// A flow creates a notice with typed parameters, the url a param or a
// string and the secret a declared secret.
func TestFlowsCreateNotices(t *testing.T) {
	body := `topic: "dunning.declined",
        subject: "Payment declined for " + ch.id,
        text: ch.failure_message,
        fields: {"charge": ch.id, "customer": ch.customer},`
	for _, url := range []string{"dunning_hook_url", `"https://example.com/hooks"`, `"http://127.0.0.1:8080/x"`} {
		if got := compile(t, flow(url, "dunning_hook_secret", body)); strings.Contains(got, "error[") {
			t.Errorf("url %s:\n%s", url, got)
		}
	}
}

func TestFlowsAreChecked(t *testing.T) {
	for _, tc := range []struct{ name, url, secret, body, want string }{
		{"http leaves the machine", `"http://example.com/"`, "dunning_hook_secret", `topic: "x",`, "cannot load connector hook: url: http to example.com"},
		{"a key written in the flow", "dunning_hook_url", `"whsec_1"`, `topic: "x",`, "cannot load connector hook: secret: name a secret"},
		{"fields are strings", "dunning_hook_url", "dunning_hook_secret", `topic: "x", fields: {"amount": ch.amount},`, "field fields is map(string, string)"},
		{"an unknown parameter", "dunning_hook_url", "dunning_hook_secret", `topic: "x", body: "y",`, `unknown field "body"`},
		{"topic is required", "dunning_hook_url", "dunning_hook_secret", `subject: "x",`, "does not set the required field topic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compile(t, flow(tc.url, tc.secret, tc.body))
			if !strings.Contains(got, "error[") || !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
