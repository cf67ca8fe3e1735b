// Package compiler takes the parsed files of one flow package and gives back
// an immutable execution plan and the diagnostics of its source.
//
// Compile runs an ordered list of passes (see passes in compile.go):
//
//	imports  load the connector schemas the package imports
//	globals  declare params, secrets, tables and envs; evaluate constants
//	bodies   check each flow and ledger statement by statement (names, types,
//	         CEL expressions, ERP fields, keys, ledgers), in parallel
//	package  package-wide rules: unused names, reversals never handled
//	lower    build the plan (only when there are no errors)
//
// Every pass reads what the previous ones recorded in the compilation's side
// tables (Info); the syntax tree is never modified. CEL's own error text never
// reaches users: compiler/cel.go translates it into diagnostics at file
// positions.
package compiler
