package lsp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// TestNeverPanics sends what a confused or hostile client might: malformed
// JSON, unknown methods, bad params, positions out of range, broken flows.
// Each gets an error or an empty answer, and the session goes on.
func TestNeverPanics(t *testing.T) {
	c := startServer(t, Config{Debounce: time.Millisecond})

	// Before initialize, requests are refused.
	if e := c.call(protocol.MethodTextDocumentHover, map[string]any{}, nil); !strings.Contains(e, "not initialized") {
		t.Errorf("hover before initialize: %q", e)
	}
	c.initialize()

	// Malformed JSON is a parse error; JSON that is no message, an invalid
	// request; both with a null id.
	for _, tc := range []struct{ body, want string }{
		{`{"jsonrpc": "2.0", "id": 1, "method": `, "parse error"},
		{`[1, 2`, "parse error"},
		{`{}`, "invalid request"},
		{`"hello"`, "invalid request"},
	} {
		c.send([]byte(tc.body))
		m := c.waitNote("error for "+tc.body, func(m *message) bool { return m.Method == "" && m.Error != nil })
		if !strings.Contains(m.Error.Message, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.body, m.Error.Message, tc.want)
		}
	}

	if e := c.call("textDocument/noSuchThing", map[string]any{}, nil); !strings.Contains(e, "method not supported") {
		t.Errorf("unknown method: %q", e)
	}
	c.notify("$/noSuchNotification", map[string]any{"x": 1}) // ignored
	if e := c.call(protocol.MethodTextDocumentHover, "not an object", nil); !strings.Contains(e, "invalid params") {
		t.Errorf("bad params: %q", e)
	}
	if e := c.call(protocol.MethodInitialize, protocol.InitializeParams{}, nil); e == "" {
		t.Errorf("a second initialize succeeded")
	}

	// Requests on a document that is not open answer nothing.
	ghost := fileURI(filepath.Join(t.TempDir(), "ghost.flow"))
	pos := protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: ghost}}
	for _, m := range []string{protocol.MethodTextDocumentHover, protocol.MethodTextDocumentCompletion, protocol.MethodTextDocumentDefinition,
		protocol.MethodTextDocumentDocumentSymbol, protocol.MethodTextDocumentFormatting, protocol.MethodTextDocumentCodeAction} {
		var raw json.RawMessage
		if e := c.call(m, map[string]any{"textDocument": pos.TextDocument, "position": pos.Position, "range": protocol.Range{}}, &raw); e != "" {
			t.Errorf("%s on an unknown document: %s", m, e)
		}
	}

	// Broken flows, and every request at every position of them, including
	// positions past the end.
	dir := t.TempDir()
	for i, src := range []string{
		"",
		"package",
		"package p\nflow f {\n    on stripe.charge.succeeded as ev\n    let x = ev.data.\n}\n",
		"package p\nimport \"stripe\"\nflow f {\n    on stripe.charge.succeeded as ev\n    let x = ev.data.object.amount +\n    when (\n}\n",
		"package p\nimport \"stripe\"\nflow f {\n    on stripe.charge.succeeded as ev\n    let x = \"é😀\" + ev.data.object.curency\n    upsert erp.X key x {\n        A: [1, 2}\n",
		"package p\nimport \"stripe\"\ntable t: map(string, string) = {\"a\": \"b\"}\nflow f {\n    on stripe.charge.succeeded as ev\n    when t[\"\n}\n",
		"\x00\xff\xfe // not text\n{{{{[[[(((\"\"\"",
	} {
		u := fileURI(filepath.Join(dir, "b"+string(rune('a'+i))+".flow"))
		c.open(u, src)
		c.diagnostics(u, 1)
		lines := strings.Count(src, "\n") + 2
		for line := 0; line <= lines; line++ {
			for _, ch := range []uint32{0, 1, 5, 9, 14, 20, 30, 200} {
				p := protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: protocol.Position{Line: uint32(line), Character: ch}}
				for _, m := range []string{protocol.MethodTextDocumentHover, protocol.MethodTextDocumentCompletion, protocol.MethodTextDocumentDefinition} {
					if e := c.call(m, p, nil); e != "" {
						t.Errorf("%s at %d:%d of %q: %s", m, line, ch, src, e)
					}
				}
			}
		}
		for _, m := range []string{protocol.MethodTextDocumentDocumentSymbol, protocol.MethodTextDocumentFormatting} {
			if e := c.call(m, map[string]any{"textDocument": map[string]any{"uri": u}}, nil); e != "" {
				t.Errorf("%s of %q: %s", m, src, e)
			}
		}
		r := protocol.Range{End: protocol.Position{Line: 1000, Character: 1000}}
		if e := c.call(protocol.MethodTextDocumentCodeAction, protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: r}, nil); e != "" {
			t.Errorf("codeAction of %q: %s", src, e)
		}
	}

	// A non-file URI is a package of its own.
	c.open("untitled:Untitled-1", "package p\nflow f {\n}\n")
	if d := c.diagnostics("untitled:Untitled-1", 1); len(d) == 0 || !strings.Contains(d[0].Message, "has no trigger") {
		t.Errorf("untitled document: %+v", d)
	}

	// Exit without shutdown ends Serve with ErrExitWithoutShutdown.
	c.notify(protocol.MethodExit, nil)
	select {
	case err := <-c.done:
		if err != ErrExitWithoutShutdown {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit")
	}
}

// TestFramingErrorEndsSession checks that a stream that cannot be framed
// ends Serve with an error rather than hanging or panicking.
func TestFramingErrorEndsSession(t *testing.T) {
	c := startServer(t, Config{})
	c.in.Write([]byte("Content-Length: banana\r\n\r\n{}"))
	select {
	case err := <-c.done:
		if err == nil || !strings.Contains(err.Error(), "Content-Length") {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// TestPositions checks UTF-16 conversions both ways, and clamping.
func TestPositions(t *testing.T) {
	tx := newText([]byte("ab\né😀x\n"))
	for _, tc := range []struct {
		off  int
		line uint32
		ch   uint32
	}{{0, 0, 0}, {2, 0, 2}, {3, 1, 0}, {5, 1, 1}, {9, 1, 3}, {10, 1, 4}, {11, 2, 0}} {
		p := tx.position(tc.off)
		if p.Line != tc.line || p.Character != tc.ch {
			t.Errorf("position(%d) = %+v, want %d:%d", tc.off, p, tc.line, tc.ch)
		}
		if back := tx.offset(p); back != tc.off {
			t.Errorf("offset(%+v) = %d, want %d", p, back, tc.off)
		}
	}
	if got := tx.offset(protocol.Position{Line: 0, Character: 99}); got != 2 {
		t.Errorf("past the line's end: %d", got)
	}
	if got := tx.offset(protocol.Position{Line: 99}); got != 11 {
		t.Errorf("past the last line: %d", got)
	}
	if got := tx.position(-5); got != (protocol.Position{}) {
		t.Errorf("negative offset: %+v", got)
	}
}
