// Command flowgen writes a corpus of realistic .flow packages for benchmarks:
//
//	go run ./cmd/flowgen -out DIR -n 1000 [-seed 1]
//
// The corpus is deterministic for a seed and checks without errors
// (go run ./cmd/flowc check DIR).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/flowhq/flow/cmd/flowgen/gen"
)

func main() {
	out := flag.String("out", "", "directory to write the corpus into (required)")
	n := flag.Int("n", 1000, "number of flows and ledgers")
	seed := flag.Uint64("seed", 1, "random seed: one seed, one corpus")
	perFile := flag.Int("per-file", 10, "flows per file")
	maxFiles := flag.Int("max-files", 5, "most flow files per package")
	flag.Parse()
	if *out == "" || *n <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: flowgen -out DIR [-n 1000] [-seed 1] [-per-file 10] [-max-files 5]")
		os.Exit(2)
	}
	c := gen.Generate(gen.Options{Flows: *n, Seed: *seed, FlowsPerFile: *perFile, MaxFilesPerPackage: *maxFiles})
	if err := c.Write(*out); err != nil {
		fmt.Fprintf(os.Stderr, "flowgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("flowgen: wrote %s to %s (seed %d)\n", c.Summary(), *out, *seed)
}
