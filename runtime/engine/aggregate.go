package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

// Aggregates keeps the entries of a package's aggregates: per aggregate
// and key, a JSON object of the entry's fields (decimals as strings,
// timestamps in RFC 3339).
//
// UpdateAggregate applies one update once per effect key: in one
// transaction it checks that effect is not in the idempotency ledger, calls
// fn with the entry's current value (nil when there is none), stores what
// fn returns and records effect in the ledger. When effect is already
// there it returns the entry as stored, with applied false, and does not
// call fn. fn may be called more than once (a rolled-back batch runs
// again), so it must only compute. The store (flowd's SQLite or
// PostgreSQL store) implements it next to the ledger, so an update and its
// key commit together: a retried, replayed or crashed event counts once.
type Aggregates interface {
	Aggregate(ctx context.Context, name, key string) (value []byte, ok bool, err error)
	UpdateAggregate(ctx context.Context, name, key, effect string, fn func(cur []byte) ([]byte, error)) (value []byte, applied bool, err error)
}

// AggregateChanges is an Aggregates that lists what changed: each is
// called, oldest change first, with every entry an update changed at or
// after since (flows' `for c in agg.changed(since: t)`). The entries are
// read before each is first called, so each may update aggregates.
type AggregateChanges interface {
	AggregateChanges(ctx context.Context, name string, since time.Time, each func(key string, value []byte, updated time.Time) error) error
}

// aggType is a declared aggregate, its field types resolved.
type aggType struct {
	name   string
	key    *schema.Type
	fields []aggField
}

type aggField struct {
	name string
	typ  *schema.Type
}

// aggregateTypes resolves the plan's aggregate declarations.
func aggregateTypes(decls []plan.AggregateDecl) (map[string]*aggType, error) {
	out := make(map[string]*aggType, len(decls))
	for _, d := range decls {
		at := &aggType{name: d.Name, key: aggScalars[d.Key]}
		for _, f := range d.Fields {
			t, ok := aggScalars[f.Type]
			if !ok {
				return nil, fmt.Errorf("aggregate %s: field %s has type %s, which an aggregate cannot keep", d.Name, f.Name, f.Type)
			}
			at.fields = append(at.fields, aggField{name: f.Name, typ: t})
		}
		out[d.Name] = at
	}
	return out, nil
}

var aggScalars = map[string]*schema.Type{"string": schema.StringType, "int": schema.IntType, "bool": schema.BoolType,
	"decimal": schema.DecimalType, "minor": schema.MinorType, "timestamp": schema.TimestampType, "dyn": schema.AnyType}

// aggregates returns the store of the run's aggregates: Env.Aggregates, or
// the ledger when it keeps them too (flowd's store does).
func (r *run) aggregates() (Aggregates, error) {
	if r.env.Aggregates != nil {
		return r.env.Aggregates, nil
	}
	if a, ok := r.env.Ledger.(Aggregates); ok {
		return a, nil
	}
	return nil, &Error{Class: Dead, Err: errors.New("this runtime keeps no aggregates")}
}

// entryKey evaluates the key of an aggregate entry.
func (r *run) entryKey(s *step) (string, error) {
	v, err := r.eval(s.index, s.Index.At)
	if err != nil {
		return "", err
	}
	var k string
	switch x := v.Value().(type) {
	case string:
		k = x
	case int64:
		k = strconv.FormatInt(x, 10)
	default:
		return "", &Error{Class: Dead, Err: fmt.Errorf("%s: the key of %s is %s, want a string or an int", s.Index.At, s.Aggregate, v.Type().TypeName())}
	}
	if k == "" {
		return "", &Error{Class: Dead, Err: fmt.Errorf("%s: the key of the %s entry is empty", s.Index.At, s.Aggregate)}
	}
	return k, nil
}

// updateAggregate runs `update [x =] agg[entry] key k { ... }`.
func (r *run) updateAggregate(ctx context.Context, n int, s *step) error {
	store, err := r.aggregates()
	if err != nil {
		return err
	}
	if s.agg == nil {
		return &Error{Class: Dead, Err: fmt.Errorf("aggregate %s is not declared in the plan", s.Aggregate)}
	}
	kv, err := r.eval(s.key, s.Key.At)
	if err != nil {
		return err
	}
	key, _ := kv.Value().(string)
	if key == "" {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: the idempotency key is empty", s.Key.At)}
	}
	entry, err := r.entryKey(s)
	if err != nil {
		return err
	}
	defer r.env.Locks.lock("key|" + key)()
	val, applied, err := store.UpdateAggregate(ctx, s.Aggregate, entry, key, func(cur []byte) ([]byte, error) {
		return r.applyUpdate(s, cur)
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return Transient(fmt.Errorf("update %s[%q]: %w", s.Aggregate, entry, err))
	}
	rec, err := decodeEntry(val)
	if err != nil {
		return &Error{Class: Dead, Err: fmt.Errorf("%s[%q]: %w", s.Aggregate, entry, err)}
	}
	if s.Name != "" {
		r.vars[s.Name] = rec
	}
	how := "updated"
	if !applied {
		how = "already counted"
	}
	r.trace(n, s, "update %s[%q] key %q: %s", s.Aggregate, entry, key, how)
	return nil
}

// applyUpdate computes an entry's next value from its current one: the
// update's expressions see the current fields by name.
func (r *run) applyUpdate(s *step, cur []byte) ([]byte, error) {
	rec, err := decodeEntry(cur)
	if err != nil {
		return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: stored entry: %w", s.Aggregate, err)}
	}
	for _, f := range s.agg.fields {
		v, err := compiler.RuntimeValue(f.typ, rec[f.name])
		if err != nil {
			return nil, &Error{Class: Dead, Err: fmt.Errorf("%s.%s as stored: %w", s.Aggregate, f.name, err)}
		}
		r.vars[f.name] = v
	}
	defer func() {
		for _, f := range s.agg.fields {
			delete(r.vars, f.name)
		}
	}()
	next := make(map[string]any, len(rec)+len(s.fields))
	for k, v := range rec {
		next[k] = v
	}
	for _, fl := range s.fields {
		v, err := r.eval(fl.prog, fl.at)
		if err != nil {
			return nil, err
		}
		ev, err := entryValue(s.agg.typeOf(fl.name), v)
		if err != nil {
			return nil, &Error{Class: Dead, Err: fmt.Errorf("%s: %s.%s: %w", fl.at, s.Aggregate, fl.name, err)}
		}
		next[fl.name] = ev
	}
	return json.Marshal(next)
}

func (a *aggType) typeOf(field string) *schema.Type {
	for _, f := range a.fields {
		if f.name == field {
			return f.typ
		}
	}
	return schema.AnyType
}

// entryValue converts a CEL result into what an entry stores: decimals as
// exact strings, timestamps in RFC 3339, numbers as JSON integers.
func entryValue(t *schema.Type, v ref.Val) (any, error) {
	cv, err := compiler.RuntimeValue(t, goValue(v))
	if err != nil {
		return nil, err
	}
	switch x := cv.(type) {
	case stdlib.Decimal:
		return x.Decimal.String(), nil
	case stdlib.Minor:
		return int64(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	return cv, nil
}

// decodeEntry decodes a stored entry; nil or empty is the entry no update
// touched, whose fields read as zero values.
func decodeEntry(b []byte) (map[string]any, error) {
	rec := map[string]any{}
	if len(bytes.TrimSpace(b)) == 0 {
		return rec, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&rec); err != nil {
		return nil, fmt.Errorf("stored entry is not a JSON object: %w", err)
	}
	if rec == nil {
		rec = map[string]any{}
	}
	return rec, nil
}

// readAggregate runs `lookup x = agg[entry]`.
func (r *run) readAggregate(ctx context.Context, n int, s *step) error {
	store, err := r.aggregates()
	if err != nil {
		return err
	}
	entry, err := r.entryKey(s)
	if err != nil {
		return err
	}
	val, ok, err := store.Aggregate(ctx, s.Aggregate, entry)
	if err != nil {
		return Transient(fmt.Errorf("read %s[%q]: %w", s.Aggregate, entry, err))
	}
	rec, err := decodeEntry(val)
	if err != nil {
		return &Error{Class: Dead, Err: fmt.Errorf("%s[%q]: %w", s.Aggregate, entry, err)}
	}
	r.vars[s.Name] = rec
	if ok {
		r.trace(n, s, "read %s[%q]", s.Aggregate, entry)
	} else {
		r.trace(n, s, "read %s[%q]: no entry yet, zero values", s.Aggregate, entry)
	}
	return nil
}

// eachChange runs a for's body once per entry of an aggregate an update
// changed at or after its since: the entry's fields, its key and
// updated_at.
func (r *run) eachChange(ctx context.Context, n int, s *step) error {
	store, err := r.aggregates()
	if err != nil {
		return err
	}
	lister, ok := store.(AggregateChanges)
	if !ok {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: this runtime cannot list the changes of aggregate %s", s.At, s.Aggregate)}
	}
	v, err := r.eval(s.since, s.Since.At)
	if err != nil {
		return err
	}
	since, ok := v.Value().(time.Time)
	if !ok {
		return &Error{Class: Dead, Err: fmt.Errorf("%s: since is %s, not a timestamp", s.Since.At, v.Type().TypeName())}
	}
	i := 0
	var bodyErr error // the body's failure, classified as it is
	err = lister.AggregateChanges(ctx, s.Aggregate, since, func(key string, value []byte, updated time.Time) error {
		i++
		rec, err := decodeEntry(value)
		if err != nil {
			bodyErr = &Error{Class: Dead, Err: fmt.Errorf("%s[%q]: %w", s.Aggregate, key, err)}
			return bodyErr
		}
		rec["key"] = key
		if s.agg != nil && s.agg.key == schema.IntType {
			rec["key"] = json.Number(key)
		}
		rec["updated_at"] = updated.UTC().Format(time.RFC3339Nano)
		if err := r.item(ctx, n, s, rec); err != nil {
			bodyErr = keyError(err, s.Name, key)
			return bodyErr
		}
		return nil
	})
	if bodyErr != nil {
		return bodyErr
	}
	if err != nil {
		return Transient(fmt.Errorf("changes of %s: %w", s.Aggregate, err))
	}
	delete(r.vars, s.Name)
	r.trace(n, s, "%d changed entr(ies) of %s since %s", i, s.Aggregate, since.UTC().Format(time.RFC3339))
	return nil
}
