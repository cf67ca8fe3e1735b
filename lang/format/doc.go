// Package format prints .flow source in its one canonical layout, keeping
// every comment: four-space indents, one statement per line, one field per
// line with a trailing comma, single blank lines kept where the author put
// them, and expressions spaced the same way everywhere.
//
// Source is idempotent: Source(Source(x)) == Source(x).
package format
