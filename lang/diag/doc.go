// Package diag defines source positions and the diagnostics every stage of
// flow reports: the parser, the checker and the runtime's reload.
//
// A Diagnostic is a problem in the user's source. Go errors are kept for system
// failures (I/O, drivers); the two never mix. Printing lives here too, so the
// CLI, the language server and flowd's reload log all speak with one voice.
package diag
