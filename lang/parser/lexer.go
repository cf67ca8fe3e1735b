package parser

import "github.com/alecthomas/participle/v2/lexer"

// Lexer is the .flow token set. CEL expressions use the same tokens, so an
// expression's text can be handed to cel-go unchanged.
var Lexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "String", Pattern: `[rRbB]?("""(?s:.*?)"""|'''(?s:.*?)'''|"(\\.|[^"\\\n])*"|'(\\.|[^'\\\n])*')`},
	{Name: "Duration", Pattern: `\d+(ms|s|m|h|d)\b`},
	{Name: "Number", Pattern: `(0[xX][0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)[uU]?`},
	{Name: "Ident", Pattern: `[a-zA-Z_][a-zA-Z0-9_]*`},
	{Name: "Punct", Pattern: `&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,=(){}\[\]]`},
})
