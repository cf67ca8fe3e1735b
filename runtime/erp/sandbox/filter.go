package sandbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/odata"
)

// The $filter language the sandbox understands: comparisons (eq ne gt ge lt
// le) of a property with a literal or another property, joined by and, or,
// not and parentheses. Literals: 'strings' (quote doubled inside), numbers,
// true, false, null, 2024-01-31T00:00:00Z, 2024-01-31, and enum members
// Namespace.Type'Member'.

// node is a parsed $filter expression.
type node interface{ String() string }

type logical struct {
	op   string // "and", "or"
	l, r node
}

type negation struct{ x node }

type comparison struct {
	op   string // eq ne gt ge lt le
	l, r node
}

type property struct{ name string }

type litKind int

const (
	litString litKind = iota
	litNumber
	litBool
	litNull
	litTime
	litEnum
)

type literal struct {
	kind litKind
	str  string          // litString text, litEnum member
	typ  string          // litEnum qualified type name
	num  decimal.Decimal // litNumber
	b    bool            // litBool
	t    time.Time       // litTime
}

func (n *logical) String() string  { return "(" + n.l.String() + " " + n.op + " " + n.r.String() + ")" }
func (n *negation) String() string { return "not (" + n.x.String() + ")" }
func (n *comparison) String() string {
	return operandString(n.l) + " " + n.op + " " + operandString(n.r)
}
func (n *property) String() string { return n.name }

func (n *literal) String() string {
	switch n.kind {
	case litString:
		return odata.Quote(n.str)
	case litNumber:
		return n.num.String()
	case litBool:
		return fmt.Sprint(n.b)
	case litTime:
		return n.t.Format(time.RFC3339Nano)
	case litEnum:
		return n.typ + odata.Quote(n.str)
	}
	return "null"
}

// operandString prints a comparison operand, in parentheses unless it is a
// property or a literal.
func operandString(n node) string {
	switch n.(type) {
	case *property, *literal, *logical:
		return n.String() // a logical prints its own parentheses
	}
	return "(" + n.String() + ")"
}

var comparisonOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

// parseFilter parses a $filter expression.
func parseFilter(s string) (node, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, fmt.Errorf("syntax error at position %d: unexpected %q", t.pos, t.text)
	}
	return n, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// word reports whether the next token is the keyword w, and consumes it.
func (p *parser) word(w string) bool {
	if t := p.peek(); t.kind == tokIdent && t.text == w {
		p.i++
		return true
	}
	return false
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil && p.word("or") {
		var r node
		if r, err = p.and(); err == nil {
			l = &logical{op: "or", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	for err == nil && p.word("and") {
		var r node
		if r, err = p.not(); err == nil {
			l = &logical{op: "and", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (node, error) {
	if p.word("not") {
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &negation{x: x}, nil
	}
	return p.compare()
}

func (p *parser) compare() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tokIdent && comparisonOps[t.text] {
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &comparison{op: t.text, l: l, r: r}, nil
	}
	return l, nil
}

func (p *parser) operand() (node, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, fmt.Errorf("syntax error at position %d: ')' expected", c.pos)
		}
		return n, nil
	case tokLiteral:
		return t.lit, nil
	case tokIdent:
		switch t.text {
		case "true", "false":
			return &literal{kind: litBool, b: t.text == "true"}, nil
		case "null":
			return &literal{kind: litNull}, nil
		case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le":
			return nil, fmt.Errorf("syntax error at position %d: unexpected %q", t.pos, t.text)
		case "add", "sub", "mul", "div", "mod", "has", "in":
			return nil, fmt.Errorf("the operator %q is not supported", t.text)
		}
		if strings.Contains(t.text, ".") || strings.Contains(t.text, "/") {
			return nil, fmt.Errorf("syntax error at position %d: %q is not a property", t.pos, t.text)
		}
		if p.peek().kind == tokLParen {
			return nil, fmt.Errorf("the function %q is not supported", t.text)
		}
		return &property{name: t.text}, nil
	case tokEOF:
		return nil, fmt.Errorf("syntax error at position %d: expression expected", t.pos)
	}
	return nil, fmt.Errorf("syntax error at position %d: unexpected %q", t.pos, t.text)
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokLiteral
	tokLParen
	tokRParen
	tokComma
	tokEquals
)

type token struct {
	kind tokKind
	text string
	pos  int
	lit  *literal
}

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// lex splits a $filter or key predicate into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			kind := map[byte]tokKind{'(': tokLParen, ')': tokRParen, ',': tokComma, '=': tokEquals}[c]
			toks = append(toks, token{kind: kind, text: string(c), pos: i})
			i++
		case c == '\'':
			str, n, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokLiteral, text: s[i:n], pos: i, lit: &literal{kind: litString, str: str}})
			i = n
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && (isAlnum(s[j]) || strings.IndexByte(".:+-", s[j]) >= 0) {
				j++
			}
			lit, err := numberOrTime(s[i:j])
			if err != nil {
				return nil, fmt.Errorf("syntax error at position %d: %w", i, err)
			}
			toks = append(toks, token{kind: tokLiteral, text: s[i:j], pos: i, lit: lit})
			i = j
		case isAlnum(c) || c == '_' || c == '$':
			j := i + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '/') {
				j++
			}
			word := s[i:j]
			if j < len(s) && s[j] == '\'' && strings.Contains(word, ".") { // Namespace.Type'Member'
				member, n, err := lexString(s, j)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{kind: tokLiteral, text: s[i:n], pos: i, lit: &literal{kind: litEnum, typ: word, str: member}})
				i = n
				continue
			}
			toks = append(toks, token{kind: tokIdent, text: word, pos: i})
			i = j
		default:
			return nil, fmt.Errorf("syntax error at position %d: unexpected character %q", i, c)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

// lexString reads the quoted string starting at s[i] == '\”; it returns the
// text and the index after the closing quote.
func lexString(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != '\'' {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		return b.String(), j + 1, nil
	}
	return "", 0, fmt.Errorf("syntax error at position %d: unterminated string literal", i)
}

func numberOrTime(w string) (*literal, error) {
	if numberRE.MatchString(w) {
		d, err := decimal.NewFromString(w)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", w)
		}
		return &literal{kind: litNumber, num: d}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, w); err == nil {
		return &literal{kind: litTime, t: t.UTC()}, nil
	}
	if t, err := time.Parse(time.DateOnly, w); err == nil {
		return &literal{kind: litTime, t: t}, nil
	}
	return nil, fmt.Errorf("%q is not a number, date or time", w)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }
