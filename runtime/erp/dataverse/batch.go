package dataverse

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
)

// MaxChangeset is the most operations Dataverse takes in one $batch.
const MaxChangeset = 1000

// WriteChangeset writes ws atomically: one $batch whose one changeset
// holds a PATCH per write, each addressed by its primary or alternate key
// (upserts without a precondition, creates with If-None-Match: *, updates
// with If-Match: *, as an update inside a changeset cannot read the ETag
// first). Either every write lands or none does; the rows come back in
// the order of ws. Run again after a failure, it is idempotent per row.
func (d *Driver) WriteChangeset(ctx context.Context, ws []erp.Write) ([]erp.Record, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	if len(ws) > MaxChangeset {
		return nil, permanent("a changeset holds at most %d operations, not %d", MaxChangeset, len(ws))
	}
	tables := make([]table, len(ws))
	reqs := make([]odata.Request, len(ws))
	for i, w := range ws {
		t, err := d.table(w.Entity)
		if err != nil {
			return nil, err
		}
		addr, named, err := d.addressOf(t, w.Fields)
		if err != nil {
			return nil, err
		}
		if !named {
			return nil, permanent("changeset operation %d (%s %s): the write sets neither the primary key nor an alternate key", i+1, w.Op, t.set)
		}
		body, err := d.encodeBody(t, w.Fields, addr.cols)
		if err != nil {
			return nil, permanent("changeset operation %d: %v", i+1, err)
		}
		h := writeHeader()
		switch w.Op {
		case erp.Create:
			h.Set("If-None-Match", "*")
		case erp.Update:
			h.Set("If-Match", "*")
		case erp.Upsert:
		default:
			return nil, permanent("unknown write op %q", w.Op)
		}
		tables[i] = t
		reqs[i] = odata.Request{ContentID: strconv.Itoa(i + 1), Method: http.MethodPatch, URL: d.service + "/" + addr.path, Header: h, Body: body}
	}
	boundary := odata.Boundary("batch")
	var buf bytes.Buffer
	if err := odata.WriteRequest(&buf, boundary, []odata.Part{{Changeset: true, Requests: reqs}}); err != nil {
		return nil, permanent("$batch: %v", err)
	}
	h := http.Header{"Content-Type": {odata.ContentType(boundary)}}
	a, err := d.send(ctx, http.MethodPost, d.service+"/$batch", h, buf.Bytes())
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("POST $batch (%d operations)", len(ws))
	if a.status != http.StatusOK {
		return nil, d.failure(what, a)
	}
	parts, err := odata.ReadResponse(a.header.Get("Content-Type"), bytes.NewReader(a.body))
	if err != nil {
		return nil, protocol(what, a, "%v", err)
	}
	var answers []odata.Response
	for _, p := range parts {
		answers = append(answers, p.Responses...)
	}
	// A failed changeset is answered by the failure alone.
	for _, r := range answers {
		if r.Status >= 300 {
			return nil, d.failure(what+" operation "+cmpOr(r.ContentID, "?"), answer{status: r.Status, header: r.Header, body: r.Body})
		}
	}
	if len(answers) != len(ws) {
		return nil, protocol(what, a, "%d answers for %d operations", len(answers), len(ws))
	}
	byID := map[string]odata.Response{}
	for _, r := range answers {
		byID[r.ContentID] = r
	}
	out := make([]erp.Record, len(ws))
	for i := range ws {
		r, ok := byID[strconv.Itoa(i+1)]
		if !ok {
			r = answers[i] // Content-ID is optional in answers: fall back to order
		}
		if len(bytes.TrimSpace(r.Body)) == 0 {
			return nil, protocol(what, a, "operation %d answered %d without the row", i+1, r.Status)
		}
		rec, _, err := d.decodeRecord(tables[i], r.Body)
		if err != nil {
			return nil, protocol(what, a, "operation %d: %v", i+1, err)
		}
		out[i] = rec
	}
	return out, nil
}
