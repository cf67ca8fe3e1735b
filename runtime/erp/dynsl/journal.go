package dynsl

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
)

// PostJournal posts j as one GL batch in one SQL transaction: the Batch
// (numbered from GLSetup.LastBatNbr, the key in its anchor column), every
// GLTran line, and the batch's totals, or nothing. Posting the same key
// again finds the batch by its anchor and writes nothing: since the batch
// and its lines commit together, a batch that exists is complete.
func (d *Driver) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	if j.HeaderEntity != "Batch" || j.LineEntity != "GLTran" || j.LinkField != "BatNbr" {
		return nil, nil, invalid("journal: SL posts Batch + GLTran linked by BatNbr; got %s + %s by %s", j.HeaderEntity, j.LineEntity, j.LinkField)
	}
	if j.Key == "" {
		return nil, nil, invalid("journal: the idempotency key is empty")
	}
	if len(j.Lines) == 0 {
		return nil, nil, invalid("journal %s has no lines", j.Key)
	}
	bt, lt := d.tables["Batch"], d.tables["GLTran"]
	header, err := d.fields(bt, j.Header)
	if err != nil {
		return nil, nil, err
	}
	lines := make([]erp.Record, len(j.Lines))
	for i, l := range j.Lines {
		if lines[i], err = d.fields(lt, l); err != nil {
			return nil, nil, err
		}
		delete(lines[i], "BatNbr")
		if _, ok := lines[i]["LineNbr"]; !ok {
			lines[i]["LineNbr"] = int64(i + 1)
		}
	}
	if err := balanced(lines); err != nil {
		return nil, nil, err
	}
	a := d.anchors["Batch"]
	c, _ := column(bt, a)
	header[a] = anchorValue(j.Key, c.Size)
	var outH erp.Record
	var outL []erp.Record
	err = d.inTx(ctx, "post journal "+j.Key, func(x *txn) error {
		if err := x.defaults(bt, header); err != nil {
			return err
		}
		old, found, err := x.existing(bt, header, j.Key)
		if err != nil {
			return err
		}
		if !found {
			// The period and date of the batch: the flow's, else the
			// first line's transaction date.
			if _, ok := header["DateEnt"]; !ok {
				if t, ok := lines[0]["TranDate"].(time.Time); ok {
					header["DateEnt"] = t
				}
			}
			if err := x.newBatch(header); err != nil {
				return err
			}
			x.stamp(header, true)
			if err := x.insert(bt, header); err != nil {
				return err
			}
			b, err := x.reread(bt, header)
			if err != nil {
				return err
			}
			for _, l := range lines {
				if err := x.addLine(b, l); err != nil {
					return err
				}
			}
			ok, err := x.glTotals(b)
			if err != nil {
				return err
			}
			if !ok { // balanced() let it through, so only conversion rounding can do this
				return invalid("journal %s does not balance in the base currency after conversion", j.Key)
			}
			old = b
		}
		if outH, err = x.reread(bt, old); err != nil {
			return err
		}
		outL, err = x.selectRows(lt, erp.Record{"Module": old["Module"], "BatNbr": old["BatNbr"]}, 0)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return outH, outL, nil
}

// balanced checks, before anything is written, that the lines' debits
// equal their credits (in the transaction currency, as the flow gave
// them).
func balanced(lines []erp.Record) error {
	var dr, cr decimal.Decimal
	for _, l := range lines {
		dr, cr = dr.Add(dec(l, "DrAmt")), cr.Add(dec(l, "CrAmt"))
	}
	if !dr.Equal(cr) {
		return invalid("journal does not balance: debits %s, credits %s, difference %s; nothing was posted", dr, cr, dr.Sub(cr))
	}
	return nil
}
