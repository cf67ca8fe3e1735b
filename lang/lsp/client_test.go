package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// client drives a Server as an editor does: JSON-RPC messages with
// Content-Length headers, over pipes.
type client struct {
	t    testing.TB
	in   *io.PipeWriter // the server's input
	out  *bufio.Reader  // the server's output
	done chan error     // Serve's result

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan *message
	notes   []*message
	changed chan struct{} // signalled when a notification arrives
}

// message is a JSON-RPC message as the client reads it.
type message struct {
	ID     *json.RawMessage `json:"id"`
	Method string           `json:"method"`
	Params json.RawMessage  `json:"params"`
	Result json.RawMessage  `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type pipes struct {
	io.Reader
	io.Writer
	closers []io.Closer
}

func (p pipes) Close() error {
	for _, c := range p.closers {
		c.Close()
	}
	return nil
}

// startServer starts a server on pipes and returns its client.
func startServer(t testing.TB, cfg Config) *client {
	t.Helper()
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	c := &client{t: t, in: clientOut, out: bufio.NewReader(clientIn), done: make(chan error, 1),
		waiting: map[int]chan *message{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c.done <- Serve(ctx, pipes{serverIn, serverOut, []io.Closer{serverIn, serverOut}}, cfg)
	}()
	go c.read()
	t.Cleanup(func() {
		cancel()
		clientOut.Close()
		clientIn.Close()
	})
	return c
}

// read dispatches the server's messages: responses to their callers,
// notifications to the list.
func (c *client) read() {
	for {
		var length int
		for {
			line, err := c.out.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(c.out, data); err != nil {
			return
		}
		m := &message{}
		if err := json.Unmarshal(data, m); err != nil {
			c.t.Errorf("server sent invalid JSON: %s", data)
			return
		}
		c.mu.Lock()
		if m.Method != "" {
			c.notes = append(c.notes, m)
			select {
			case c.changed <- struct{}{}:
			default:
			}
		} else {
			id := -1
			if m.ID != nil {
				json.Unmarshal(*m.ID, &id)
			}
			if ch, ok := c.waiting[id]; ok {
				ch <- m
				delete(c.waiting, id)
			} else {
				c.notes = append(c.notes, m) // an error without id
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
		}
		c.mu.Unlock()
	}
}

// send writes raw bytes as one framed message.
func (c *client) send(body []byte) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// call sends a request and decodes its result into result (unless nil);
// it returns the response's error message, "" when it succeeded.
func (c *client) call(method string, params, result any) string {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan *message, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	c.send(body)
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error.Message
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("%s: decode %s: %v", method, m.Result, err)
			}
		}
		return ""
	case <-time.After(20 * time.Second):
		c.t.Fatalf("%s: no response", method)
		return ""
	}
}

// notify sends a notification.
func (c *client) notify(method string, params any) {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	c.send(body)
}

// waitNote waits for a notification (or an id-less error, method "") that
// satisfies ok, consuming it and those before it.
func (c *client) waitNote(what string, ok func(*message) bool) *message {
	c.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		for i, m := range c.notes {
			if ok(m) {
				c.notes = c.notes[i+1:]
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		select {
		case <-c.changed:
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
			return nil
		}
	}
}

// diagnostics waits for the diagnostics of u with the given version (0:
// any) and returns them.
func (c *client) diagnostics(u protocol.DocumentURI, version uint32) []protocol.Diagnostic {
	c.t.Helper()
	var p protocol.PublishDiagnosticsParams
	c.waitNote("diagnostics of "+string(u), func(m *message) bool {
		if m.Method != protocol.MethodTextDocumentPublishDiagnostics {
			return false
		}
		var q protocol.PublishDiagnosticsParams
		if json.Unmarshal(m.Params, &q) != nil || q.URI != u || (version != 0 && q.Version != version) {
			return false
		}
		p = q
		return true
	})
	return p.Diagnostics
}

// initialize runs the initialize handshake.
func (c *client) initialize() {
	c.t.Helper()
	var res protocol.InitializeResult
	if e := c.call(protocol.MethodInitialize, protocol.InitializeParams{ProcessID: 1}, &res); e != "" {
		c.t.Fatalf("initialize: %s", e)
	}
	c.notify(protocol.MethodInitialized, struct{}{})
}

// open opens a document with text.
func (c *client) open(u protocol.DocumentURI, text string) {
	c.notify(protocol.MethodTextDocumentDidOpen, protocol.DidOpenTextDocumentParams{
		TextDocument: protocol.TextDocumentItem{URI: u, LanguageID: "flow", Version: 1, Text: text}})
}

// change replaces a document's text.
func (c *client) change(u protocol.DocumentURI, version int32, text string) {
	c.notify(protocol.MethodTextDocumentDidChange, protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{{Text: text}},
	})
}

// copyPackage copies testdata/<name> to a temporary directory and returns
// the directory.
func copyPackage(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join("testdata", name, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// at returns the position of the n-th (0-based) occurrence of needle in
// text, plus delta characters (ASCII text).
func at(t testing.TB, text, needle string, n, delta int) protocol.Position {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(text[off+1:], needle)
		if j < 0 {
			t.Fatalf("%q occurs fewer than %d times", needle, n+1)
		}
		off += 1 + j
	}
	return newText([]byte(text)).position(off + delta)
}

func fileURI(path string) protocol.DocumentURI { return uri.File(path) }
