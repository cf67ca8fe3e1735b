package main

import (
	"fmt"
	"os"

	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/lang/format"
)

func main() {
	src, _ := os.ReadFile(os.Args[1])
	out, d := format.Source(os.Args[1], src)
	d.WriteText(os.Stdout, func(string) *diag.Source { return diag.NewSource(os.Args[1], src) })
	fmt.Print(string(out))
}
