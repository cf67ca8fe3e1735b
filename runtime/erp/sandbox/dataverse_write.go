package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/schema"
)

// dvDecode reads a request body as the Web API does: <nav>@odata.bind
// links a lookup (the target row must exist), other annotations are
// ignored, unknown and read-only columns, values of the wrong type and
// strings too long are refused. cleared lists the columns set to null.
func (s *Server) dvDecode(ctx context.Context, q querier, e *entity, data []byte) (rec record, cleared []string, herr *httpError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return nil, nil, dvError(http.StatusBadRequest, dvPayload, "Error identified in Payload provided by the user for Entity :'%s': the request body is not a JSON object.", e.set)
	}
	rec = make(record, len(raw))
	for name, v := range raw {
		if nav, ok := strings.CutSuffix(name, "@odata.bind"); ok {
			b, isBind := s.dv.schema.IsBind(e.set, nav)
			if !isBind {
				return nil, nil, dvError(http.StatusBadRequest, dvPropertyNotFound, "An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload.", nav)
			}
			if v == nil {
				cleared = append(cleared, b.Value)
				continue
			}
			ref, _ := v.(string)
			ref = strings.TrimPrefix(ref, "/")
			if i := strings.Index(ref, dvAPI); i >= 0 {
				ref = ref[i+len(dvAPI):]
			}
			target, inner, _ := strings.Cut(ref, "(")
			id, _ := strings.CutSuffix(inner, ")")
			te := s.ents[target]
			if target != b.Target || te == nil || !guidPattern.MatchString(id) {
				return nil, nil, dvError(http.StatusBadRequest, dvPayload, "Error identified in Payload provided by the user for Entity :'%s': the value '%v' of %s is not a reference to a %s row.", e.set, v, name, b.Target)
			}
			if _, found, err := get(ctx, q, te.set, canonical(id)); err != nil {
				return nil, nil, dvError(http.StatusInternalServerError, dvUnexpected, "An unexpected error occurred.")
			} else if !found {
				return nil, nil, dvError(http.StatusNotFound, dvNotFound, "%s With Id = %s Does Not Exist", te.typ, strings.ToLower(id))
			}
			rec[b.Value] = strings.ToLower(id)
			continue
		}
		if strings.Contains(name, "@") {
			continue
		}
		f, ok := e.obj.Field(name)
		_, isBind := s.dv.schema.IsBind(e.set, name)
		if !ok || isBind {
			return nil, nil, dvError(http.StatusBadRequest, dvPropertyNotFound, "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, e.typ)
		}
		if s.dvReadOnly(e, name) {
			return nil, nil, dvError(http.StatusBadRequest, dvPayload, "Error identified in Payload provided by the user for Entity :'%s': the column '%s' cannot be set.", e.set, name)
		}
		if v == nil {
			cleared = append(cleared, name)
			continue
		}
		val, herr := s.dvConvert(e, f, v)
		if herr != nil {
			return nil, nil, herr
		}
		rec[name] = val
	}
	return rec, cleared, nil
}

// dvReadOnly reports the columns the service sets: the row version, the
// audit dates and lookup value columns.
func (s *Server) dvReadOnly(e *entity, name string) bool {
	switch name {
	case "versionnumber", "createdon", "modifiedon":
		return true
	}
	for _, b := range s.dv.schema.Binds[e.set] {
		if b.Value == name {
			return true
		}
	}
	return strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value")
}

func (s *Server) dvConvert(e *entity, f *schema.Field, v any) (any, *httpError) {
	bad := func(edm string) *httpError {
		return dvError(http.StatusBadRequest, dvPayload, "Error identified in Payload provided by the user for Entity :'%s', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> InnerException : Microsoft.OData.ODataException: Cannot convert the literal '%v' to the expected type '%s'.", e.set, v, edm)
	}
	switch f.Type.Kind {
	case schema.String:
		str, ok := v.(string)
		if !ok {
			return nil, bad("Edm.String")
		}
		if s.dv.schema.Guids[e.set][f.Name] {
			if !guidPattern.MatchString(str) {
				return nil, bad("Edm.Guid")
			}
			return strings.ToLower(str), nil
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(str) > f.MaxLength {
			return nil, dvError(http.StatusBadRequest, dvLength, "A validation error occurred. The length of the '%s' attribute of the '%s' entity exceeded the maximum allowed length of '%d'.", f.Name, e.typ, f.MaxLength)
		}
		return str, nil
	case schema.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, bad("Edm.Boolean")
	case schema.Int:
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, bad("Edm.Int32")
	case schema.Decimal, schema.Minor, schema.Double:
		if n, ok := v.(json.Number); ok {
			if d, err := decimal.NewFromString(string(n)); err == nil {
				return d, nil
			}
		}
		return nil, bad("Edm.Decimal")
	case schema.Timestamp:
		str, ok := v.(string)
		if !ok {
			return nil, bad("Edm.DateTimeOffset")
		}
		if s.dv.schema.Dates[e.set][f.Name] {
			t, err := time.Parse("2006-01-02", str)
			if err != nil {
				return nil, bad("Edm.Date")
			}
			return t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return nil, bad("Edm.DateTimeOffset")
		}
		return t.UTC(), nil
	}
	return v, nil
}

// dvPrefersRow reports whether the request asked for the row back.
func dvPrefersRow(c call) bool {
	for _, p := range c.header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "return=representation") {
				return true
			}
		}
	}
	return false
}

// dvWritten answers a write: the row (201 or 200) when the request asked
// for it, else 204 with OData-EntityId.
func (s *Server) dvWritten(c call, e *entity, r row, rec record, created bool) reply {
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	rep := s.dvRowReply(status, c, e, r, rec, nil)
	if !dvPrefersRow(c) {
		rep.status, rep.body = http.StatusNoContent, nil
		rep.header.Del("Content-Type")
	}
	return rep
}

// dvCreate answers POST of a collection.
func (s *Server) dvCreate(ctx context.Context, q querier, c call, e *entity) reply {
	rec, _, herr := s.dvDecode(ctx, q, e, c.body)
	if herr != nil {
		return herr.reply()
	}
	return s.dvInsert(ctx, q, c, e, rec)
}

// dvInsert stores a new row: its id (given or new), defaults, version.
func (s *Server) dvInsert(ctx context.Context, q querier, c call, e *entity, rec record) reply {
	pk := dvPrimary(e)
	if pk == "" {
		return dvError(http.StatusBadRequest, dvPayload, "Entity '%s' has no single primary key.", e.typ).reply()
	}
	id, _ := rec[pk].(string)
	if id == "" {
		var err error
		if id, err = s.dvGUID(ctx, q); err != nil {
			return s.dvInternal(err)
		}
	} else if _, found, err := get(ctx, q, e.set, canonical(id)); err != nil {
		return s.dvInternal(err)
	} else if found {
		return dvError(http.StatusPreconditionFailed, dvDuplicate, "A record with matching key values already exists.").reply()
	}
	rec[pk] = strings.ToLower(id)
	now := s.cfg.Now().UTC().Truncate(time.Second)
	for name, v := range map[string]any{"statecode": int64(0), "statuscode": int64(1), "createdon": now} {
		if _, ok := e.obj.Field(name); ok && rec[name] == nil {
			rec[name] = v
		}
	}
	if herr := s.dvStamp(ctx, q, e, rec, 0); herr != nil {
		return herr.reply()
	}
	data := e.encode(rec, false, nil)
	recid, err := insert(ctx, q, e.set, dvCompany, canonical(id), data)
	if err != nil {
		return s.dvInternal(err)
	}
	return s.dvWritten(c, e, row{recid: recid, version: 1, data: data}, rec, true)
}

// dvStamp checks the row's alternate keys are unique (recid is the row's
// own, 0 on a create) and sets modifiedon and a new versionnumber.
func (s *Server) dvStamp(ctx context.Context, q querier, e *entity, rec record, recid int64) *httpError {
	for _, k := range s.dv.schema.AlternateKeys[e.set] {
		cols := map[string]string{}
		for _, col := range k {
			if t := dvText(rec[col]); t != "" {
				cols[col] = t
			}
		}
		if len(cols) != len(k) {
			continue
		}
		rows, _, err := s.dvRows(ctx, q, e, cols)
		if err != nil {
			return dvError(http.StatusInternalServerError, dvUnexpected, "An unexpected error occurred.")
		}
		for _, r := range rows {
			if r.recid != recid {
				return dvError(http.StatusPreconditionFailed, dvDuplicateKey, "A record that has the attribute values %s already exists. The entity key %s requires that this set of attributes contains unique values. Select unique values and try again.", describeCols(cols), strings.Join(k, ","))
			}
		}
	}
	if _, ok := e.obj.Field("modifiedon"); ok {
		rec["modifiedon"] = s.cfg.Now().UTC().Truncate(time.Second)
	}
	if _, ok := e.obj.Field("versionnumber"); ok {
		n, err := nextNumber(ctx, q, "dataverse.version")
		if err != nil {
			return dvError(http.StatusInternalServerError, dvUnexpected, "An unexpected error occurred.")
		}
		rec["versionnumber"] = 1000 + n
	}
	return nil
}

func describeCols(cols map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(cols) {
		parts = append(parts, cols[k])
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// dvPatch answers PATCH of a row: an upsert. If-Match: * (or an ETag)
// updates only, If-None-Match: * creates only; neither does what the row's
// existence calls for. The key columns of an alternate key fill a new row.
func (s *Server) dvPatch(ctx context.Context, q querier, c call, e *entity, key dvKey, r row, old record, found bool) reply {
	ifMatch := strings.TrimSpace(c.header.Get("If-Match"))
	ifNone := strings.TrimSpace(c.header.Get("If-None-Match"))
	switch {
	case ifNone == "*" && found:
		return dvError(http.StatusPreconditionFailed, dvDuplicate, "A record with matching key values already exists.").reply()
	case ifMatch != "" && !found:
		return s.dvMissing(e, key).reply()
	case ifMatch != "" && ifMatch != "*" && ifMatch != dvETag(old, r):
		return dvError(http.StatusPreconditionFailed, dvVersionMismatch, "The version of the existing record doesn't match the RowVersion property provided.").reply()
	}
	patch, cleared, herr := s.dvDecode(ctx, q, e, c.body)
	if herr != nil {
		return herr.reply()
	}
	keyCols := map[string]any{}
	if key.id != "" {
		keyCols[dvPrimary(e)] = key.id
	} else {
		for col, text := range key.cols {
			f, _ := e.obj.Field(col)
			v, herr := s.dvKeyValue(e, f, text)
			if herr != nil {
				return herr.reply()
			}
			keyCols[col] = v
		}
	}
	for col, v := range keyCols {
		if pv, set := patch[col]; set && !strings.EqualFold(dvText(pv), dvText(v)) {
			return dvError(http.StatusBadRequest, dvPayload, "The value of %s in the body does not match the key in the URL.", col).reply()
		}
		patch[col] = v
	}
	if !found {
		for _, col := range cleared {
			delete(patch, col)
		}
		return s.dvInsert(ctx, q, c, e, patch)
	}
	merged := make(record, len(old)+len(patch))
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range patch {
		merged[k] = v
	}
	for _, col := range cleared {
		delete(merged, col)
	}
	if herr := s.dvStamp(ctx, q, e, merged, r.recid); herr != nil {
		return herr.reply()
	}
	data := e.encode(merged, false, nil)
	if err := update(ctx, q, r.recid, data); err != nil {
		return s.dvInternal(err)
	}
	r.version++
	r.data = data
	return s.dvWritten(c, e, r, merged, false)
}

// dvKeyValue converts an alternate key value from the URL to the column's
// type.
func (s *Server) dvKeyValue(e *entity, f *schema.Field, text string) (any, *httpError) {
	switch f.Type.Kind {
	case schema.Int:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, dvError(http.StatusBadRequest, dvBadKey, "The key value '%s' of %s is not an integer.", text, f.Name)
		}
		return n, nil
	case schema.Decimal, schema.Minor, schema.Double:
		d, err := decimal.NewFromString(text)
		if err != nil {
			return nil, dvError(http.StatusBadRequest, dvBadKey, "The key value '%s' of %s is not a number.", text, f.Name)
		}
		return d, nil
	case schema.String:
		if f.MaxLength > 0 && utf8.RuneCountInString(text) > f.MaxLength {
			return nil, dvError(http.StatusBadRequest, dvLength, "A validation error occurred. The length of the '%s' attribute of the '%s' entity exceeded the maximum allowed length of '%d'.", f.Name, e.typ, f.MaxLength)
		}
		return text, nil
	}
	return text, nil
}

// dvBatch answers POST /api/data/v9.2/$batch (multipart/mixed). A
// changeset runs in one transaction: when one of its operations fails,
// nothing of it is applied and the changeset is answered by that failure
// alone, as Dataverse does. Every other part stands alone.
func (s *Server) dvBatch(ctx context.Context, c call) reply {
	parts, err := odata.ReadRequest(c.header.Get("Content-Type"), bytes.NewReader(c.body))
	if err != nil {
		return dvError(http.StatusBadRequest, dvPayload, "The batch request is not valid: %v.", err).reply()
	}
	out := make([]odata.ResponsePart, 0, len(parts))
	for _, p := range parts {
		if !p.Changeset {
			r := p.Requests[0]
			rep := s.dvBatchOp(c, r, func(op call) reply { return s.dvDo(ctx, op) })
			out = append(out, odata.ResponsePart{Responses: []odata.Response{response(r.ContentID, rep)}})
			continue
		}
		tx, err := s.st.db.BeginTx(ctx, nil)
		if err != nil {
			return s.dvInternal(err)
		}
		var answers []odata.Response
		failed := false
		for _, r := range p.Requests {
			rep := s.dvBatchOp(c, r, func(op call) reply { return s.dvExec(ctx, tx, op) })
			if rep.status >= 400 {
				answers, failed = []odata.Response{response(r.ContentID, rep)}, true
				break
			}
			answers = append(answers, response(r.ContentID, rep))
		}
		if failed {
			_ = tx.Rollback()
		} else if err := tx.Commit(); err != nil {
			return s.dvInternal(err)
		}
		out = append(out, odata.ResponsePart{Changeset: !failed, Responses: answers})
	}
	boundary := odata.Boundary("batchresponse")
	var b bytes.Buffer
	if err := odata.WriteResponse(&b, boundary, out); err != nil {
		return s.dvInternal(err)
	}
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {odata.ContentType(boundary)}}, body: b.Bytes()}
}

// dvBatchOp turns an operation of a batch into a call and runs it.
func (s *Server) dvBatchOp(c call, r odata.Request, run func(call) reply) reply {
	u, err := url.Parse(r.URL)
	if err != nil {
		return dvError(http.StatusBadRequest, dvPayload, "The URL '%s' of operation %s is not valid.", r.URL, r.ContentID).reply()
	}
	path := u.Path
	if i := strings.Index(path, dvAPI); i >= 0 {
		path = path[i+len(dvAPI):]
	}
	path = strings.TrimPrefix(path, "/")
	if path == "" || strings.HasPrefix(path, "$") {
		return dvError(http.StatusBadRequest, dvPayload, "The URL '%s' of operation %s cannot be used inside a batch.", r.URL, r.ContentID).reply()
	}
	s.count("batch " + r.Method + " " + kindOf(path))
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	return run(call{method: r.Method, path: path, query: u.Query(), header: h, body: r.Body, root: c.root})
}
