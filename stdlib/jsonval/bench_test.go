package jsonval

import (
	"os"
	"testing"
)

func BenchmarkParseCharge(b *testing.B) {
	raw, err := os.ReadFile("../../testdata/stripe/events/charge.succeeded.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
