// Package lsp is the flow language server: `flowc lsp` speaks the Language
// Server Protocol over a byte stream (stdin and stdout) to an editor.
//
// It takes the editor's open documents and the .flow files beside them on
// disk, and gives back what the one checker `flowc check` runs finds:
// diagnostics (published after a short pause in typing), the type of an
// expression and the schema documentation of a field on hover,
// completions, definitions, document symbols, formatting by lang/format and
// quick fixes for the checker's `did you mean` suggestions.
//
// A package is a directory, as for `flowc check`: a document is checked with
// its siblings, the editor's unsaved text taking the place of a file on
// disk. Each check builds its result (a snapshot) from scratch, but keeps a
// compiler whose caches carry parsed and checked expressions from one
// keystroke to the next, replaced when they grow past a bound.
//
// The protocol types are go.lsp.dev/protocol's, the JSON-RPC transport is
// go.lsp.dev/jsonrpc2's, framed by this package so that a malformed message
// is answered with a parse error instead of ending the session.
package lsp
