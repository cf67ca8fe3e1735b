package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flowhq/flow/lang/lsp"
)

func cmdLSP(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lsp", `Usage: flowc lsp

Runs the flow language server: it speaks the Language Server Protocol on
standard input and output to an editor (VS Code, Neovim, ...), which starts
it. It checks the open .flow files with the package beside them as
'flowc check' does, and offers diagnostics, hover (types and schema
documentation), completion, go to definition, document symbols, formatting
as 'flowc fmt' formats, and quick fixes for "did you mean" suggestions.

Exits 0 after the editor's shutdown and exit (or when standard input
ends), 1 when the editor exits without shutdown or the stream breaks, 2 on
a usage error.`, stderr)
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowc lsp: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	err := lsp.Serve(context.Background(), stdio{os.Stdin, stdout}, lsp.Config{Version: version, Log: stderr})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, lsp.ErrExitWithoutShutdown):
		return 1
	}
	fmt.Fprintf(stderr, "flowc lsp: %v\n", err)
	return 1
}

// stdio joins standard input and an output into the stream the server
// reads and writes.
type stdio struct {
	in  io.ReadCloser
	out io.Writer
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error                { return s.in.Close() }
