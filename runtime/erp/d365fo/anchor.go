package d365fo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/schema"
)

// assumedLengths are F&O's string sizes of anchor fields whose MaxLength
// the schema does not declare (the Description and CustPurchaseOrder EDTs).
var assumedLengths = map[string]int{
	"Description":               60,
	"CustomerRequisitionNumber": 20,
	"CustomerRequisition":       20,
}

// unknownLength is assumed for any other anchor field without a MaxLength:
// a hashed anchor (19 characters) always fits.
const unknownLength = 20

// anchor is where an entity set stores idempotency keys.
type anchor struct {
	field  string
	maxLen int
}

// anchorFields resolves the anchors: the defaults whose field exists in the
// schema, then overrides, which must name string fields.
func anchorFields(c *schema.Connector, overrides map[string]string) (map[string]anchor, error) {
	out := map[string]anchor{}
	add := func(set, field string, strict bool) error {
		obj, ok := c.Entities[set]
		if !ok {
			if strict {
				return fmt.Errorf("d365fo: Anchors: unknown entity set %q", set)
			}
			return nil
		}
		f, ok := obj.Field(field)
		if !ok || f.Type.Kind != schema.String || f.Type.Enum != nil {
			if strict {
				return fmt.Errorf("d365fo: Anchors: %s has no string field %q", set, field)
			}
			return nil
		}
		n := f.MaxLength
		if n == 0 {
			n = assumedLengths[field]
		}
		if n == 0 {
			n = unknownLength
		}
		out[set] = anchor{field: field, maxLen: n}
		return nil
	}
	for set, field := range d365fo.Anchors {
		_ = add(set, field, false) // a default the schema lacks is skipped
	}
	sets := make([]string, 0, len(overrides))
	for set := range overrides {
		sets = append(sets, set)
	}
	sort.Strings(sets)
	for _, set := range sets {
		if err := add(set, overrides[set], true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// anchorValue is what the anchor field holds for key: the key itself when
// it fits, else "fk-" and the first 16 hex digits of its SHA-256.
func (a anchor) value(key string) string {
	if utf8.RuneCountInString(key) <= a.maxLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "fk-" + hex.EncodeToString(sum[:])[:16]
}

// naturalKey returns the key fields of obj that fields sets (all but
// dataAreaId, which the company fills); ok is false when one is missing.
func naturalKey(obj *schema.Object, fields erp.Record) (erp.Record, bool) {
	nk := erp.Record{}
	for _, k := range obj.Keys {
		v, set := fields[k]
		if k == "dataAreaId" {
			if set {
				nk[k] = v
			}
			continue
		}
		if !set || v == nil || v == "" {
			return nil, false
		}
		nk[k] = v
	}
	return nk, len(obj.Keys) > 0
}

// anchor stores w.Key in fields' anchor field when the entity has one and
// the flow did not set that field itself. A write that sets its natural key
// is anchored by it as well; one that does not, and whose entity has no
// anchor field, cannot be settled after a crash and is refused.
func (d *Driver) anchor(w erp.Write, obj *schema.Object, fields erp.Record) error {
	if w.Key == "" {
		return nil
	}
	_, natural := naturalKey(obj, fields)
	a, ok := d.anchors[w.Entity]
	if !ok {
		if natural {
			return nil
		}
		return &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf(
			"d365fo: %s: the write sets no natural key (%v) and the entity has no anchor field for the idempotency key; set one in Config.Anchors",
			w.Entity, obj.Keys)}
	}
	v := a.value(w.Key)
	if cur, set := fields[a.field]; set && cur != v {
		if natural {
			return nil // the flow's own value stays; the natural key anchors
		}
		return &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf(
			"d365fo: %s: field %s holds the idempotency key and cannot be set by the flow (%v)", w.Entity, a.field, cur)}
	}
	fields[a.field] = v
	return nil
}

// Find returns the record an earlier attempt of w wrote: by w's natural
// key when w sets it, else by the idempotency key in the anchor field.
func (d *Driver) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	obj, err := d.entity(w.Entity)
	if err != nil {
		return nil, false, err
	}
	if nk, ok := naturalKey(obj, d.withCompany(obj, w.Fields)); ok {
		return d.Lookup(ctx, w.Entity, nk)
	}
	return d.findAnchored(ctx, w.Entity, w.Key)
}

// findAnchored looks a key up by the entity's anchor field.
func (d *Driver) findAnchored(ctx context.Context, entity, key string) (erp.Record, bool, error) {
	if _, err := d.entity(entity); err != nil {
		return nil, false, err
	}
	if a, ok := d.anchors[entity]; ok && key != "" {
		return d.Lookup(ctx, entity, erp.Record{a.field: a.value(key)})
	}
	return nil, false, nil
}

func quote(s string) string { return odata.Quote(s) }
