package ax2012

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
)

// Write performs w. On a root table (CustTable, SalesTable,
// LedgerJournalTable) Create sends the document's create, Update reads the
// record (for its _DocumentHash) and sends a partial update, and Upsert
// does one or the other after looking the record up by its key or anchor.
// A child line (SalesLine) can only be created: it is added to its parent
// document with a partial update whose line carries action="create". The
// answer is the record as AX holds it, read back after the write.
func (d *Driver) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	t, err := d.table(w.Entity)
	if err != nil {
		return nil, err
	}
	if t.Parent != "" {
		if w.Op != erp.Create {
			return nil, permanent("%s: only create is supported for %s lines (got %s)", t.Name, t.Parent, w.Op)
		}
		return d.createLine(ctx, t, w)
	}
	key, hasKey := keyOf(t, w.Fields)
	switch w.Op {
	case erp.Create:
		return d.create(ctx, t, w)
	case erp.Update:
		if !hasKey {
			return nil, permanent("%s: an update must set the key field %s", t.Name, t.Key)
		}
		return d.update(ctx, t, w, key)
	case erp.Upsert:
		var existing erp.Record
		var found bool
		if hasKey {
			existing, found, err = d.Lookup(ctx, t.Name, erp.Record{t.Key: key})
		} else {
			existing, found, err = d.findAnchored(ctx, t, w.Key)
		}
		if err != nil {
			return nil, err
		}
		if !found {
			return d.create(ctx, t, w)
		}
		k, _ := existing[t.Key].(string)
		return d.update(ctx, t, w, k)
	}
	return nil, permanent("%s: unknown write op %q", t.Name, w.Op)
}

// keyOf returns the key field's value when fields set it.
func keyOf(t *ax2012.Table, fields erp.Record) (string, bool) {
	s, ok := fields[t.Key].(string)
	return s, ok && s != ""
}

// messageID is the CallContext MessageId of an operation for an
// idempotency key: the same on every attempt, so AIF's duplicate message
// check turns a retry into a no-op. Without a key it is random.
func (d *Driver) messageID(service, op, key string) string {
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand does not fail
		return aif.MessageID(hex.EncodeToString(b[:]))
	}
	return aif.MessageID(d.cfg.Company + "\x00" + service + "/" + op + "\x00" + key)
}

func isDuplicate(err error) bool {
	var e *erp.Error
	return errors.As(err, &e) && e.Code == duplicateCode
}

// anchor writes w.Key into the table's anchor field, unless the write sets
// the key itself. A write that sets neither, on a table without an anchor,
// could not be settled after a crash and is refused.
func (d *Driver) anchor(t *ax2012.Table, w erp.Write, fields erp.Record) error {
	if w.Key == "" {
		return nil
	}
	_, natural := keyOf(t, fields)
	if t.Anchor == "" {
		if natural {
			return nil
		}
		return permanent("%s: the write sets no %s and the table has no field for the idempotency key; set %s", t.Name, t.Key, t.Key)
	}
	f, _ := t.Field(t.Anchor)
	v := anchorValue(f, w.Key)
	if cur, set := fields[t.Anchor]; set && cur != v {
		if natural {
			return nil // the flow's own value stays; the key identifies the record
		}
		return permanent("%s: field %s holds the idempotency key and cannot be set by the flow (%v)", t.Name, t.Anchor, cur)
	}
	fields[t.Anchor] = v
	return nil
}

// create sends a document with one root record and reads it back.
func (d *Driver) create(ctx context.Context, t *ax2012.Table, w erp.Write) (erp.Record, error) {
	fields := copyRecord(w.Fields)
	if err := d.anchor(t, w, fields); err != nil {
		return nil, err
	}
	texts, err := encodeFields(t, fields)
	if err != nil {
		return nil, permanent("%v", err)
	}
	key, err := d.createDoc(ctx, t, w.Key, &aif.Entity{Fields: texts})
	if isDuplicate(err) {
		return d.settleDuplicate(ctx, t, w, err)
	}
	if err != nil {
		return nil, err
	}
	dc, found, err := d.read(ctx, t, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("ax2012: %s %s was created but cannot be read yet", t.Name, key)}
	}
	return dc.rec, nil
}

// createDoc sends create and returns the root key from the EntityKeyList.
func (d *Driver) createDoc(ctx context.Context, t *ax2012.Table, idemKey string, e *aif.Entity) (string, error) {
	svc := d.service(t.Service)
	c := call{service: svc, op: "create", writes: true, messageID: d.messageID(svc, "create", idemKey), body: func(w *aif.Writer) {
		w.Start(ax2012.ServicesNS, aif.Wrapper(svc, "create", "Request"))
		aif.WriteDocument(w, t, []*aif.Entity{e})
		w.End(aif.Wrapper(svc, "create", "Request"))
	}}
	body, err := d.do(ctx, c)
	if err != nil {
		return "", err
	}
	keys, err := aif.ReadEntityKeyList(body)
	if err != nil {
		return "", protocol(c, 200, "%v", err)
	}
	if len(keys) != 1 {
		return "", protocol(c, 200, "want one EntityKey, got %d", len(keys))
	}
	for _, f := range keys[0] {
		if f.Field == t.Key && f.Value != "" {
			return f.Value, nil
		}
	}
	return "", protocol(c, 200, "the EntityKey has no %s", t.Key)
}

// settleDuplicate answers a create AX rejected as a message it has
// already processed: the record an earlier attempt created is found by
// its key or anchor.
func (d *Driver) settleDuplicate(ctx context.Context, t *ax2012.Table, w erp.Write, dup error) (erp.Record, error) {
	rec, found, err := d.Find(ctx, w)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &erp.Error{Kind: erp.Permanent, Code: duplicateCode,
			Message: fmt.Sprintf("ax2012: %s: AX has processed this write's message before, but no %s holds its key %q", t.Name, t.Name, w.Key), Err: dup}
	}
	return rec, nil
}

// update reads the record for its _DocumentHash and sends the fields as a
// partial update (action="update").
func (d *Driver) update(ctx context.Context, t *ax2012.Table, w erp.Write, key string) (erp.Record, error) {
	if !t.Updatable {
		return nil, permanent("%s: %s cannot update documents", t.Name, t.Service)
	}
	fields := copyRecord(w.Fields)
	fields[t.Key] = key
	texts, err := encodeFields(t, fields)
	if err != nil {
		return nil, permanent("%v", err)
	}
	dc, found, err := d.read(ctx, t, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, permanent("%s: no record %s to update", t.Name, key)
	}
	err = d.updateDoc(ctx, t, key, w.Key, &aif.Entity{Fields: texts, Hash: dc.hash, Action: "update"})
	if err != nil && !isDuplicate(err) { // a duplicate was applied before
		return nil, err
	}
	dc, found, err = d.read(ctx, t, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, permanent("%s: %s is gone after its update", t.Name, key)
	}
	return dc.rec, nil
}

func (d *Driver) updateDoc(ctx context.Context, t *ax2012.Table, key, idemKey string, e *aif.Entity) error {
	svc := d.service(t.Service)
	c := call{service: svc, op: "update", writes: true, messageID: d.messageID(svc, "update", idemKey), body: func(w *aif.Writer) {
		w.Start(ax2012.ServicesNS, aif.Wrapper(svc, "update", "Request"))
		aif.WriteEntityKeyList(w, [][]aif.KeyField{{{Field: t.Key, Value: key}}})
		aif.WriteDocument(w, t, []*aif.Entity{e})
		w.End(aif.Wrapper(svc, "update", "Request"))
	}}
	_, err := d.do(ctx, c)
	return err
}

// createLine adds a line to its parent document. A line whose key
// (LineNum) the parent already has is the record an earlier attempt
// created, and is returned as it is.
func (d *Driver) createLine(ctx context.Context, t *ax2012.Table, w erp.Write) (erp.Record, error) {
	root := d.tables[t.Parent]
	if !root.Updatable {
		return nil, permanent("%s: %s lines cannot be added to an existing %s; post them with their header as a journal", t.Name, root.Name, root.Document)
	}
	parent, ok := w.Fields[t.Link].(string)
	if !ok || parent == "" {
		return nil, permanent("%s: the line must set %s, its %s", t.Name, t.Link, root.Name)
	}
	if _, numbered := w.Fields[t.Key]; !numbered && w.Key != "" {
		// AIF answers a repeated message with a duplicate fault, not the
		// line: without its number, a retry after a lost answer could not
		// tell which line is this write's.
		return nil, permanent("%s: set %s, so that a retry after a lost answer finds the line again", t.Name, t.Key)
	}
	fields := copyRecord(w.Fields)
	delete(fields, t.Link) // the line is nested in its parent
	texts, err := encodeFields(t, fields)
	if err != nil {
		return nil, permanent("%v", err)
	}
	dc, found, err := d.read(ctx, root, parent)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, permanent("%s: no %s %s to add the line to", t.Name, root.Name, parent)
	}
	lineKey, numbered := w.Fields[t.Key]
	if numbered {
		if l := lineWith(dc.children[t.Name], t.Key, lineKey); l != nil {
			return l, nil
		}
	}
	before := len(dc.children[t.Name])
	e := &aif.Entity{Fields: map[string]string{root.Key: parent}, Hash: dc.hash, Action: "update",
		Children: map[string][]*aif.Entity{t.Name: {{Fields: texts, Action: "create"}}}}
	err = d.updateDoc(ctx, root, parent, w.Key, e)
	if err != nil && !isDuplicate(err) {
		return nil, err
	}
	dc, found, err = d.read(ctx, root, parent)
	if err != nil {
		return nil, err
	}
	lines := dc.children[t.Name]
	switch {
	case !found:
	case numbered:
		if l := lineWith(lines, t.Key, lineKey); l != nil {
			return l, nil
		}
	case len(lines) > before:
		return lines[len(lines)-1], nil
	}
	return nil, &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("ax2012: %s: the line added to %s %s cannot be read yet", t.Name, root.Name, parent)}
}

func lineWith(lines []erp.Record, field string, v any) erp.Record {
	for _, l := range lines {
		if sameValue(l[field], v) {
			return l
		}
	}
	return nil
}

// Find returns the record an earlier attempt of w wrote: a root record by
// the key w sets or else by the anchor holding w.Key; a line by its parent
// and its line key.
func (d *Driver) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	t, err := d.table(w.Entity)
	if err != nil {
		return nil, false, err
	}
	if t.Parent != "" {
		parent, ok := w.Fields[t.Link].(string)
		lineKey, numbered := w.Fields[t.Key]
		if !ok || parent == "" || !numbered {
			return nil, false, nil
		}
		dc, found, err := d.read(ctx, d.tables[t.Parent], parent)
		if err != nil || !found {
			return nil, false, err
		}
		l := lineWith(dc.children[t.Name], t.Key, lineKey)
		return l, l != nil, nil
	}
	if key, ok := keyOf(t, w.Fields); ok {
		return d.Lookup(ctx, t.Name, erp.Record{t.Key: key})
	}
	return d.findAnchored(ctx, t, w.Key)
}

// findAnchored looks a key up by the table's anchor field.
func (d *Driver) findAnchored(ctx context.Context, t *ax2012.Table, key string) (erp.Record, bool, error) {
	if t.Anchor == "" || key == "" {
		return nil, false, nil
	}
	f, _ := t.Field(t.Anchor)
	return d.Lookup(ctx, t.Name, erp.Record{t.Anchor: anchorValue(f, key)})
}

func copyRecord(r erp.Record) erp.Record {
	out := make(erp.Record, len(r)+1)
	for k, v := range r {
		out[k] = v
	}
	return out
}
