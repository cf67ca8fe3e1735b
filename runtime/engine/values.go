package engine

import (
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// goValue converts a CEL result into the plain Go value drivers take:
// string, bool, int64, float64, decimal.Decimal, time.Time, or nil; a map
// (Stripe's metadata) becomes a map[string]any and a list a []any of the
// same.
func goValue(v ref.Val) any {
	if v == nil || v == types.NullValue {
		return nil
	}
	switch x := v.(type) {
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			out[fmt.Sprint(k.Value())] = goValue(x.Get(k))
		}
		return out
	case traits.Lister:
		n, _ := x.Size().(types.Int)
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			out = append(out, goValue(x.Get(i)))
		}
		return out
	}
	return v.Value()
}
