package d365fo

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/schema"
)

// PostJournal creates the header (anchored with j.Key), reads the journal
// batch number F&O assigned, and posts every line in one changeset of a
// $batch, so that the lines land all or none. When a header with this key
// exists already (an earlier attempt whose lines failed or whose answer was
// lost), it is reused and only the lines it lacks are posted. Lines without
// a LineNumber are numbered 1, 2, ... in order, which is what lets a retry
// tell posted lines from missing ones.
func (d *Driver) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	hobj, lobj, err := d.journalSchema(j)
	if err != nil {
		return nil, nil, err
	}
	header, found, err := d.findAnchored(ctx, j.HeaderEntity, j.Key)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		header, err = d.create(ctx, erp.Write{Op: erp.Create, Entity: j.HeaderEntity, Key: j.Key, Fields: j.Header}, hobj, d.withCompany(hobj, j.Header))
		if err != nil {
			return nil, nil, err
		}
	}
	number, ok := header[j.LinkField].(string)
	if !ok || number == "" {
		return nil, nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: %s: the header has no %s", j.HeaderEntity, j.LinkField)}
	}
	lines := make([]erp.Record, len(j.Lines))
	for i, l := range j.Lines {
		lines[i] = d.withCompany(lobj, l)
		lines[i][j.LinkField] = number
		if company, ok := header["dataAreaId"]; ok && hasCompany(lobj) {
			lines[i]["dataAreaId"] = company
		}
		if _, ok := lobj.Field("LineNumber"); ok && lines[i]["LineNumber"] == nil {
			lines[i]["LineNumber"] = decimal.NewFromInt(int64(i + 1))
		}
	}
	var posted []erp.Record
	if found {
		if posted, err = d.query(ctx, j.LineEntity, lobj, erp.Record{j.LinkField: number}, nil, 0); err != nil {
			return nil, nil, err
		}
		lines = missing(lines, posted)
	}
	if len(lines) > 0 {
		added, err := d.postLines(ctx, j.LineEntity, lobj, lines)
		if err != nil {
			return nil, nil, err
		}
		posted = append(posted, added...)
	}
	sortLines(posted)
	return header, posted, nil
}

func (d *Driver) journalSchema(j erp.Journal) (header, line *schema.Object, err error) {
	bad := func(format string, args ...any) error {
		return &erp.Error{Kind: erp.Permanent, Message: "d365fo: journal: " + fmt.Sprintf(format, args...)}
	}
	if j.HeaderEntity == "" {
		return nil, nil, bad("F&O journals need a header entity")
	}
	if j.LinkField == "" || j.Key == "" {
		return nil, nil, bad("a journal needs a LinkField and a Key")
	}
	if header, err = d.entity(j.HeaderEntity); err != nil {
		return nil, nil, err
	}
	if line, err = d.entity(j.LineEntity); err != nil {
		return nil, nil, err
	}
	for _, o := range []*schema.Object{header, line} {
		if _, ok := o.Field(j.LinkField); !ok {
			return nil, nil, bad("%s has no link field %s", o.ShortName(), j.LinkField)
		}
	}
	return header, line, nil
}

// missing returns the lines whose LineNumber is not among posted.
func missing(lines, posted []erp.Record) []erp.Record {
	have := map[string]bool{}
	for _, p := range posted {
		if n, ok := p["LineNumber"].(decimal.Decimal); ok {
			have[n.String()] = true
		}
	}
	var out []erp.Record
	for _, l := range lines {
		n, numbered := l["LineNumber"].(decimal.Decimal)
		if numbered && have[n.String()] || !numbered && len(posted) > 0 {
			continue // without line numbers, posted lines mean the changeset landed
		}
		out = append(out, l)
	}
	return out
}

func sortLines(lines []erp.Record) {
	sort.SliceStable(lines, func(a, b int) bool {
		x, _ := lines[a]["LineNumber"].(decimal.Decimal)
		y, _ := lines[b]["LineNumber"].(decimal.Decimal)
		return x.LessThan(y)
	})
}

// postLines POSTs lines in one changeset and returns them as stored.
func (d *Driver) postLines(ctx context.Context, entity string, obj *schema.Object, lines []erp.Record) ([]erp.Record, error) {
	what := "POST $batch " + entity
	cs := odata.Part{Changeset: true}
	for i, l := range lines {
		body, err := encodeBody(obj, l)
		if err != nil {
			return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: %s: line %d: %v", what, i+1, err)}
		}
		cs.Requests = append(cs.Requests, odata.Request{
			ContentID: strconv.Itoa(i + 1),
			Method:    http.MethodPost,
			URL:       entity,
			Header:    jsonHeader(),
			Body:      body,
		})
	}
	boundary := odata.Boundary("batch")
	var b bytes.Buffer
	if err := odata.WriteRequest(&b, boundary, []odata.Part{cs}); err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: %s: %v", what, err)}
	}
	a, err := d.send(ctx, http.MethodPost, d.service+"/$batch", http.Header{"Content-Type": {odata.ContentType(boundary)}}, b.Bytes())
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, d.failure(what, a)
	}
	resps, err := readBatchAnswer(a)
	if err != nil {
		return nil, protocol(what, a, "%v", err)
	}
	return d.batchResults(what, obj, lines, resps)
}

// readBatchAnswer parses a $batch answer into its operation answers in order.
func readBatchAnswer(a answer) ([]odata.Response, error) {
	parts, err := odata.ReadResponse(a.header.Get("Content-Type"), bytes.NewReader(a.body))
	if err != nil {
		return nil, err
	}
	var out []odata.Response
	for _, p := range parts {
		out = append(out, p.Responses...)
	}
	return out, nil
}

// batchResults checks that every line got an answer, maps the first
// failure (the cause, not the 424s of the operations it took down) to an
// error, and decodes the created lines.
func (d *Driver) batchResults(what string, obj *schema.Object, lines []erp.Record, resps []odata.Response) ([]erp.Record, error) {
	answers := make([]odata.Response, len(lines))
	byID := make(map[string]odata.Response, len(resps))
	for _, r := range resps {
		byID[r.ContentID] = r
	}
	for i := range lines {
		r, ok := byID[strconv.Itoa(i+1)]
		switch {
		case ok:
		case len(resps) == 1 && resps[0].Status >= 400: // one answer for the whole failed changeset
			r = resps[0]
		case len(resps) == len(lines) && resps[i].ContentID == "": // no Content-IDs: answers in order
			r = resps[i]
		default:
			return nil, protocol(what, answer{status: http.StatusOK}, "no answer for line %d (%d answers for %d lines)", i+1, len(resps), len(lines))
		}
		answers[i] = r
	}
	if r, failed := firstFailure(answers); failed {
		return nil, d.failure(fmt.Sprintf("%s (operation %s)", what, r.ContentID), answer{status: r.Status, header: r.Header, body: r.Body})
	}
	out := make([]erp.Record, len(lines))
	for i, r := range answers {
		if r.Status == http.StatusNoContent || len(bytes.TrimSpace(r.Body)) == 0 {
			out[i] = lines[i]
			continue
		}
		rec, err := decodeRecord(obj, r.Body)
		if err != nil {
			return nil, protocol(what, answer{status: r.Status}, "line %d: %v", i+1, err)
		}
		out[i] = rec
	}
	return out, nil
}

// firstFailure returns the first failed answer that is a cause, not a 424
// for an operation that another one's failure took down.
func firstFailure(answers []odata.Response) (odata.Response, bool) {
	var dependent *odata.Response
	for i, r := range answers {
		switch {
		case r.Status < 400:
		case r.Status != http.StatusFailedDependency:
			return r, true
		case dependent == nil:
			dependent = &answers[i]
		}
	}
	if dependent != nil {
		return *dependent, true
	}
	return odata.Response{}, false
}
