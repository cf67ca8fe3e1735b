package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/schema"
)

// sequences are the number sequences that fill omitted keys:
// "<Set>.<Field>" -> prefix; entity versions share one sequence.
var sequences = map[string]string{
	"LedgerJournalHeaders.JournalBatchNumber":          "GJ-",
	"CustomerPaymentJournalHeaders.JournalBatchNumber": "CPJ-",
	"SalesOrderHeadersV2.SalesOrderNumber":             "SO-",
	"SalesOrderHeadersV3.SalesOrderNumber":             "SO-",
	"SalesOrderHeadersV4.SalesOrderNumber":             "SO-",
	"ReturnOrderHeaders.ReturnOrderNumber":             "RMA-",
	"ReturnOrderHeadersV2.ReturnOrderNumber":           "RMA-",
	"SalesOrderLines.InventoryLotId":                   "LOT-",
	"SalesOrderLinesV3.InventoryLotId":                 "LOT-",
	"ReturnOrderLines.ReturnInventoryLotId":            "LOT-",
}

// create answers POST /data/<Set>.
func (s *Server) create(ctx context.Context, q querier, e *entity, c call) reply {
	rec, herr := e.decodeRecord(c.body)
	if herr == nil {
		herr = s.prepareCreate(ctx, q, e, rec)
	}
	if herr != nil {
		return herr.reply()
	}
	key, _ := e.keyOf(rec) // prepareCreate checked every key field is set
	if _, found, err := get(ctx, q, e.set, key); err != nil {
		return s.internal(err)
	} else if found {
		return writeFailed(e, "Cannot create a record in %s (%s). %s. The record already exists.", e.typ, e.tableName(), e.describeKey(rec)).reply()
	}
	company := ""
	if e.company {
		company = rec["dataAreaId"].(string)
	}
	recid, err := insert(ctx, q, e.set, company, key, e.encode(rec, false, nil))
	if err != nil {
		return s.internal(err)
	}
	if strings.Contains(c.header.Get("Prefer"), "return=minimal") {
		return reply{status: http.StatusNoContent, header: http.Header{
			"Location":           {c.root + "/" + e.set + "(" + e.keyPredicate(rec) + ")"},
			"Etag":               {etag(1, recid)},
			"Preference-Applied": {"return=minimal"},
		}}
	}
	return s.entityReply(http.StatusCreated, e, c, row{recid: recid, version: 1, data: e.encode(rec, false, nil)}, nil)
}

// prepareCreate defaults the company, fills keys from number sequences and
// runs validateWrite.
func (s *Server) prepareCreate(ctx context.Context, q querier, e *entity, rec record) *httpError {
	if e.company {
		company, _ := rec["dataAreaId"].(string)
		if company == "" {
			company = s.cfg.Company
		}
		rec["dataAreaId"] = strings.ToLower(company)
	}
	if err := s.assignNumbers(ctx, q, e, rec); err != nil {
		return statusError(http.StatusInternalServerError, "An error has occurred.")
	}
	if herr := e.checkWrite(rec, true); herr != nil {
		return herr
	}
	for _, f := range e.keys {
		if _, set := rec[f.Name]; !set {
			return writeFailed(e, "Field '%s' must be filled in.", f.Name)
		}
	}
	return s.checkParent(ctx, q, e, rec)
}

// assignNumbers fills omitted key fields the way F&O's number sequences do.
func (s *Server) assignNumbers(ctx context.Context, q querier, e *entity, rec record) error {
	for _, f := range e.keys {
		if _, set := rec[f.Name]; set || f.Name == "dataAreaId" {
			continue
		}
		switch prefix, numbered := sequences[e.set+"."+f.Name]; {
		case numbered:
			n, err := nextNumber(ctx, q, prefix)
			if err != nil {
				return err
			}
			rec[f.Name] = fmt.Sprintf("%s%06d", prefix, n)
		case f.Type.Kind == schema.Int:
			n, err := nextNumber(ctx, q, "RecId")
			if err != nil {
				return err
			}
			rec[f.Name] = n + recIDBase
		case f.Type.Kind == schema.Decimal && f.Name == "LineNumber":
			n, err := s.nextLine(ctx, q, e, rec, f)
			if err != nil {
				return err
			}
			rec[f.Name] = n
		}
	}
	return nil
}

// nextLine is one more than the highest line number among the records that
// share rec's other key values (the lines of one journal).
func (s *Server) nextLine(ctx context.Context, q querier, e *entity, rec record, line *schema.Field) (decimal.Decimal, error) {
	company, _ := rec["dataAreaId"].(string)
	rows, err := scan(ctx, q, e.set, company, !e.company)
	if err != nil {
		return decimal.Decimal{}, err
	}
	last := decimal.Zero
	for _, r := range rows {
		other, herr := e.decodeRecord(r.data)
		if herr != nil {
			return decimal.Decimal{}, herr
		}
		same := true
		for _, f := range e.keys {
			if f != line && canonical(value(other, f)) != canonical(value(rec, f)) {
				same = false
			}
		}
		if n, ok := other[line.Name].(decimal.Decimal); same && ok && n.GreaterThan(last) {
			last = n
		}
	}
	return last.Add(decimal.NewFromInt(1)).Floor(), nil
}

// checkParent fails a line whose header does not exist.
func (s *Server) checkParent(ctx context.Context, q querier, e *entity, rec record) *httpError {
	p := e.parent
	if p == nil {
		return nil
	}
	v, ok := rec[p.field]
	if !ok {
		return nil // a required link is reported by checkWrite
	}
	hdr := record{p.headerField: v}
	if p.header.company {
		hdr["dataAreaId"] = rec["dataAreaId"]
	}
	key, ok := p.header.keyOf(hdr)
	if !ok {
		return nil // the header has more key fields than the line names
	}
	_, found, err := get(ctx, q, p.header.set, key)
	if err != nil {
		return statusError(http.StatusInternalServerError, "An error has occurred.")
	}
	if !found {
		return writeFailed(e, "The value '%v' in field '%s' is not found in the relating table '%s'.", v, p.field, p.header.tableName())
	}
	return nil
}

// describeKey renders a record's key as F&O's duplicate message does.
func (e *entity) describeKey(rec record) string {
	parts := make([]string, 0, len(e.keys))
	for _, f := range e.keys {
		parts = append(parts, fmt.Sprintf("%s: %v", f.Name, wireValue(value(rec, f))))
	}
	return strings.Join(parts, ", ")
}

// update answers PATCH (or PUT) /data/<Set>(key).
func (s *Server) update(ctx context.Context, q querier, e *entity, c call, pred string) reply {
	r, old, herr := s.find(ctx, q, e, pred)
	if herr != nil {
		return herr.reply()
	}
	if m := c.header.Get("If-Match"); m != "" && m != "*" && m != etag(r.version, r.recid) {
		return statusError(http.StatusPreconditionFailed, "The ETag value in the request header does not match with the current ETag value of the object.").reply()
	}
	patch, herr := e.decodeRecord(c.body)
	if herr != nil {
		return herr.reply()
	}
	for _, f := range e.keys {
		if v, set := patch[f.Name]; set && canonical(v) != canonical(old[f.Name]) {
			return badRequest("The key property '%s' cannot be changed: the request names %v, the URL %v.", f.Name, wireValue(v), wireValue(old[f.Name])).reply()
		}
	}
	if herr := e.checkWrite(patch, false); herr != nil {
		return herr.reply()
	}
	for k, v := range patch {
		old[k] = v
	}
	if herr := s.checkParent(ctx, q, e, old); herr != nil {
		return herr.reply()
	}
	if err := update(ctx, q, r.recid, e.encode(old, false, nil)); err != nil {
		return s.internal(err)
	}
	r.version++
	if strings.Contains(c.header.Get("Prefer"), "return=representation") {
		r.data = e.encode(old, false, nil)
		rep := s.entityReply(http.StatusOK, e, c, r, nil)
		rep.header.Set("Preference-Applied", "return=representation")
		return rep
	}
	return reply{status: http.StatusNoContent, header: http.Header{"Etag": {etag(r.version, r.recid)}}}
}

// delete answers DELETE /data/<Set>(key).
func (s *Server) delete(ctx context.Context, q querier, e *entity, c call, pred string) reply {
	r, _, herr := s.find(ctx, q, e, pred)
	if herr != nil {
		return herr.reply()
	}
	if m := c.header.Get("If-Match"); m != "" && m != "*" && m != etag(r.version, r.recid) {
		return statusError(http.StatusPreconditionFailed, "The ETag value in the request header does not match with the current ETag value of the object.").reply()
	}
	if err := remove(ctx, q, r.recid); err != nil {
		return s.internal(err)
	}
	return reply{status: http.StatusNoContent}
}
