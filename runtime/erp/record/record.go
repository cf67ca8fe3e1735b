package record

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/schema"
)

// Driver records writes. It is safe for concurrent use.
type Driver struct {
	entities *schema.Connector // may be nil: then no key is generated

	mu      sync.Mutex
	w       io.Writer
	records map[string][]erp.Record // by entity, in write order
	// index finds records by one field's value: entity -> field + "\x00"
	// + the value's indexKey -> records that held that value (matches
	// re-checks, as a record's fields may have changed since). A field is
	// indexed from the first lookup by it on.
	index   map[string]map[string][]erp.Record
	indexed map[string]map[string]bool // entity -> fields in index
	byKey   map[string]erp.Record      // entity + "\x00" + idempotency key
	counter map[string]int64           // by entity
	buf     []byte                     // the log line being written
}

var _ erp.Driver = (*Driver)(nil)

// New returns a driver that writes its log to w. entities, when not nil,
// says which key fields to fill and how to match upserts; without it
// records are matched by idempotency key only.
func New(w io.Writer, entities *schema.Connector) *Driver {
	return &Driver{
		entities: entities,
		w:        w,
		records:  map[string][]erp.Record{},
		index:    map[string]map[string][]erp.Record{},
		indexed:  map[string]map[string]bool{},
		byKey:    map[string]erp.Record{},
		counter:  map[string]int64{},
	}
}

// line is one logged operation.
type line struct {
	Op         string           `json:"op"`
	Entity     string           `json:"entity"`
	Key        string           `json:"key,omitempty"`
	Fields     map[string]any   `json:"fields"`
	LineEntity string           `json:"line_entity,omitempty"`
	Lines      []map[string]any `json:"lines,omitempty"`
}

// Seed adds a record the ERP holds before the run (a test's given
// records): lookups find it; nothing is logged.
func (d *Driver) Seed(entity string, rec erp.Record) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec = clone(rec)
	d.records[entity] = append(d.records[entity], rec)
	d.add(entity, rec, rec)
}

// Lookup returns the first recorded record of entity whose fields equal where.
func (d *Driver) Lookup(_ context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.find(entity, where); r != nil {
		return clone(r), true, nil
	}
	return nil, false, nil
}

// Query returns every recorded record of entity whose fields equal where,
// in write order.
func (d *Driver) Query(_ context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []erp.Record
	for _, r := range d.records[entity] {
		if matches(r, where) {
			out = append(out, clone(r))
		}
	}
	return out, nil
}

// find returns the stored record matching where, or nil.
func (d *Driver) find(entity string, where erp.Record) erp.Record {
	for field, v := range where { // any one field narrows the search
		d.indexField(entity, field)
		for _, r := range d.index[entity][field+"\x00"+indexKey(v)] {
			if matches(r, where) {
				return r
			}
		}
		return nil
	}
	if rs := d.records[entity]; len(rs) > 0 {
		return rs[0]
	}
	return nil
}

func matches(r, where erp.Record) bool {
	for k, v := range where {
		if !equal(r[k], v) {
			return false
		}
	}
	return true
}

// equal compares field values by their logged form: decimal 1.5 equals
// 1.50, int64(2) equals decimal 2, times compare as instants.
func equal(a, b any) bool {
	x, err1 := wire(a)
	y, err2 := wire(b)
	if err1 != nil || err2 != nil {
		return false
	}
	nx, okx := x.(json.Number)
	ny, oky := y.(json.Number)
	if okx && oky {
		dx, err1 := decimal.NewFromString(string(nx))
		dy, err2 := decimal.NewFromString(string(ny))
		return err1 == nil && err2 == nil && dx.Equal(dy)
	}
	return x == y
}

// Write records w and returns the record as stored.
func (d *Driver) Write(_ context.Context, w erp.Write) (erp.Record, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fields, err := wireFields(w.Fields)
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("record: %s: %v", w.Entity, err)}
	}
	switch w.Op {
	case erp.Create, erp.Update, erp.Upsert:
	default:
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("record: unknown write op %q", w.Op)}
	}
	var existing erp.Record
	if w.Op != erp.Create {
		existing = d.existing(w)
	}
	var rec erp.Record
	if existing != nil {
		for k, v := range w.Fields {
			existing[k] = v
		}
		d.add(w.Entity, existing, w.Fields)
		rec = existing
	} else {
		rec = clone(w.Fields)
		d.fillKeys(w.Entity, rec, w.Key)
		d.records[w.Entity] = append(d.records[w.Entity], rec)
		d.add(w.Entity, rec, rec)
	}
	if w.Key != "" {
		d.byKey[w.Entity+"\x00"+w.Key] = rec
	}
	if err := d.log(line{Op: string(w.Op), Entity: w.Entity, Key: w.Key, Fields: fields}); err != nil {
		return nil, err
	}
	return rec, nil // the caller only reads it
}

// existing finds the record an Update or Upsert addresses: by the key
// fields the write sets, else by its idempotency key.
func (d *Driver) existing(w erp.Write) erp.Record {
	if obj := d.object(w.Entity); obj != nil {
		where := erp.Record{}
		for _, k := range obj.Keys {
			if v, ok := w.Fields[k]; ok {
				where[k] = v
			} else if k != "dataAreaId" {
				where = nil
				break
			}
		}
		if len(where) > 0 {
			if r := d.find(w.Entity, where); r != nil {
				return r
			}
		}
	}
	return d.byKey[w.Entity+"\x00"+w.Key]
}

// Find returns the record an earlier attempt of w wrote in this run.
func (d *Driver) Find(_ context.Context, w erp.Write) (erp.Record, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.byKey[w.Entity+"\x00"+w.Key]; ok {
		return clone(r), true, nil
	}
	return nil, false, nil
}

// PostJournal records the header and its lines as one operation.
func (d *Driver) PostJournal(_ context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.byKey[j.HeaderEntity+"\x00"+j.Key]; ok && j.Key != "" {
		return clone(r), d.linesOf(j, r), nil // already posted in this run
	}
	hf, err := wireFields(j.Header)
	if err != nil {
		return nil, nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("record: journal %s header: %v", j.Key, err)}
	}
	header := clone(j.Header)
	if j.LinkField != "" && header[j.LinkField] == nil {
		header[j.LinkField] = d.generated(j.HeaderEntity, j.Key)
	}
	d.fillKeys(j.HeaderEntity, header, j.Key)
	l := line{Op: "journal", Entity: j.HeaderEntity, Key: j.Key, Fields: hf, LineEntity: j.LineEntity}
	lines := make([]erp.Record, len(j.Lines))
	for i, src := range j.Lines {
		lf, err := wireFields(src)
		if err != nil {
			return nil, nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("record: journal %s line %d: %v", j.Key, i+1, err)}
		}
		l.Lines = append(l.Lines, lf)
		lines[i] = clone(src)
		if j.LinkField != "" {
			lines[i][j.LinkField] = header[j.LinkField]
		}
		if obj := d.object(j.LineEntity); obj != nil && lines[i]["LineNumber"] == nil {
			if _, ok := obj.Field("LineNumber"); ok {
				lines[i]["LineNumber"] = decimal.NewFromInt(int64(i + 1)) // as the d365fo driver numbers them
			}
		}
		d.fillKeys(j.LineEntity, lines[i], fmt.Sprintf("%s#%d", j.Key, i+1))
	}
	if err := d.log(l); err != nil {
		return nil, nil, err
	}
	d.records[j.HeaderEntity] = append(d.records[j.HeaderEntity], header)
	d.add(j.HeaderEntity, header, header)
	d.records[j.LineEntity] = append(d.records[j.LineEntity], lines...)
	for _, l := range lines {
		d.add(j.LineEntity, l, l)
	}
	if j.Key != "" {
		d.byKey[j.HeaderEntity+"\x00"+j.Key] = header
	}
	out := make([]erp.Record, len(lines))
	for i, r := range lines {
		out[i] = clone(r)
	}
	return clone(header), out, nil
}

func (d *Driver) linesOf(j erp.Journal, header erp.Record) []erp.Record {
	var out []erp.Record
	if j.LinkField == "" {
		return nil
	}
	d.indexField(j.LineEntity, j.LinkField)
	for _, r := range d.index[j.LineEntity][j.LinkField+"\x00"+indexKey(header[j.LinkField])] {
		if equal(r[j.LinkField], header[j.LinkField]) {
			out = append(out, clone(r))
		}
	}
	return out
}

func (d *Driver) object(entity string) *schema.Object {
	if d.entities == nil {
		return nil
	}
	return d.entities.Entities[entity]
}

// fillKeys gives every key field rec leaves out (except dataAreaId) a
// generated number: derived from the write's idempotency key when it has
// one, so that a run's numbers do not depend on the writes before it (two
// versions of a flow replayed side by side number alike), else the
// entity's next counter.
func (d *Driver) fillKeys(entity string, rec erp.Record, key string) {
	obj := d.object(entity)
	if obj == nil {
		return
	}
	for _, k := range obj.Keys {
		if _, set := rec[k]; set || k == "dataAreaId" {
			continue
		}
		f, _ := obj.Field(k)
		switch f.Type.Kind {
		case schema.Int:
			rec[k] = d.number(entity, key)
		case schema.Decimal:
			rec[k] = decimal.NewFromInt(d.number(entity, key))
		default:
			rec[k] = d.generated(entity, key)
		}
	}
}

// generated is a generated string key: "LedgerJournalHeaders-3f9a1c07"
// from an idempotency key, else the next counter, "LedgerJournalHeaders-000001".
func (d *Driver) generated(entity, key string) string {
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		return fmt.Sprintf("%s-%x", entity, sum[:4])
	}
	return fmt.Sprintf("%s-%06d", entity, d.number(entity, ""))
}

// number is a generated integer key, from an idempotency key or a counter.
func (d *Driver) number(entity, key string) int64 {
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		return int64(binary.BigEndian.Uint32(sum[:4]))
	}
	d.counter[entity]++
	return d.counter[entity]
}

func (d *Driver) log(l line) error {
	data, err := appendLine(d.buf[:0], l)
	if err != nil {
		return &erp.Error{Kind: erp.Permanent, Message: "record: encode " + l.Entity + ": " + err.Error(), Err: err}
	}
	d.buf = append(data, '\n')
	if _, err := d.w.Write(d.buf); err != nil {
		return &erp.Error{Kind: erp.Transient, Message: "record: write log: " + err.Error(), Err: err}
	}
	return nil
}

// wireFields converts field values to their logged JSON form.
func wireFields(r erp.Record) (map[string]any, error) {
	out := make(map[string]any, len(r))
	for k, v := range r {
		w, err := wire(v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		out[k] = w
	}
	return out, nil
}

func wire(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case int:
		return json.Number(fmt.Sprint(v)), nil
	case int32:
		return json.Number(fmt.Sprint(v)), nil
	case int64:
		return json.Number(fmt.Sprint(v)), nil
	case decimal.Decimal:
		return json.Number(v.String()), nil
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), nil
	case float32, float64:
		return nil, fmt.Errorf("floating-point value %v: amounts must be decimal.Decimal", v)
	case map[string]any: // a gateway object's metadata
		return wireFields(v)
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// add indexes rec under the values of those of fields that are indexed.
func (d *Driver) add(entity string, rec, fields erp.Record) {
	for k := range d.indexed[entity] {
		if v, ok := fields[k]; ok {
			key := k + "\x00" + indexKey(v)
			d.index[entity][key] = append(d.index[entity][key], rec)
		}
	}
}

// indexField indexes field of entity's records, once.
func (d *Driver) indexField(entity, field string) {
	if d.indexed[entity][field] {
		return
	}
	if d.indexed[entity] == nil {
		d.indexed[entity] = map[string]bool{}
		d.index[entity] = map[string][]erp.Record{}
	}
	d.indexed[entity][field] = true
	for _, r := range d.records[entity] {
		if v, ok := r[field]; ok {
			key := field + "\x00" + indexKey(v)
			d.index[entity][key] = append(d.index[entity][key], r)
		}
	}
}

// indexKey is a value's form in the index: values that are equal (see
// equal) have the same key.
func indexKey(v any) string {
	x, err := wire(v)
	if err != nil {
		return fmt.Sprintf("?%T", v)
	}
	if n, ok := x.(json.Number); ok {
		if d, err := decimal.NewFromString(string(n)); err == nil {
			return "n" + d.String()
		}
	}
	return fmt.Sprintf("%T:%v", x, x)
}

func clone(r erp.Record) erp.Record {
	out := make(erp.Record, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}
