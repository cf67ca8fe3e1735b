// Package ast declares the syntax tree of a .flow file.
//
// The types double as the grammar: lang/parser builds its participle parser
// from their struct tags, and participle fills every node's Pos and EndPos, so
// each node knows its exact source span (EndPos is the offset just past its
// last token). The tree is plain data; the compiler keeps what it learns about
// nodes in side tables and never writes to the tree.
package ast
