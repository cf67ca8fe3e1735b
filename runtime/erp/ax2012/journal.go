package ax2012

import (
	"context"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
)

// PostJournal creates the journal as one document, the header with every
// line nested in it, in a single create call: AIF processes a document in
// one transaction, so the journal lands whole or not at all. The header's
// anchor field (Name) holds j.Key, and the MessageId derives from it, so
// an attempt after a lost answer or a crash first finds the journal an
// earlier attempt created and returns it instead of posting again. Lines
// without a LineNum are numbered 1, 2, ... in order.
func (d *Driver) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	ht, lt, err := d.journalTables(j)
	if err != nil {
		return nil, nil, err
	}
	if h, lines, found, err := d.findJournal(ctx, ht, lt, j.Key); err != nil || found {
		return h, lines, err
	}
	header := copyRecord(j.Header)
	delete(header, ht.Key) // AX numbers the journal
	if err := d.anchor(ht, erp.Write{Op: erp.Create, Entity: ht.Name, Key: j.Key}, header); err != nil {
		return nil, nil, err
	}
	htexts, err := encodeFields(ht, header)
	if err != nil {
		return nil, nil, permanent("journal header: %v", err)
	}
	e := &aif.Entity{Fields: htexts, Children: map[string][]*aif.Entity{}}
	for i, l := range j.Lines {
		line := copyRecord(l)
		delete(line, lt.Link)
		if line[lt.Key] == nil {
			line[lt.Key] = decimal.NewFromInt(int64(i + 1))
		}
		texts, err := encodeFields(lt, line)
		if err != nil {
			return nil, nil, permanent("journal line %d: %v", i+1, err)
		}
		e.Children[lt.Name] = append(e.Children[lt.Name], &aif.Entity{Fields: texts})
	}
	num, err := d.createDoc(ctx, ht, j.Key, e)
	if isDuplicate(err) {
		h, lines, found, ferr := d.findJournal(ctx, ht, lt, j.Key)
		if ferr != nil || found {
			return h, lines, ferr
		}
		return nil, nil, &erp.Error{Kind: erp.Permanent, Code: duplicateCode, Err: err,
			Message: fmt.Sprintf("ax2012: journal %q: AX has processed its message before, but no %s holds the key", j.Key, ht.Name)}
	}
	if err != nil {
		return nil, nil, err
	}
	dc, found, err := d.read(ctx, ht, num)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("ax2012: journal %s was created but cannot be read yet", num)}
	}
	return dc.rec, sortedLines(dc.children[lt.Name], lt.Key), nil
}

func (d *Driver) journalTables(j erp.Journal) (header, line *ax2012.Table, err error) {
	if j.HeaderEntity == "" || j.Key == "" {
		return nil, nil, permanent("journal: AX journals need a header entity and a key")
	}
	if header, err = d.table(j.HeaderEntity); err != nil {
		return nil, nil, err
	}
	if line, err = d.table(j.LineEntity); err != nil {
		return nil, nil, err
	}
	if line.Parent != header.Name {
		return nil, nil, permanent("journal: %s is not a line of %s", line.Name, header.Name)
	}
	if j.LinkField != "" && j.LinkField != line.Link {
		return nil, nil, permanent("journal: %s lines link by %s, not %s", line.Name, line.Link, j.LinkField)
	}
	return header, line, nil
}

// findJournal returns the journal an earlier attempt posted with key.
func (d *Driver) findJournal(ctx context.Context, ht, lt *ax2012.Table, key string) (erp.Record, []erp.Record, bool, error) {
	h, found, err := d.findAnchored(ctx, ht, key)
	if err != nil || !found {
		return nil, nil, false, err
	}
	num, _ := h[ht.Key].(string)
	dc, found, err := d.read(ctx, ht, num)
	if err != nil || !found {
		return nil, nil, false, err
	}
	return dc.rec, sortedLines(dc.children[lt.Name], lt.Key), true, nil
}

func sortedLines(lines []erp.Record, key string) []erp.Record {
	sort.SliceStable(lines, func(a, b int) bool {
		x, _ := lines[a][key].(decimal.Decimal)
		y, _ := lines[b][key].(decimal.Decimal)
		return x.LessThan(y)
	})
	return lines
}
