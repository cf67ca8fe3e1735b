package lsp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// bigPackage writes the shop package with a flows file of about lines
// lines (copies of its order flow), and returns that file's path and text.
func bigPackage(tb testing.TB, lines int) (string, string) {
	tb.Helper()
	dir := copyPackage(tb, "shop")
	src, err := os.ReadFile(filepath.Join(dir, "orders.flow"))
	if err != nil {
		tb.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "flow charge_to_order"):strings.Index(body, "flow refund_to_credit")]
	var b strings.Builder
	b.WriteString("package shop\n\n")
	for i := 0; strings.Count(b.String(), "\n") < lines; i++ {
		b.WriteString(strings.Replace(body, "charge_to_order", fmt.Sprintf("charge_to_order_%d", i), 1))
	}
	path := filepath.Join(dir, "big.flow")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path, b.String()
}

// BenchmarkKeystroke measures what an editor waits for after a keystroke
// in a 2,000-line file: from didChange to the diagnostics of that version,
// over pipes, the debounce pause (15ms) included. Every other keystroke
// makes a typo, so the diagnostics change each time.
func BenchmarkKeystroke(b *testing.B) {
	path, text := bigPackage(b, 2000)
	typo := strings.Replace(text, "upper(ch.currency)", "upper(ch.curency)", 1)
	u := fileURI(path)
	c := startServer(b, Config{})
	c.initialize()
	c.open(u, text)
	c.diagnostics(u, 1)
	b.ReportMetric(float64(strings.Count(text, "\n")), "lines")
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		v := int32(i + 2)
		want := 0
		src := text
		if i%2 == 0 {
			src, want = typo, 1
		}
		c.change(u, v, src)
		if d := c.diagnostics(u, uint32(v)); len(d) != want {
			b.Fatalf("version %d: %d diagnostics, want %d", v, len(d), want)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/keystroke")
}

// BenchmarkCheck measures one check of the package with the 2,000-line
// file edited in its first flow, so every declaration after it moves
// (parse, compile, diagnostics), without the protocol and the debounce
// pause.
func BenchmarkCheck(b *testing.B) {
	path, text := bigPackage(b, 2000)
	chk := newChecker()
	chk.check(filepath.Dir(path), 0, map[string][]byte{path: []byte(text)}, "")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src := strings.Replace(text, "let ch = ", "let ch = "+strings.Repeat(" ", i%7+1), 1) // a new text each time
		snap := chk.check(filepath.Dir(path), i, map[string][]byte{path: []byte(src)}, "")
		if n := len(snap.diags[path]); n != 0 {
			b.Fatalf("%d diagnostics: %v", n, snap.diags[path])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/check")
}

// BenchmarkHover measures a hover on an expression of the 2,000-line file.
func BenchmarkHover(b *testing.B) {
	path, text := bigPackage(b, 2000)
	u := fileURI(path)
	c := startServer(b, Config{})
	c.initialize()
	c.open(u, text)
	c.diagnostics(u, 1)
	pos := at(b, text, "ch.currency", 40, 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var h protocol.Hover
		if e := c.call(protocol.MethodTextDocumentHover, protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: pos}}, &h); e != "" || !strings.Contains(h.Contents.Value, "currency: string") {
			b.Fatalf("hover: %s %q", e, h.Contents.Value)
		}
	}
}
