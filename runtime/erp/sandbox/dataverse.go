package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/odata"
	dvschema "github.com/flowhq/flow/stdlib/dataverse"
	"github.com/flowhq/flow/stdlib/schema"
)

// dvAPI is where the Dataverse Web API lives.
const dvAPI = "/api/data/v9.2/"

// dvCompany is the company column of Dataverse rows (one organization).
const dvCompany = "org"

// dvState is the Dataverse dialect: the schema's alternate keys, lookups
// and wire types.
type dvState struct {
	schema *dvschema.Schema
}

// openDataverse prepares the Dataverse dialect. The alternate keys,
// lookups and wire types come from stdlib/dataverse's built-in schema,
// for the entity sets Config.Entities serves.
func (s *Server) openDataverse() error {
	s.dv = &dvState{schema: dvschema.DefaultSchema()}
	var groups [][]string
	seen := map[string]bool{}
	for _, set := range s.cfg.Entities.EntityNames() {
		for _, k := range s.dv.schema.AlternateKeys[set] {
			if !seen[strings.Join(k, ",")] {
				seen[strings.Join(k, ",")] = true
				groups = append(groups, k)
			}
		}
	}
	return indexFields(s.st.db, groups)
}

// dvError is an answer in Dataverse's error shape:
// {"error":{"code":"0x80040217","message":"..."}}.
func dvError(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, body: odata.ErrorBody{Error: odata.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

// Dataverse error codes the sandbox answers with.
const (
	dvNotFound         = "0x80040217" // ObjectDoesNotExist
	dvDuplicate        = "0x80040237" // DuplicateRecord
	dvDuplicateKey     = "0x80060892" // DuplicateRecordEntityKey
	dvVersionMismatch  = "0x80060882" // ConcurrencyVersionMismatch
	dvPropertyNotFound = "0x80060888" // property not found on the type
	dvPayload          = "0x80048d19" // error identified in payload
	dvLength           = "0x80044331" // length exceeded
	dvRequestsLimit    = "0x80072322" // service protection: number of requests
	dvUnexpected       = "0x80040216" // an unexpected error occurred
	dvBadKey           = "0x80060890" // the key does not match an alternate key
)

// asDV turns an error the F&O layer built (a query it could not read) into
// Dataverse's shape.
func asDV(herr *httpError) *httpError {
	if herr == nil || herr.body.Error.Code != "" {
		return herr
	}
	code := "0x80060888"
	if herr.status >= 500 {
		code = dvUnexpected
	}
	return dvError(herr.status, code, "%s", herr.body.Error.Text())
}

// serveDataverseRoutes serves the Dataverse dialect: the Entra v2.0 token
// endpoint and /api/data/v9.2.
func (s *Server) serveDataverseRoutes(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, dvAPI); ok {
		s.serveDV(w, r, rest)
		return
	}
	tenant, isToken := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if isToken && tenant != "" && !strings.Contains(tenant, "/") && r.Method == http.MethodPost {
		s.serveTokenV2(w, r, tenant)
		return
	}
	http.NotFound(w, r)
}

func (s *Server) serveDV(w http.ResponseWriter, r *http.Request, path string) {
	if !s.authorized(r) {
		s.count(r.Method + " unauthorized")
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c := call{method: r.Method, path: path, query: r.URL.Query(), header: r.Header, root: rootURL(r) + strings.TrimSuffix(dvAPI, "/")}
	s.count(r.Method + " " + kindOf(path))
	s.dvFaulty(w, r, func(body []byte) reply {
		c.body = body
		switch c.path {
		case "$metadata":
			if c.method != http.MethodGet {
				return dvError(http.StatusMethodNotAllowed, dvPayload, "The $metadata document is read-only.").reply()
			}
			return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/xml"}}, body: s.metadata}
		case "$batch":
			if c.method != http.MethodPost {
				return dvError(http.StatusMethodNotAllowed, dvPayload, "A $batch request must be a POST.").reply()
			}
			return s.dvBatch(r.Context(), c)
		}
		return s.dvDo(r.Context(), c)
	})
}

// dvFaulty is faulty with Dataverse's answers: a 429 with Retry-After and
// the service protection code 0x80072322, a 500 with 0x80040216 or a 503
// page from the front end.
func (s *Server) dvFaulty(w http.ResponseWriter, r *http.Request, serve func(body []byte) reply) {
	plan := s.plan()
	s.log.Debug("sandbox: request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "faults", plan)
	if plan.delay > 0 {
		select {
		case <-time.After(plan.delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case plan.rateLimit:
		s.mu.Lock()
		wait := s.faults.RetryAfter
		s.mu.Unlock()
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		e := dvError(http.StatusTooManyRequests, dvRequestsLimit, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		e.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		e.reply().write(w)
		return
	case plan.serverError && !plan.unavailable:
		dvError(http.StatusInternalServerError, dvUnexpected, "An unexpected error occurred.").reply().write(w)
		return
	case plan.serverError:
		reply{status: http.StatusServiceUnavailable, header: http.Header{"Content-Type": {"text/html"}, "Retry-After": {"1"}},
			body: []byte("<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>")}.write(w)
		return
	case plan.timeout:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return
	}
	if len(body) > maxBody {
		dvError(http.StatusRequestEntityTooLarge, dvPayload, "The request body is larger than %d bytes.", maxBody).reply().write(w)
		return
	}
	rep := serve(body)
	if plan.lostReply {
		s.log.Info("sandbox: fault: reply lost", "method", r.Method, "path", r.URL.Path, "status", rep.status)
		dropConnection(w)
		return
	}
	rep.write(w)
}

// dvDo runs one operation: a read on the database, a write in its own
// transaction.
func (s *Server) dvDo(ctx context.Context, c call) reply {
	if c.method == http.MethodGet {
		return s.dvExec(ctx, s.st.db, c)
	}
	tx, err := s.st.db.BeginTx(ctx, nil)
	if err != nil {
		return s.dvInternal(err)
	}
	rep := s.dvExec(ctx, tx, c)
	if rep.status >= 400 {
		_ = tx.Rollback()
		return rep
	}
	if err := tx.Commit(); err != nil {
		return s.dvInternal(err)
	}
	return rep
}

func (s *Server) dvInternal(err error) reply {
	s.log.Error("sandbox: internal error", "err", err)
	return dvError(http.StatusInternalServerError, dvUnexpected, "An unexpected error occurred.").reply()
}

// dvKey is a parsed key segment: a GUID, or alternate key columns.
type dvKey struct {
	id   string            // the primary key, "" for an alternate key
	cols map[string]string // alternate key column -> value as text
	text string
}

// parseDVKey reads what is between the parentheses of set(...): a GUID,
// or name=value pairs (strings quoted, quotes doubled; numbers bare).
func parseDVKey(s string) (dvKey, bool) {
	k := dvKey{text: s}
	if guidPattern.MatchString(s) {
		k.id = strings.ToLower(s)
		return k, true
	}
	k.cols = map[string]string{}
	for i := 0; i < len(s); {
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return dvKey{}, false
		}
		name := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		var val string
		if i < len(s) && s[i] == '\'' {
			var b strings.Builder
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return dvKey{}, false // unterminated string
			}
			val, i = b.String(), j+1
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			val, i = strings.TrimSpace(s[i:i+end]), i+end
		}
		if name == "" || k.cols[name] != "" {
			return dvKey{}, false
		}
		k.cols[name] = val
		if i < len(s) {
			if s[i] != ',' {
				return dvKey{}, false
			}
			i++
		}
	}
	return k, len(k.cols) > 0
}

// dvExec routes one operation:
//
//	<set>            GET POST
//	<set>(<key>)     GET PATCH DELETE
func (s *Server) dvExec(ctx context.Context, q querier, c call) reply {
	set, rest, hasKey := strings.Cut(c.path, "(")
	e := s.ents[set]
	if e == nil || strings.Contains(set, "/") {
		return dvError(http.StatusNotFound, dvPropertyNotFound, "Resource not found for the segment '%s'.", set).reply()
	}
	if !hasKey {
		switch c.method {
		case http.MethodGet:
			return s.dvList(ctx, q, c, e)
		case http.MethodPost:
			return s.dvCreate(ctx, q, c, e)
		}
		return dvError(http.StatusMethodNotAllowed, dvPayload, "The HTTP method '%s' is not allowed on the entity set '%s'.", c.method, set).reply()
	}
	inner, ok := strings.CutSuffix(rest, ")")
	key, kok := parseDVKey(inner)
	if !ok || !kok {
		return dvError(http.StatusBadRequest, dvBadKey, "The key '%s' of entity set '%s' is not valid.", inner, set).reply()
	}
	if key.id == "" {
		if herr := s.dvCheckAltKey(e, key); herr != nil {
			return herr.reply()
		}
	}
	r, rec, found, err := s.dvFind(ctx, q, e, key)
	if err != nil {
		return s.dvInternal(err)
	}
	switch c.method {
	case http.MethodGet:
		if !found {
			return s.dvMissing(e, key).reply()
		}
		o, herr := e.parseOptions(bcQuery(c.query))
		if herr != nil {
			return asDV(herr).reply()
		}
		return s.dvRowReply(http.StatusOK, c, e, r, rec, o.sel)
	case http.MethodPatch:
		return s.dvPatch(ctx, q, c, e, key, r, rec, found)
	case http.MethodDelete:
		if !found {
			return s.dvMissing(e, key).reply()
		}
		if m := strings.TrimSpace(c.header.Get("If-Match")); m != "" && m != "*" && m != dvETag(rec, r) {
			return dvError(http.StatusPreconditionFailed, dvVersionMismatch, "The version of the existing record doesn't match the RowVersion property provided.").reply()
		}
		if err := remove(ctx, q, r.recid); err != nil {
			return s.dvInternal(err)
		}
		return reply{status: http.StatusNoContent}
	}
	return dvError(http.StatusMethodNotAllowed, dvPayload, "The HTTP method '%s' is not allowed on an entity of '%s'.", c.method, set).reply()
}

// dvCheckAltKey checks that an alternate key segment names one of the
// table's alternate keys, in full.
func (s *Server) dvCheckAltKey(e *entity, key dvKey) *httpError {
	for _, k := range s.dv.schema.AlternateKeys[e.set] {
		if len(k) != len(key.cols) {
			continue
		}
		all := true
		for _, col := range k {
			_, ok := key.cols[col]
			all = all && ok
		}
		if all {
			return nil
		}
	}
	return dvError(http.StatusBadRequest, dvBadKey, "The key attributes '%s' do not match any alternate key of entity '%s'.", key.text, e.typ)
}

func (s *Server) dvMissing(e *entity, key dvKey) *httpError {
	if key.id != "" {
		return dvError(http.StatusNotFound, dvNotFound, "%s With Id = %s Does Not Exist", e.typ, key.id)
	}
	return dvError(http.StatusNotFound, dvNotFound, "A record with the specified key values does not exist in %s entity", e.typ)
}

// dvFind returns the row a key names.
func (s *Server) dvFind(ctx context.Context, q querier, e *entity, key dvKey) (row, record, bool, error) {
	if key.id != "" {
		r, found, err := get(ctx, q, e.set, canonical(key.id))
		if err != nil || !found {
			return row{}, nil, false, err
		}
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return row{}, nil, false, fmt.Errorf("stored %s row %d: %w", e.set, r.recid, herr)
		}
		return r, rec, true, nil
	}
	rows, recs, err := s.dvRows(ctx, q, e, key.cols)
	if err != nil || len(rows) == 0 {
		return row{}, nil, false, err
	}
	return rows[0], recs[0], true, nil
}

// dvRows returns the rows whose columns hold the given values (as text,
// compared without case, as Dataverse's collation does), in creation order.
func (s *Server) dvRows(ctx context.Context, q querier, e *entity, cols map[string]string) ([]row, []record, error) {
	names := make([]string, 0, len(cols))
	for n := range cols {
		names = append(names, n)
	}
	slices.Sort(names)
	rows, err := scanWhere(ctx, q, e.set, dvCompany, names[0], cols[names[0]])
	if err != nil {
		return nil, nil, err
	}
	var outRows []row
	var outRecs []record
	for _, r := range rows {
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return nil, nil, fmt.Errorf("stored %s row %d: %w", e.set, r.recid, herr)
		}
		match := true
		for _, n := range names {
			match = match && strings.EqualFold(dvText(rec[n]), cols[n])
		}
		if match {
			outRows, outRecs = append(outRows, r), append(outRecs, rec)
		}
	}
	return outRows, outRecs, nil
}

// dvText is a value as a key segment writes it.
func dvText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case decimal.Decimal:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// dvETag is the row's weak ETag, W/"<versionnumber>".
func dvETag(rec record, r row) string {
	if v, ok := rec["versionnumber"].(int64); ok {
		return `W/"` + strconv.FormatInt(v, 10) + `"`
	}
	return `W/"` + strconv.FormatInt(r.recid*1000+r.version, 10) + `"`
}

const dvContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"

// dvRowReply renders one row with its ETag.
func (s *Server) dvRowReply(status int, c call, e *entity, r row, rec record, sel map[string]bool) reply {
	tag := dvETag(rec, r)
	body := s.dvEncode(e, rec, sel, "@odata.context", c.root+"/$metadata#"+e.set+"/$entity", "@odata.etag", tag)
	h := http.Header{"Content-Type": {dvContentType}, "Etag": {tag}}
	if pk := dvPrimary(e); pk != "" {
		h.Set("OData-EntityId", c.root+"/"+e.set+"("+fmt.Sprint(rec[pk])+")")
	}
	return reply{status: status, header: h, body: body}
}

func dvPrimary(e *entity) string {
	if len(e.keys) == 1 {
		return e.keys[0].Name
	}
	return ""
}

// dvEncode renders every column of rec (unset ones as null), lookups as
// their _<name>_value column only.
func (s *Server) dvEncode(e *entity, rec record, sel map[string]bool, annotations ...string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := func() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
	}
	for i := 0; i+1 < len(annotations); i += 2 {
		sep()
		writeJSON(&b, annotations[i])
		b.WriteByte(':')
		writeJSON(&b, annotations[i+1])
	}
	for _, f := range e.obj.Fields {
		if _, bind := s.dv.schema.IsBind(e.set, f.Name); bind || (sel != nil && !sel[f.Name]) {
			continue
		}
		sep()
		writeJSON(&b, f.Name)
		b.WriteByte(':')
		writeJSON(&b, s.dvWire(e, f, rec[f.Name]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (s *Server) dvWire(e *entity, f *schema.Field, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case time.Time:
		if s.dv.schema.Dates[e.set][f.Name] {
			return v.Format("2006-01-02")
		}
		return v.UTC().Format("2006-01-02T15:04:05Z07:00")
	case decimal.Decimal:
		return json.Number(v.String())
	}
	return v
}

// dvList answers GET of a collection, with server-driven paging.
func (s *Server) dvList(ctx context.Context, q querier, c call, e *entity) reply {
	o, herr := e.parseOptions(bcQuery(c.query))
	if herr != nil {
		return asDV(herr).reply()
	}
	skip, ok := skipToken(c.query)
	if !ok {
		return dvError(http.StatusBadRequest, dvPayload, "The skip token '%s' is not valid.", c.query.Get("$skiptoken")).reply()
	}
	var rows []row
	var err error
	if text := bcQuery(c.query).Get("$filter"); text != "" {
		if n, perr := parseFilter(text); perr == nil {
			if nf, nv, ok := narrowing(n); ok {
				if _, known := e.obj.Field(nf); known {
					rows, err = scanWhere(ctx, q, e.set, dvCompany, nf, nv)
					goto scanned
				}
			}
		}
	}
	rows, err = scan(ctx, q, e.set, dvCompany, false)
scanned:
	if err != nil {
		return s.dvInternal(err)
	}
	var keep []row
	var recs []record
	for _, r := range rows {
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return s.dvInternal(fmt.Errorf("stored %s row %d: %w", e.set, r.recid, herr))
		}
		if o.filter == nil || o.filter(rec) {
			keep, recs = append(keep, r), append(recs, rec)
		}
	}
	idx, total, next := s.page(recs, e.obj, o, skip, c.query, c.root+"/"+e.set)
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":`)
	writeJSON(&b, c.root+"/$metadata#"+e.set)
	if o.count {
		fmt.Fprintf(&b, `,"@odata.count":%d`, total)
	}
	b.WriteString(`,"value":[`)
	for i, j := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(s.dvEncode(e, recs[j], o.sel, "@odata.etag", dvETag(recs[j], keep[j])))
	}
	b.WriteByte(']')
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		writeJSON(&b, next)
	}
	b.WriteByte('}')
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {dvContentType}}, body: b.Bytes()}
}

// dvGUID is a new row id: derived from a persisted sequence, so runs are
// reproducible and ids never repeat in one database.
func (s *Server) dvGUID(ctx context.Context, q querier) (string, error) {
	n, err := nextNumber(ctx, q, "dataverse.guid")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "dataverse:%d", n))
	return guidOf(sum[:]), nil
}
