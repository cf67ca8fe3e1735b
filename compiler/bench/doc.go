// Package bench measures `flowc check` on a generated corpus of 1,000
// realistic flows (cmd/flowgen/gen) against its floor: the time cel-go alone
// needs to compile the same CEL expressions in prebuilt environments.
//
//	go test ./compiler/bench -bench . -benchtime 3x -run '^$'
//
// BenchmarkCheck reports the full check (find, parse, compile every package
// in parallel with one shared compiler, as flowc check does) and its ratio to
// the parallel floor; BenchmarkCELFloor reports the floor, single-threaded
// and parallel; BenchmarkLoad reports finding and parsing alone.
package bench
