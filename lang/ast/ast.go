package ast

import "github.com/alecthomas/participle/v2/lexer"

// Node is implemented by every syntax tree node.
type Node interface {
	Begin() lexer.Position // position of the first token
	End() lexer.Position   // position just past the last token
}

// Span is embedded in every node; participle fills Pos and EndPos.
type Span struct {
	Pos    lexer.Position
	EndPos lexer.Position
}

func (s Span) Begin() lexer.Position { return s.Pos }
func (s Span) End() lexer.Position   { return s.EndPos }

// File is one .flow source file.
type File struct {
	Span
	Package *Package `parser:"@@"`
	Decls   []Decl   `parser:"@@*"`
}

// Package is the file's package clause: `package shop`.
type Package struct {
	Span
	Name *Ident `parser:"\"package\" @@"`
}

// Ident is a name as written.
type Ident struct {
	Span
	Name string `parser:"@Ident"`
}

// Path is a dotted name: `erp.CustomersV3`, `stripe.charge.succeeded`.
type Path struct {
	Span
	Parts []*Ident `parser:"@@ ( \".\" @@ )*"`
}

// String returns the path as written, parts joined by dots.
func (p *Path) String() string {
	s := ""
	for i, id := range p.Parts {
		if i > 0 {
			s += "."
		}
		s += id.Name
	}
	return s
}

// StringLit is a quoted string outside expressions (import paths, schedules).
// Value is the literal as written, quotes included; Unquoted decodes it.
type StringLit struct {
	Span
	Value string `parser:"@String"`
}

// TypeExpr is a type as written in param and table declarations:
// `string`, `decimal`, `list(string)`, `map(string, decimal)`, `stripe.Charge`.
type TypeExpr struct {
	Span
	Name *Path       `parser:"@@"`
	Args []*TypeExpr `parser:"( \"(\" @@ ( \",\" @@ )* \")\" )?"`
}

// Field is one `Name: expr` entry of a block.
type Field struct {
	Span
	Name  *Ident `parser:"@@ \":\""`
	Value *Expr  `parser:"@@"`
}

// Block is a brace-enclosed list of fields separated by commas.
type Block struct {
	Span
	Fields []*Field `parser:"\"{\" ( @@ \",\"? )* \"}\""`
}
