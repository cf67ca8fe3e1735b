// Package parser turns .flow source text into an *ast.File.
//
// ParseFile returns a partial *ast.File even when its diagnostics hold a
// syntax error, so tools (the formatter refuses, the language server keeps
// going) can decide what to do with it. Syntax errors are reported in words a
// person uses ("expected a field name or \"}\""), never as grammar rules.
package parser
