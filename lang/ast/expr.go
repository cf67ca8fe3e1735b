package ast

import (
	"fmt"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Expr is a CEL expression embedded in flow source. The parser does not parse
// CEL: it takes the tokens up to the end of the expression (a statement
// keyword, a separator or a closing bracket at nesting depth zero) and keeps
// their exact source text, so CEL positions map back onto the file.
type Expr struct {
	Span
	Text string // the source text, filled by the parser after parsing
}

// Parse implements participle.Parseable.
func (e *Expr) Parse(lex *lexer.PeekingLexer) error { return scanExpr(lex, e, nil) }

// CondExpr is the value of a lookup condition; it also ends at `and` and `else`.
type CondExpr struct{ Expr }

func (e *CondExpr) Parse(lex *lexer.PeekingLexer) error {
	return scanExpr(lex, &e.Expr, condStops)
}

// GroupExpr is a grouping expression; it also ends at `as`.
type GroupExpr struct{ Expr }

func (e *GroupExpr) Parse(lex *lexer.PeekingLexer) error {
	return scanExpr(lex, &e.Expr, groupStops)
}

// PostingExpr is a posting's account; it also ends at `amount`.
type PostingExpr struct{ Expr }

func (e *PostingExpr) Parse(lex *lexer.PeekingLexer) error {
	return scanExpr(lex, &e.Expr, postingStops)
}

// ForExpr is what a flow's for iterates; it also ends at `where`.
type ForExpr struct{ Expr }

func (e *ForExpr) Parse(lex *lexer.PeekingLexer) error {
	return scanExpr(lex, &e.Expr, forStops)
}

// ReviewExpr is a review's condition; it also ends at `because`.
type ReviewExpr struct{ Expr }

func (e *ReviewExpr) Parse(lex *lexer.PeekingLexer) error {
	return scanExpr(lex, &e.Expr, reviewStops)
}

// Keywords are the words that begin declarations and statements. At nesting
// depth zero they end an expression, unless they follow a dot (a field name).
var Keywords = map[string]bool{
	"package": true, "import": true, "param": true, "secret": true, "table": true, "env": true, "aggregate": true,
	"flow": true, "ledger": true, "on": true, "order": true, "let": true, "when": true, "review": true,
	"lookup": true, "create": true, "upsert": true, "update": true, "for": true, "if": true,
	"group": true, "journal": true, "header": true, "debit": true, "credit": true,
}

var (
	condStops    = map[string]bool{"and": true, "else": true}
	groupStops   = map[string]bool{"as": true}
	postingStops = map[string]bool{"amount": true}
	reviewStops  = map[string]bool{"because": true}
	forStops     = map[string]bool{"where": true}
)

func isIdent(v string) bool {
	if v == "" {
		return false
	}
	for i, r := range v {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

var byKeywords = map[string]bool{"order": true, "group": true}

// nextIs reports whether the token after the next one is v.
func nextIs(lex *lexer.PeekingLexer, v string) bool {
	cp := lex.MakeCheckpoint()
	defer lex.LoadCheckpoint(cp)
	lex.Next()
	return lex.Peek().Value == v
}

var closer = map[string]string{"(": ")", "[": "]", "{": "}"}

func scanExpr(lex *lexer.PeekingLexer, e *Expr, extra map[string]bool) error {
	var stack []*lexer.Token
	var first, last *lexer.Token
	prev := ""
	for {
		t := lex.Peek()
		if t.EOF() {
			if len(stack) > 0 {
				open := stack[len(stack)-1]
				return participle.Errorf(open.Pos, "%q is never closed", open.Value)
			}
			break
		}
		v := t.Value
		if len(stack) == 0 {
			stop := false
			switch {
			case v == "," || v == ")" || v == "]" || v == "}":
				stop = true
			case v == "{" && first != nil:
				stop = true
			case isIdent(v) && prev != "." && (Keywords[v] || extra[v]):
				// "order" and "group" start statements only as "order by"
				// and "group by"; elsewhere they are ordinary names.
				stop = !byKeywords[v] || nextIs(lex, "by")
			}
			if stop {
				break
			}
		}
		if c, ok := closer[v]; ok {
			stack = append(stack, t)
			_ = c
		} else if v == ")" || v == "]" || v == "}" {
			open := stack[len(stack)-1]
			if closer[open.Value] != v {
				return participle.Errorf(t.Pos, "%q closes %q opened at line %d", v, open.Value, open.Pos.Line)
			}
			stack = stack[:len(stack)-1]
		}
		tok := lex.Next()
		if first == nil {
			first = tok
		}
		last = tok
		prev = v
	}
	if first == nil {
		return participle.NextMatch
	}
	e.Pos = first.Pos
	e.EndPos = last.Pos
	e.EndPos.Offset += len(last.Value)
	e.EndPos.Column += len([]rune(last.Value))
	return nil
}

// String returns the expression's source text.
func (e *Expr) String() string { return e.Text }

// GoString helps debugging output.
func (e *Expr) GoString() string { return fmt.Sprintf("Expr(%q)", e.Text) }
