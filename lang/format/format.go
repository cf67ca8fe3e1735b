package format

import (
	"bytes"
	"strings"

	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/parser"
)

const indentUnit = "    "

// Source formats a file. It refuses (returning the diagnostics and nil) when
// the file has a syntax error, so formatting never loses text.
func Source(name string, src []byte) ([]byte, diag.List) {
	f, diags := parser.ParseFile(name, src)
	if diags.HasErrors() {
		return nil, diags
	}
	p := &printer{src: src, comments: parser.Comments(name, src)}
	p.file(f)
	return p.out.Bytes(), nil
}

type printer struct {
	src      []byte
	comments []parser.Comment
	next     int // index of the first comment not yet printed
	out      bytes.Buffer
	indent   int
	lastEnd  int // source offset just past the last node printed
}

func (p *printer) line(s string) {
	if s == "" {
		p.out.WriteByte('\n')
		return
	}
	p.out.WriteString(strings.Repeat(indentUnit, p.indent))
	p.out.WriteString(s)
	p.out.WriteByte('\n')
}

// blankBefore reports whether the source has a blank line between the last
// printed node and offset.
func (p *printer) blankBefore(offset int) bool {
	if p.lastEnd <= 0 || offset <= p.lastEnd {
		return false
	}
	gap := p.src[p.lastEnd:offset]
	// Ignore comment text: count newlines between non-space content.
	lines := strings.Split(string(gap), "\n")
	for i := 1; i < len(lines)-1; i++ {
		if strings.TrimSpace(lines[i]) == "" {
			return true
		}
	}
	return false
}

// leading prints the comments that come before offset, each on its own line,
// keeping single blank lines between them and what precedes them.
func (p *printer) leading(offset int) {
	for p.next < len(p.comments) && p.comments[p.next].Offset < offset {
		c := p.comments[p.next]
		if p.blankBefore(c.Offset) && p.canBlank() {
			p.line("")
		}
		p.line(c.Text)
		p.lastEnd = c.EndOffset
		p.next++
	}
}

// trailing appends a comment that sits on the same source line just after
// end to the line just printed.
func (p *printer) trailing(end int) {
	if p.next >= len(p.comments) {
		p.lastEnd = end
		return
	}
	c := p.comments[p.next]
	if c.Offset >= end && !bytes.ContainsRune(p.src[end:c.Offset], '\n') {
		b := p.out.Bytes()
		p.out.Truncate(len(b) - 1) // drop the newline
		p.out.WriteString(" " + c.Text + "\n")
		p.next++
		end = c.EndOffset
	}
	p.lastEnd = end
}

// skipComments marks comments inside [start, end) as printed: they are part
// of an expression printed verbatim.
func (p *printer) skipComments(start, end int) {
	for p.next < len(p.comments) && p.comments[p.next].Offset < end {
		if p.comments[p.next].Offset < start {
			return
		}
		p.next++
	}
}

// item starts a node: blank line if the author had one, then its comments.
func (p *printer) item(n ast.Node, blank bool) {
	off := n.Begin().Offset
	if blank || (p.next < len(p.comments) && p.comments[p.next].Offset < off) || p.blankBefore(off) {
		if (blank || p.blankBefore(off)) && p.canBlank() {
			p.line("")
		}
	}
	p.leading(off)
	if p.blankBefore(off) && p.canBlank() {
		p.line("")
	}
}

// canBlank reports whether a blank line may go here: not at the top of the
// file or a block, and never two in a row.
func (p *printer) canBlank() bool {
	b := p.out.Bytes()
	return len(b) > 0 && !bytes.HasSuffix(b, []byte("{\n")) && !bytes.HasSuffix(b, []byte("\n\n"))
}

func (p *printer) file(f *ast.File) {
	p.item(f.Package, false)
	p.line("package " + f.Package.Name.Name)
	p.trailing(f.Package.End().Offset)
	var prev ast.Decl
	for _, d := range f.Decls {
		p.item(d, prev == nil || !sameKind(prev, d) || isBlockDecl(d) || isBlockDecl(prev))
		p.decl(d)
		prev = d
	}
	p.leading(len(p.src) + 1)
}

func sameKind(a, b ast.Decl) bool {
	switch a.(type) {
	case *ast.Import:
		_, ok := b.(*ast.Import)
		return ok
	case *ast.Param, *ast.Secret:
		switch b.(type) {
		case *ast.Param, *ast.Secret:
			return true
		}
	case *ast.Table:
		_, ok := b.(*ast.Table)
		return ok
	}
	return false
}

func isBlockDecl(d ast.Decl) bool {
	switch d := d.(type) {
	case *ast.Flow, *ast.Ledger, *ast.Env, *ast.Aggregate:
		return true
	case *ast.Import:
		return d.Config != nil && len(d.Config.Fields) > 0
	case *ast.Table:
		return strings.Contains(d.Value.Text, "\n")
	}
	return false
}

func (p *printer) decl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.Import:
		s := "import " + d.Path.Value
		if d.Alias != nil {
			s += " as " + d.Alias.Name
		}
		if d.Config != nil {
			p.block(s, d.Config, "")
			return
		}
		p.line(s)
	case *ast.Param:
		s := "param " + d.Name.Name + ": " + typeString(d.Type)
		if d.Default != nil {
			s += " = " + p.expr(d.Default)
		}
		p.line(s)
	case *ast.Secret:
		p.line("secret " + d.Name.Name)
	case *ast.Table:
		p.line("table " + d.Name.Name + ": " + typeString(d.Type) + " = " + p.expr(d.Value))
	case *ast.Env:
		p.block("env "+d.Name.Name, d.Values, "")
		return
	case *ast.Aggregate:
		p.aggregate(d)
		return
	case *ast.Flow:
		p.body("flow "+d.Name.Name, d.Stmts, d.End().Offset)
		return
	case *ast.Ledger:
		p.body("ledger "+d.Name.Name, d.Stmts, d.End().Offset)
		return
	}
	p.trailing(d.End().Offset)
}

func typeString(t *ast.TypeExpr) string {
	s := t.Name.String()
	if len(t.Args) > 0 {
		args := make([]string, len(t.Args))
		for i, a := range t.Args {
			args[i] = typeString(a)
		}
		s += "(" + strings.Join(args, ", ") + ")"
	}
	return s
}

// aggregate prints an aggregate declaration, one field per line.
func (p *printer) aggregate(d *ast.Aggregate) {
	head := "aggregate " + d.Name.Name + " by " + typeString(d.Key)
	if len(d.Fields) == 0 && !p.hasCommentsBefore(d.End().Offset) {
		p.line(head + " {}")
		p.trailing(d.End().Offset)
		return
	}
	p.line(head + " {")
	p.lastEnd = 0
	p.indent++
	for _, f := range d.Fields {
		p.item(f, false)
		p.line(f.Name.Name + ": " + typeString(f.Type) + ",")
		p.trailing(skipComma(p.src, f.End().Offset))
	}
	p.leading(d.End().Offset - 1)
	p.indent--
	p.line("}")
	p.trailing(d.End().Offset)
}

// body prints `head {`, the statements, and the closing brace.
func (p *printer) body(head string, stmts []ast.Stmt, end int) {
	p.line(head + " {")
	p.indented(stmts, end)
	p.line("}")
	p.trailing(end)
}

// stmts prints the statements of a braced block, one level in, with the
// comments before its "}"; the caller prints the braces.
func (p *printer) stmts(b *ast.Stmts) { p.indented(b.Stmts, b.End().Offset) }

func (p *printer) indented(stmts []ast.Stmt, end int) {
	p.lastEnd = 0
	p.indent++
	for _, s := range stmts {
		p.item(s, false)
		p.stmt(s)
	}
	p.leading(end - 1)
	p.indent--
}

// block prints `head {`, one field per line, and `}` + tail. An empty block
// stays on one line.
func (p *printer) block(head string, b *ast.Block, tail string) {
	if len(b.Fields) == 0 && !p.hasCommentsBefore(b.End().Offset) {
		p.line(strings.TrimSpace(head+" {}") + tail)
		p.trailing(b.End().Offset)
		return
	}
	p.line(strings.TrimSpace(head + " {"))
	p.lastEnd = 0
	p.indent++
	for _, f := range b.Fields {
		p.item(f, false)
		p.line(f.Name.Name + ": " + p.expr(f.Value) + ",")
		p.trailing(skipComma(p.src, f.End().Offset))
	}
	p.leading(b.End().Offset - 1)
	p.indent--
	p.line("}" + tail)
	p.trailing(b.End().Offset)
}

func (p *printer) hasCommentsBefore(offset int) bool {
	return p.next < len(p.comments) && p.comments[p.next].Offset < offset
}

// skipComma returns the offset past a comma that directly follows end.
func skipComma(src []byte, end int) int {
	i := end
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i < len(src) && src[i] == ',' {
		return i + 1
	}
	return end
}
