// Package bench measures `flowc check` on a generated corpus of 1,000
// realistic flows (cmd/flowgen/gen) against its floor: the time cel-go alone
// needs to compile (parse and type-check) the same CEL expressions.
//
//	go test ./compiler/bench -bench . -benchtime 3x -run '^$'
//
// BenchmarkCheck reports the full check (find, parse, compile every package
// in parallel with one fresh compiler, as flowc check does) and its ratio to
// the parallel floor; BenchmarkCELFloor reports the floor, single-threaded
// and parallel; BenchmarkLoad reports finding and parsing alone.
//
// The floor takes every expression with the environment the checker checks
// it in (compiler.Expressions: cel-go environments of the standard library,
// the connectors' types and the variables in scope, built before timing) and
// times cel-go's Env.Compile on each, with nothing of ours in the loop.
// TestCorpusChecksClean checks that the corpus has no errors, that the floor
// holds every expression the generator wrote, and that cel-go alone finds
// the type the checker found for each.
package bench
