package format

import (
	"strings"

	"github.com/flowhq/flow/lang/ast"
)

func (p *printer) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.On:
		line := "on " + s.Event.String()
		if s.Schedule != nil {
			line += " " + s.Schedule.Value
		}
		if s.Alias != nil {
			line += " as " + s.Alias.Name
		}
		p.line(line)
	case *ast.OrderBy:
		p.line("order by " + p.expr(s.Key))
	case *ast.Let:
		p.line("let " + s.Name.Name + " = " + p.expr(s.Value))
	case *ast.When:
		p.line("when " + p.expr(s.Cond))
	case *ast.Review:
		p.line("review when " + p.expr(&s.Cond.Expr) + " because " + p.expr(s.Reason))
	case *ast.Lookup:
		p.lookup(s)
		return
	case *ast.Write:
		head := s.Op + " "
		if s.Bound != nil {
			head += s.Target.String() + " = "
		}
		head += s.Entity().String()
		if s.Index != nil {
			head += "[" + p.expr(s.Index) + "]"
		}
		if s.Key != nil {
			head += " key " + p.expr(s.Key)
		}
		p.block(head, s.Body, "")
		return
	case *ast.For:
		if s.Items != nil {
			head := "for " + s.Var.Name + " in " + p.expr(&s.Items.Expr) + p.where(s.Where)
			if s.Body == nil {
				p.line(head)
				break
			}
			p.body(head, s.Body.Stmts, s.Body.End().Offset)
			return
		}
		args := make([]string, len(s.Args))
		for i, a := range s.Args {
			args[i] = a.Name.Name + ": " + p.expr(a.Value)
		}
		head := "for " + s.Var.Name + " in " + s.Source.String() + "(" + strings.Join(args, ", ") + ")"
		if s.Body != nil { // a flow's for over an aggregate's changes
			p.body(head, s.Body.Stmts, s.Body.End().Offset)
			return
		}
		p.line(head)
	case *ast.If:
		p.ifStmt(s)
		return
	case *ast.GroupBy:
		keys := make([]string, len(s.Keys))
		for i, k := range s.Keys {
			keys[i] = p.expr(&k.Value.Expr) + " as " + k.Name.Name
		}
		p.line("group by " + strings.Join(keys, ", "))
	case *ast.Journal:
		p.journal(s)
		return
	}
	p.trailing(s.End().Offset)
}

func (p *printer) lookup(s *ast.Lookup) {
	if s.Index != nil {
		p.line("lookup " + s.Name.Name + " = " + s.Entity.String() + "[" + p.expr(s.Index) + "]")
		if s.Miss == nil {
			p.trailing(s.End().Offset)
			return
		}
		p.trailing(s.Index.End().Offset + 1)
		p.indent++
		p.line("else " + s.Miss.Policy) // the checker reports it
		p.trailing(s.End().Offset)
		p.indent--
		return
	}
	head := "lookup " + s.Name.Name + " = " + s.Entity.String() + p.where(s.Where)
	if s.Miss == nil {
		p.line(head)
		p.trailing(s.End().Offset)
		return
	}
	p.line(head)
	if len(s.Where) > 0 { // a comment after the where clause stays on its line
		p.trailing(s.Where[len(s.Where)-1].Value.Expr.End().Offset)
	}
	p.indent++
	miss := "else " + s.Miss.Policy
	if s.Miss.Wait != "" {
		miss += " for " + s.Miss.Wait
	}
	if s.Miss.Create != nil {
		p.block(miss, s.Miss.Create, "")
	} else {
		p.line(miss)
		p.trailing(s.End().Offset)
	}
	p.indent--
}

// where prints the conditions of a lookup or a query, " where A == a and
// B == b", or nothing.
func (p *printer) where(conds []*ast.Cond) string {
	if len(conds) == 0 {
		return ""
	}
	out := make([]string, len(conds))
	for i, c := range conds {
		out[i] = c.Field.Name + " " + c.Op + " " + p.expr(&c.Value.Expr)
	}
	return " where " + strings.Join(out, " and ")
}

// ifStmt prints `if cond { ... }`, and `} else { ... }` when it has one.
func (p *printer) ifStmt(s *ast.If) {
	p.line("if " + p.expr(s.Cond) + " {")
	p.stmts(s.Then)
	if s.Else == nil {
		p.line("}")
		p.trailing(s.Then.End().Offset)
		return
	}
	p.line("} else {")
	p.stmts(s.Else)
	p.line("}")
	p.trailing(s.Else.End().Offset)
}

func (p *printer) journal(s *ast.Journal) {
	head := "journal " + s.Entity.String()
	if s.Key != nil {
		head += " key " + p.expr(s.Key)
	}
	p.line(head + " {")
	p.lastEnd = 0
	p.indent++
	for _, it := range s.Items {
		p.item(it, false)
		switch it := it.(type) {
		case *ast.Header:
			p.block("header", it.Fields, "")
		case *ast.LineField:
			p.line(it.Field.Name.Name + ": " + p.expr(it.Field.Value) + ",")
			p.trailing(skipComma(p.src, it.Field.End().Offset))
		case *ast.Posting:
			line := it.Side + " " + p.expr(&it.Account.Expr)
			if it.Amount != nil {
				line += " amount " + p.expr(it.Amount)
			}
			p.line(line)
			p.trailing(it.End().Offset)
		}
	}
	p.leading(s.End().Offset - 1)
	p.indent--
	p.line("}")
	p.trailing(s.End().Offset)
}
