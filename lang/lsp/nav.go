package lsp

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/format"
)

// definition finds where the name at the cursor is declared: a let, a
// lookup or write's record, the event variable, a param, a table, a secret,
// a connector's import, or a flow.
func (s *Server) definition(_ context.Context, p *protocol.DefinitionParams) (any, error) {
	snap, f := s.fileAt(p.TextDocument.URI)
	if f == nil {
		return nil, nil
	}
	off := f.text.offset(p.Position)
	name, start, _ := f.text.wordAt(off)
	if name == "" || snap.info == nil {
		return nil, nil
	}
	if start > 0 && f.text.src[start-1] == '.' {
		return nil, nil // a field, not a name
	}
	if sym := snap.scope(enclosingFlow(f.text.src, off))[name]; sym != nil && sym.Decl != nil {
		if df := snap.files[sym.File]; df != nil {
			return []protocol.Location{{URI: s.uriOf(sym.File), Range: df.text.rangeOf(sym.Decl.Pos.Offset, sym.Decl.EndPos.Offset)}}, nil
		}
	}
	for path, df := range snap.files {
		if d := bodyOf(df.ast, name); d != nil {
			id, _, _ := ast.Body(d)
			return []protocol.Location{{URI: s.uriOf(path), Range: df.text.rangeOf(id.Pos.Offset, id.EndPos.Offset)}}, nil
		}
	}
	return nil, nil
}

// documentSymbol outlines a document: imports, params, secrets, tables,
// envs, and flows and ledgers with the names they declare.
func (s *Server) documentSymbol(_ context.Context, p *protocol.DocumentSymbolParams) (any, error) {
	_, f := s.fileAt(p.TextDocument.URI)
	if f == nil || f.ast == nil {
		return []protocol.DocumentSymbol{}, nil
	}
	out := []protocol.DocumentSymbol{}
	sym := func(n ast.Node, id ast.Node, name, detail string, kind protocol.SymbolKind) protocol.DocumentSymbol {
		if id == nil {
			id = n
		}
		return protocol.DocumentSymbol{Name: name, Detail: detail, Kind: kind,
			Range:          f.text.rangeOf(n.Begin().Offset, n.End().Offset),
			SelectionRange: f.text.rangeOf(id.Begin().Offset, id.End().Offset)}
	}
	for _, d := range f.ast.Decls {
		switch d := d.(type) {
		case *ast.Import:
			if d.Path == nil {
				continue
			}
			name := strings.Trim(d.Path.Value, `"'`)
			var id ast.Node = d.Path
			if d.Alias != nil {
				name, id = d.Alias.Name, d.Alias
			}
			out = append(out, sym(d, id, name, "import "+d.Path.Value, protocol.SymbolKindModule))
		case *ast.Param:
			if d.Name != nil {
				out = append(out, sym(d, d.Name, d.Name.Name, "param "+typeText(d.Type), protocol.SymbolKindVariable))
			}
		case *ast.Secret:
			if d.Name != nil {
				out = append(out, sym(d, d.Name, d.Name.Name, "secret", protocol.SymbolKindKey))
			}
		case *ast.Table:
			if d.Name != nil {
				out = append(out, sym(d, d.Name, d.Name.Name, "table "+typeText(d.Type), protocol.SymbolKindConstant))
			}
		case *ast.Env:
			if d.Name != nil {
				out = append(out, sym(d, d.Name, d.Name.Name, "env", protocol.SymbolKindNamespace))
			}
		case *ast.Flow, *ast.Ledger:
			id, stmts, _ := ast.Body(d)
			if id == nil {
				continue
			}
			kind := "flow"
			if _, ok := d.(*ast.Ledger); ok {
				kind = "ledger"
			}
			fs := sym(d, id, id.Name, kind, protocol.SymbolKindFunction)
			fs.Children = stmtSymbols(stmts, sym)
			out = append(out, fs)
		}
	}
	return out, nil
}

// stmtSymbols returns the names statements declare: a for's body's are
// the for's children, an if's branches' are their own.
func stmtSymbols(stmts []ast.Stmt, sym func(n, id ast.Node, name, detail string, kind protocol.SymbolKind) protocol.DocumentSymbol) []protocol.DocumentSymbol {
	var out []protocol.DocumentSymbol
	for _, st := range stmts {
		if c, ok := stmtSymbol(st); ok {
			s := sym(st, c.id, c.id.Name, c.detail, c.kind)
			if f, ok := st.(*ast.For); ok && f.Body != nil {
				s.Children = stmtSymbols(f.Body.Stmts, sym)
			}
			out = append(out, s)
			continue
		}
		if i, ok := st.(*ast.If); ok {
			for _, b := range []*ast.Stmts{i.Then, i.Else} {
				if b != nil {
					out = append(out, stmtSymbols(b.Stmts, sym)...)
				}
			}
		}
	}
	return out
}

type namedStmt struct {
	id     *ast.Ident
	detail string
	kind   protocol.SymbolKind
}

// stmtSymbol returns the name a statement declares.
func stmtSymbol(st ast.Stmt) (namedStmt, bool) {
	switch st := st.(type) {
	case *ast.On:
		if st.Alias != nil && st.Event != nil {
			return namedStmt{st.Alias, "on " + st.Event.String(), protocol.SymbolKindEvent}, true
		}
	case *ast.Let:
		if st.Name != nil {
			return namedStmt{st.Name, "let", protocol.SymbolKindVariable}, true
		}
	case *ast.Lookup:
		if st.Name != nil && st.Entity != nil {
			return namedStmt{st.Name, "lookup " + st.Entity.String(), protocol.SymbolKindObject}, true
		}
	case *ast.Write:
		if id := st.Name(); id != nil && st.Entity() != nil {
			return namedStmt{id, st.Op + " " + st.Entity().String(), protocol.SymbolKindObject}, true
		}
	case *ast.For:
		if st.Var != nil && st.Source != nil {
			return namedStmt{st.Var, "for in " + st.Source.String(), protocol.SymbolKindVariable}, true
		}
		if st.Var != nil && st.Items != nil {
			return namedStmt{st.Var, "for in " + strings.TrimSpace(st.Items.Text), protocol.SymbolKindVariable}, true
		}
	}
	return namedStmt{}, false
}

func typeText(t *ast.TypeExpr) string {
	if t == nil || t.Name == nil {
		return ""
	}
	s := t.Name.String()
	if len(t.Args) > 0 {
		var args []string
		for _, a := range t.Args {
			args = append(args, typeText(a))
		}
		s += "(" + strings.Join(args, ", ") + ")"
	}
	return s
}

// formatting formats a document with lang/format, as `flowc fmt` does. A
// document with a syntax error is left alone.
func (s *Server) formatting(_ context.Context, p *protocol.DocumentFormattingParams) (any, error) {
	path := pathOf(p.TextDocument.URI)
	s.mu.Lock()
	d := s.docs[path]
	var src []byte
	if d != nil {
		src = d.text
	}
	s.mu.Unlock()
	if d == nil {
		return nil, nil
	}
	out, diags := format.Source(path, src)
	if diags.HasErrors() || string(out) == string(src) {
		return []protocol.TextEdit{}, nil
	}
	t := newText(src)
	return []protocol.TextEdit{{Range: t.rangeOf(0, len(src)), NewText: string(out)}}, nil
}

var didYouMean = regexp.MustCompile(`^did you mean (".*")\?$`)

// codeAction offers the checker's `did you mean` suggestions on the
// diagnostics in the requested range as quick fixes.
func (s *Server) codeAction(_ context.Context, p *protocol.CodeActionParams) (any, error) {
	snap, f := s.fileAt(p.TextDocument.URI)
	out := []protocol.CodeAction{}
	if f == nil {
		return out, nil
	}
	from, to := f.text.offset(p.Range.Start), f.text.offset(p.Range.End)
	for _, d := range snap.diags[f.path] {
		r := f.text.diagRange(d.Pos, d.End)
		start, end := f.text.offset(r.Start), f.text.offset(r.End)
		if end < from || start > to {
			continue
		}
		fix, ok := replacement(d, f.text.src[start:end])
		if !ok {
			continue
		}
		u := s.uriOf(f.path)
		out = append(out, protocol.CodeAction{
			Title:       fmt.Sprintf("Change to %s", fix),
			Kind:        protocol.QuickFix,
			Diagnostics: []protocol.Diagnostic{s.lspDiagnostic(f.text, d, snap)},
			IsPreferred: true,
			Edit:        &protocol.WorkspaceEdit{Changes: map[protocol.DocumentURI][]protocol.TextEdit{u: {{Range: r, NewText: fix}}}},
		})
	}
	return out, nil
}

// replacement returns the text a `did you mean` suggestion puts in place
// of old: the suggested name, quoted when old is a string literal.
func replacement(d diag.Diagnostic, old []byte) (string, bool) {
	m := didYouMean.FindStringSubmatch(d.Suggestion)
	if m == nil {
		return "", false
	}
	name, err := strconv.Unquote(m[1])
	if err != nil || name == "" || string(old) == name {
		return "", false
	}
	if len(old) > 0 && (old[0] == '"' || old[0] == '\'') {
		return strconv.Quote(name), true
	}
	return name, true
}

// lspDiagnostic converts a checker diagnostic; the suggestion follows the
// message on a line of its own, as `flowc check` prints it under `help:`.
func (s *Server) lspDiagnostic(t *text, d diag.Diagnostic, snap *snapshot) protocol.Diagnostic {
	sev := protocol.DiagnosticSeverityError
	switch d.Severity {
	case diag.Warning:
		sev = protocol.DiagnosticSeverityWarning
	case diag.Info:
		sev = protocol.DiagnosticSeverityInformation
	}
	msg := d.Message
	if d.Suggestion != "" {
		msg += "\nhelp: " + d.Suggestion
	}
	out := protocol.Diagnostic{Range: t.diagRange(d.Pos, d.End), Severity: sev, Code: string(d.Code), Source: "flowc", Message: msg}
	if d.Code == diag.Unused {
		out.Tags = []protocol.DiagnosticTag{protocol.DiagnosticTagUnnecessary}
	}
	for _, n := range d.Related {
		rf := snap.files[n.Pos.File]
		if rf == nil {
			continue
		}
		out.RelatedInformation = append(out.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: s.uriOf(n.Pos.File), Range: rf.text.diagRange(n.Pos, diag.Pos{})},
			Message:  n.Message,
		})
	}
	return out
}
