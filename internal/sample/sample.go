// Package sample makes many distinct gateway events from one real fixture,
// for load generators and benchmarks.
package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Charges returns n copies of the Stripe charge event template, each with
// its own event id, charge id, order id and amount, and one of 50
// customers. tag keeps ids of different runs apart. typ, when set,
// replaces the event type.
func Charges(template []byte, n int, tag, typ string) ([][]byte, error) {
	d := json.NewDecoder(bytes.NewReader(template))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	data, _ := ev["data"].(map[string]any)
	obj, _ := data["object"].(map[string]any)
	if obj == nil {
		return nil, fmt.Errorf("template: no data.object")
	}
	if typ != "" {
		ev["type"] = typ
	}
	if bd, ok := obj["billing_details"].(map[string]any); ok {
		bd["name"] = "Load Test Customer"
	}
	out := make([][]byte, n)
	for i := range out {
		ev["id"] = fmt.Sprintf("evt_%s_%d", tag, i)
		obj["id"] = fmt.Sprintf("ch_%s_%d", tag, i)
		obj["customer"] = fmt.Sprintf("cus_load%010d", i%50)
		obj["amount"] = json.Number(fmt.Sprint(500 + i%9500))
		obj["metadata"] = map[string]any{"order_id": fmt.Sprintf("%s-%d", tag, i)}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
