package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Config configures a Server.
type Config struct {
	// Debounce is how long the server waits after an edit before checking,
	// so that a burst of keystrokes is checked once; 0 means 15ms. A
	// request (hover, completion, ...) never waits for it: it checks the
	// pending edits at once.
	Debounce time.Duration
	// Version is reported to the editor as the server's version.
	Version string
	// Log, when set, receives one line per internal failure (a recovered
	// panic, a failed write).
	Log io.Writer
}

// ErrExitWithoutShutdown is returned by Serve when the client sent exit
// before shutdown; LSP asks the server to exit with status 1 then.
var ErrExitWithoutShutdown = errors.New("exit without shutdown")

// Server is a language server for one client.
type Server struct {
	cfg  Config
	conn jsonrpc2.Conn
	chk  *checker

	mu          sync.Mutex
	initialized bool
	shutdown    bool
	docs        map[string]*document   // open documents by path
	gen         map[string]int         // edit generation by package directory
	snaps       map[string]*snapshot   // latest check by package directory
	timers      map[string]*time.Timer // pending debounced checks
	published   map[string]bool        // paths with diagnostics on the client
	lastGood    map[string]*snapshot   // by path: the latest check in which the file parsed
	exit        chan struct{}
	exitOnce    sync.Once
	uris        sync.Map // path -> the URI the client opened it by
}

// document is a file the editor has open.
type document struct {
	uri     protocol.DocumentURI
	path    string
	version int32
	text    []byte
}

// Serve runs a server on rwc (stdin and stdout for `flowc lsp`) until the
// client sends exit or the stream ends. It returns nil after shutdown and
// exit, ErrExitWithoutShutdown after an exit alone, and the stream's error
// when it broke.
func Serve(ctx context.Context, rwc io.ReadWriteCloser, cfg Config) error {
	if cfg.Debounce <= 0 {
		cfg.Debounce = 15 * time.Millisecond
	}
	s := &Server{
		cfg: cfg, chk: newChecker(),
		docs: map[string]*document{}, gen: map[string]int{}, snaps: map[string]*snapshot{},
		timers: map[string]*time.Timer{}, published: map[string]bool{}, lastGood: map[string]*snapshot{}, exit: make(chan struct{}),
	}
	s.conn = jsonrpc2.NewConn(newStream(rwc))
	s.conn.Go(ctx, s.handle)
	select {
	case <-s.exit:
		s.stopTimers()
		s.conn.Close()
		<-s.conn.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.shutdown {
			return ErrExitWithoutShutdown
		}
		return nil
	case <-s.conn.Done():
		s.stopTimers()
		if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
			return err
		}
		return nil
	case <-ctx.Done():
		s.stopTimers()
		s.conn.Close()
		return ctx.Err()
	}
}

func (s *Server) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.timers {
		t.Stop()
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "flowc lsp: "+format+"\n", args...)
	}
}

// handle answers one message. It never returns an error (that would end the
// connection): failures are replies.
func (s *Server) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic in %s: %v\n%s", req.Method(), r, debug.Stack())
			err = reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v", req.Method(), r))
		}
		if err != nil {
			s.logf("reply to %s: %v", req.Method(), err)
			err = nil
		}
	}()
	method := req.Method()
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case method == protocol.MethodExit:
		s.exitOnce.Do(func() { close(s.exit) })
		return nil
	case method == protocol.MethodInitialize:
		if initialized {
			return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "initialize was already received"))
		}
	case !initialized:
		return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "the server is not initialized"))
	case shutdown && method != protocol.MethodShutdown:
		return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "the server is shutting down"))
	}
	h, ok := s.handlers()[method]
	if !ok {
		if _, isCall := req.(*jsonrpc2.Call); !isCall {
			return nil // unknown notifications ($/setTrace, ...) are ignored
		}
		return reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not supported: %s", method))
	}
	res, herr := h(ctx, req.Params())
	return reply(ctx, res, herr)
}

// handlerFunc answers a request or a notification with its raw params.
type handlerFunc func(ctx context.Context, params json.RawMessage) (any, error)

// on adapts a typed handler: params that do not decode are an
// InvalidParams error.
func on[P any](f func(ctx context.Context, p *P) (any, error)) handlerFunc {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		p := new(P)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, p); err != nil {
				return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
			}
		}
		return f(ctx, p)
	}
}

func (s *Server) handlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		protocol.MethodInitialize:                 on(s.initialize),
		protocol.MethodInitialized:                func(context.Context, json.RawMessage) (any, error) { return nil, nil },
		protocol.MethodShutdown:                   s.shutdownRequest,
		protocol.MethodTextDocumentDidOpen:        on(s.didOpen),
		protocol.MethodTextDocumentDidChange:      on(s.didChange),
		protocol.MethodTextDocumentDidSave:        on(s.didSave),
		protocol.MethodTextDocumentDidClose:       on(s.didClose),
		protocol.MethodTextDocumentHover:          on(s.hover),
		protocol.MethodTextDocumentCompletion:     on(s.completion),
		protocol.MethodTextDocumentDefinition:     on(s.definition),
		protocol.MethodTextDocumentDocumentSymbol: on(s.documentSymbol),
		protocol.MethodTextDocumentFormatting:     on(s.formatting),
		protocol.MethodTextDocumentCodeAction:     on(s.codeAction),
	}
}

func (s *Server) initialize(_ context.Context, _ *protocol.InitializeParams) (any, error) {
	s.mu.Lock()
	s.initialized = true
	s.mu.Unlock()
	return protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindFull,
				Save:      &protocol.SaveOptions{},
			},
			HoverProvider:              true,
			CompletionProvider:         &protocol.CompletionOptions{TriggerCharacters: []string{".", "[", "\""}},
			DefinitionProvider:         true,
			DocumentSymbolProvider:     true,
			DocumentFormattingProvider: true,
			CodeActionProvider:         protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.QuickFix}},
		},
		ServerInfo: &protocol.ServerInfo{Name: "flowc lsp", Version: s.cfg.Version},
	}, nil
}

func (s *Server) shutdownRequest(context.Context, json.RawMessage) (any, error) {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	s.stopTimers()
	return nil, nil
}

// pathOf returns the path a document is checked under: the file's path
// for a file URI, else the URI itself (a package of one document).
func pathOf(u protocol.DocumentURI) string {
	p, err := url.Parse(string(u))
	if err == nil && p.Scheme == uri.FileScheme && p.Path != "" {
		path := p.Path
		if len(path) >= 3 && path[0] == '/' && path[2] == ':' { // file:///C:/...
			path = path[1:]
		}
		return filepath.Clean(filepath.FromSlash(path))
	}
	return string(u)
}

func (s *Server) didOpen(_ context.Context, p *protocol.DidOpenTextDocumentParams) (any, error) {
	path := pathOf(p.TextDocument.URI)
	s.uris.Store(path, p.TextDocument.URI)
	s.mu.Lock()
	s.docs[path] = &document{uri: p.TextDocument.URI, path: path, version: p.TextDocument.Version, text: []byte(p.TextDocument.Text)}
	s.edited(path)
	s.mu.Unlock()
	return nil, nil
}

func (s *Server) didChange(_ context.Context, p *protocol.DidChangeTextDocumentParams) (any, error) {
	path := pathOf(p.TextDocument.URI)
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[path]
	if !ok || len(p.ContentChanges) == 0 {
		return nil, nil
	}
	// Changes are whole documents (TextDocumentSyncKindFull): the last wins.
	d.text = []byte(p.ContentChanges[len(p.ContentChanges)-1].Text)
	d.version = p.TextDocument.Version
	s.edited(path)
	return nil, nil
}

func (s *Server) didSave(_ context.Context, p *protocol.DidSaveTextDocumentParams) (any, error) {
	s.mu.Lock()
	s.edited(pathOf(p.TextDocument.URI)) // the files beside it may read it from disk
	s.mu.Unlock()
	return nil, nil
}

func (s *Server) didClose(_ context.Context, p *protocol.DidCloseTextDocumentParams) (any, error) {
	path := pathOf(p.TextDocument.URI)
	s.mu.Lock()
	delete(s.docs, path)
	s.edited(path)
	s.mu.Unlock()
	return nil, nil
}

// edited records an edit in path's package and schedules a check after the
// debounce pause. s.mu is held.
func (s *Server) edited(path string) {
	dir := dirOf(path)
	key := packageKey(path)
	s.gen[key]++
	gen := s.gen[key]
	if t := s.timers[key]; t != nil {
		t.Stop()
	}
	s.timers[key] = time.AfterFunc(s.cfg.Debounce, func() { s.checkPackage(key, dir, path, gen) })
}

// packageKey names a document's package: its directory, or the document
// itself when it has none.
func packageKey(path string) string {
	if d := dirOf(path); d != "" {
		return d
	}
	return path
}

// snapshotFor returns an up-to-date check of path's package, checking now
// when edits are pending.
func (s *Server) snapshotFor(path string) *snapshot {
	key := packageKey(path)
	s.mu.Lock()
	gen, snap := s.gen[key], s.snaps[key]
	s.mu.Unlock()
	if snap != nil && snap.gen >= gen {
		return snap
	}
	return s.checkPackage(key, dirOf(path), path, gen)
}

// checkPackage checks a package as of edit generation gen, stores the
// result unless a newer one is there, and publishes its diagnostics.
func (s *Server) checkPackage(key, dir, path string, gen int) *snapshot {
	s.mu.Lock()
	if snap := s.snaps[key]; snap != nil && snap.gen >= gen {
		s.mu.Unlock()
		return snap
	}
	overlay := map[string][]byte{}
	for p, d := range s.docs {
		if packageKey(p) == key {
			overlay[p] = d.text
		}
	}
	s.mu.Unlock()
	only := ""
	if dir == "" {
		only = path
	}
	snap := s.chk.check(dir, gen, overlay, only)
	s.mu.Lock()
	if old := s.snaps[key]; old != nil && old.gen >= snap.gen {
		s.mu.Unlock()
		return old
	}
	s.snaps[key] = snap
	for p, f := range snap.files {
		if !f.syntax {
			s.lastGood[p] = snap
		}
	}
	if s.shutdown {
		s.mu.Unlock()
		return snap
	}
	batch := s.diagnosticsOf(key, snap)
	s.mu.Unlock()
	for _, p := range batch {
		if err := s.conn.Notify(context.Background(), protocol.MethodTextDocumentPublishDiagnostics, p); err != nil {
			s.logf("publish diagnostics: %v", err)
			break
		}
	}
	return snap
}

// diagnosticsOf returns the notifications that bring the client's
// diagnostics of a package up to date: one per file with problems, and
// empty ones for the files that no longer have any. s.mu is held.
func (s *Server) diagnosticsOf(key string, snap *snapshot) []*protocol.PublishDiagnosticsParams {
	var out []*protocol.PublishDiagnosticsParams
	for path, f := range snap.files {
		list := snap.diags[path]
		if _, open := s.docs[path]; len(list) == 0 && !s.published[path] && !open {
			continue
		}
		s.published[path] = len(list) > 0
		p := &protocol.PublishDiagnosticsParams{URI: s.uriOf(path), Diagnostics: []protocol.Diagnostic{}}
		if d := s.docs[path]; d != nil && d.version > 0 {
			p.Version = uint32(d.version)
		}
		for _, d := range list {
			p.Diagnostics = append(p.Diagnostics, s.lspDiagnostic(f.text, d, snap))
		}
		out = append(out, p)
	}
	for path, on := range s.published {
		if on && snap.files[path] == nil && packageKey(path) == key {
			s.published[path] = false
			out = append(out, &protocol.PublishDiagnosticsParams{URI: s.uriOf(path), Diagnostics: []protocol.Diagnostic{}})
		}
	}
	return out
}

// uriOf returns the URI the client knows a path by.
func (s *Server) uriOf(path string) protocol.DocumentURI {
	if u, ok := s.uris.Load(path); ok {
		return u.(protocol.DocumentURI)
	}
	if filepath.IsAbs(path) {
		return uri.File(path)
	}
	return protocol.DocumentURI(path)
}

// fileAt returns the snapshot of a document's package and the document's
// file in it (nil when the document is unknown).
func (s *Server) fileAt(u protocol.DocumentURI) (*snapshot, *file) {
	path := pathOf(u)
	s.mu.Lock()
	_, open := s.docs[path]
	s.mu.Unlock()
	if !open {
		return nil, nil
	}
	snap := s.snapshotFor(path)
	return snap, snap.files[path]
}
