package compiler

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

func TestRuntimeValueKeepsMoneyExact(t *testing.T) {
	v, err := RuntimeValue(schema.DecimalType, json.Number("0.1"))
	if err != nil || v.(stdlib.Decimal).String() != "0.1" {
		t.Fatalf("decimal from JSON: %v %v", v, err)
	}
	v, err = RuntimeValue(schema.MinorType, json.Number("9007199254740993")) // 2^53 + 1: a float64 would lose it
	if err != nil || int64(v.(stdlib.Minor)) != 9007199254740993 {
		t.Fatalf("minor units beyond float64's integers: %v %v", v, err)
	}
	if _, err := RuntimeValue(schema.DecimalType, 0.1); err == nil {
		t.Fatal("a float64 became a decimal amount")
	}
	if _, err := RuntimeValue(schema.MinorType, "twenty"); err == nil {
		t.Fatal("a string became minor units")
	}
}

// No float touches an amount on the way from a payload to an ERP write:
// the money paths hold no float64 at all.
func TestMoneyPathsHoldNoFloats(t *testing.T) {
	for _, file := range []string{"../runtime/engine/ledger.go", "../runtime/engine/run.go", "../stdlib/money.go", "../stdlib/decimal_val.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "float64") || strings.Contains(line, "float32") {
				t.Errorf("%s:%d: %s", file, i+1, strings.TrimSpace(line))
			}
		}
	}
}
