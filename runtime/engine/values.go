package engine

import (
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// goValue converts a CEL result into the plain Go value drivers take:
// string, bool, int64, float64, decimal.Decimal, time.Time, or nil.
func goValue(v ref.Val) any {
	if v == nil || v == types.NullValue {
		return nil
	}
	return v.Value()
}
