package bc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/schema"
)

// MaxBatch is how many operations Business Central takes in one $batch.
const MaxBatch = 100

// JournalCode is the journal batch code (Code[10]) of a journal key:
// "FL" and 8 hex digits of its SHA-256, the same on every attempt.
func JournalCode(key string) string {
	sum := sha256.Sum256([]byte("journal:" + key))
	return "FL" + strings.ToUpper(hex.EncodeToString(sum[:4]))
}

// DocumentNumber is the document number (Code[20]) of a journal key's
// lines: "FL" and 16 hex digits of its SHA-256. The G/L entries that
// posting produces keep it, which is how a journal whose lines BC deleted
// on posting is known to be posted.
func DocumentNumber(key string) string {
	sum := sha256.Sum256([]byte("document:" + key))
	return "FL" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// PostJournal posts j as a Business Central general journal, idempotently
// per j.Key, whatever point an earlier attempt reached:
//
//  1. generalLedgerEntries with the journal's document number exist: it
//     was posted (BC deleted its lines); they are returned as the lines.
//  2. The journal batch whose code JournalCode(j.Key) names is found or
//     created (displayName: the key, unless the header sets one).
//  3. The lines it lacks (by lineNumber) are created in JSON $batch
//     requests with Isolation: snapshot, at most MaxBatch at a time, each
//     line with the document number and the key in externalDocumentNumber
//     unless the flow set them.
//  4. journals({id})/Microsoft.NAV.post posts them.
func (d *Driver) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	if j.Key == "" || j.HeaderEntity != "journals" || j.LineEntity != "journalLines" {
		return nil, nil, permanent("journal: want a key, header journals and lines journalLines (got %q, %q)", j.HeaderEntity, j.LineEntity)
	}
	if len(j.Lines) == 0 {
		return nil, nil, permanent("journal %s: no lines", j.Key)
	}
	hobj, err := d.entity(j.HeaderEntity)
	if err != nil {
		return nil, nil, err
	}
	lobj, err := d.entity(j.LineEntity)
	if err != nil {
		return nil, nil, err
	}
	code := JournalCode(j.Key)
	doc := DocumentNumber(j.Key)
	lines := make([]erp.Record, len(j.Lines))
	for i, l := range j.Lines {
		lines[i] = erp.Record{}
		for k, v := range l {
			lines[i][k] = v
		}
		if v, _ := l["documentNumber"].(string); v != "" && i == 0 {
			doc = v // the flow's own document number settles the journal
		}
	}
	ext := anchorValue(lobj, "externalDocumentNumber", j.Key)
	for i, l := range lines {
		if v, _ := l["documentNumber"].(string); v == "" {
			l["documentNumber"] = doc
		} else if v != doc {
			return nil, nil, permanent("journal %s: line %d has document number %q, line 1 %q: one journal is one document", j.Key, i+1, v, doc)
		}
		if _, set := l["externalDocumentNumber"]; !set {
			l["externalDocumentNumber"] = ext
		}
		if l["lineNumber"] == nil {
			l["lineNumber"] = int64(i + 1)
		}
		if _, set := l["accountType"]; !set {
			l["accountType"] = "G/L Account"
		}
	}

	// 1. Posted already?
	entries, err := d.query(ctx, "generalLedgerEntries", erp.Record{"documentNumber": doc}, 0)
	if err != nil {
		return nil, nil, err
	}
	header, found, err := d.journal(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	if len(entries) > 0 {
		if !found {
			header = stored{rec: erp.Record{"code": code, "displayName": j.Key}}
		}
		out := make([]erp.Record, len(entries))
		for i, e := range entries {
			out[i] = e.rec
		}
		return header.rec, out, nil
	}
	// 2. The batch.
	if !found {
		fields := erp.Record{}
		for k, v := range j.Header {
			fields[k] = v
		}
		fields["code"] = code
		if _, set := fields["displayName"]; !set {
			fields["displayName"] = truncate(j.Key, 100)
		}
		rec, err := d.create(ctx, erp.Write{Op: erp.Create, Entity: j.HeaderEntity, Fields: fields}, hobj, fields)
		if err != nil {
			// A create that landed while its answer was lost, or a
			// concurrent one: the batch is there now.
			if again, ok, lerr := d.journal(ctx, code); lerr == nil && ok {
				rec, err = again.rec, nil
			}
		}
		if err != nil {
			return nil, nil, err
		}
		header = stored{rec: rec}
	}
	jid, _ := header.rec["id"].(string)
	if !guidPattern.MatchString(jid) {
		return nil, nil, permanent("journal %s: batch %s has no id", j.Key, code)
	}
	for _, l := range lines {
		l["journalId"] = jid
	}
	// 3. The lines it lacks.
	have, err := d.query(ctx, j.LineEntity, erp.Record{"journalId": jid}, 0)
	if err != nil {
		return nil, nil, err
	}
	present := map[int64]erp.Record{}
	for _, h := range have {
		if n, ok := h.rec["lineNumber"].(int64); ok {
			present[n] = h.rec
		}
	}
	var todo []erp.Record
	for _, l := range lines {
		if n, _ := l["lineNumber"].(int64); present[n] == nil {
			todo = append(todo, l)
		}
	}
	for start := 0; start < len(todo); start += MaxBatch {
		chunk := todo[start:min(start+MaxBatch, len(todo))]
		added, err := d.postLines(ctx, jid, lobj, chunk)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range added {
			if n, ok := a["lineNumber"].(int64); ok {
				present[n] = a
			}
		}
	}
	posted := make([]erp.Record, 0, len(lines))
	for _, l := range lines {
		n, _ := l["lineNumber"].(int64)
		if p := present[n]; p != nil {
			posted = append(posted, p)
		} else {
			posted = append(posted, l)
		}
	}
	sort.SliceStable(posted, func(a, b int) bool {
		x, _ := posted[a]["lineNumber"].(int64)
		y, _ := posted[b]["lineNumber"].(int64)
		return x < y
	})
	// 4. Post.
	company, err := d.company(ctx)
	if err != nil {
		return nil, nil, err
	}
	what := "POST journals/Microsoft.NAV.post"
	a, err := d.send(ctx, http.MethodPost, company+"/journals("+jid+")/Microsoft.NAV.post", jsonHeader(), nil)
	if err != nil {
		return nil, nil, err
	}
	if a.status != http.StatusNoContent && a.status != http.StatusOK {
		return nil, nil, d.failure(what, a)
	}
	return header.rec, posted, nil
}

// journal finds the journal batch with code.
func (d *Driver) journal(ctx context.Context, code string) (stored, bool, error) {
	recs, err := d.query(ctx, "journals", erp.Record{"code": code}, 1)
	if err != nil || len(recs) == 0 {
		return stored{}, false, err
	}
	return recs[0], true, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// batchRequest and batchResponse are BC's JSON $batch shapes.
type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// postLines creates lines of journal jid in one JSON $batch with
// Isolation: snapshot: all land or none. The envelope is 200 even when an
// operation failed; with snapshot isolation one failure undoes the batch,
// so any failed operation fails it, and its answer is the error.
func (d *Driver) postLines(ctx context.Context, jid string, obj *schema.Object, lines []erp.Record) ([]erp.Record, error) {
	what := "POST $batch journalLines"
	company, err := d.company(ctx)
	if err != nil {
		return nil, err
	}
	rel := strings.TrimPrefix(company, d.service+"/") + "/journals(" + jid + ")/journalLines"
	reqs := make([]batchRequest, len(lines))
	for i, l := range lines {
		body, err := encodeBody("journalLines", obj, l)
		if err != nil {
			return nil, permanent("%s: line %d: %v", what, i+1, err)
		}
		reqs[i] = batchRequest{ID: strconv.Itoa(i + 1), Method: http.MethodPost, URL: rel,
			Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
	}
	body, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		return nil, permanent("%s: %v", what, err)
	}
	h := jsonHeader()
	h.Set("Isolation", "snapshot")
	a, err := d.send(ctx, http.MethodPost, d.service+"/$batch", h, body)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, d.failure(what, a)
	}
	var out struct {
		Responses []batchResponse `json:"responses"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Responses == nil {
		return nil, protocol(what, a, "want a JSON object with a responses array, got %s", odata.FirstLine("nothing", a.body))
	}
	byID := make(map[string]batchResponse, len(out.Responses))
	for _, r := range out.Responses {
		byID[r.ID] = r
	}
	answers := make([]batchResponse, len(lines))
	for i := range lines {
		r, ok := byID[strconv.Itoa(i+1)]
		if !ok {
			return nil, protocol(what, a, "no answer for line %d (%d answers for %d lines)", i+1, len(out.Responses), len(lines))
		}
		answers[i] = r
	}
	for i, r := range answers {
		if r.Status >= 400 {
			hdr := http.Header{}
			for k, v := range r.Headers {
				hdr.Set(k, v)
			}
			return nil, d.failure(fmt.Sprintf("%s (line %d; the batch was not applied)", what, i+1), answer{status: r.Status, header: hdr, body: r.Body})
		}
		if r.Status < 200 || r.Status > 299 {
			return nil, protocol(what, a, "line %d: status %d", i+1, r.Status)
		}
	}
	recs := make([]erp.Record, len(lines))
	for i, r := range answers {
		if len(r.Body) == 0 || string(r.Body) == "null" {
			recs[i] = lines[i]
			continue
		}
		rec, _, err := decodeRecord("journalLines", obj, r.Body)
		if err != nil {
			return nil, protocol(what, a, "line %d: %v", i+1, err)
		}
		recs[i] = rec
	}
	return recs, nil
}
