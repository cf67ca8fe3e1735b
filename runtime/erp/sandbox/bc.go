package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/odata"
	bcschema "github.com/flowhq/flow/stdlib/bc"
	"github.com/flowhq/flow/stdlib/schema"
)

// DefaultBCCompany is the name of the Business Central sandbox's company.
const DefaultBCCompany = "CRONUS USA, Inc."

// bcAPI is where Business Central's API v2.0 lives.
const bcAPI = "/api/v2.0/"

// bcState is the Business Central dialect's one company.
type bcState struct {
	companyID, companyName string
	companies              *entity // the companies resource, served from bcState
	subs                   *bcSubs // webhook subscriptions, bc_subscriptions.go
}

// openBC prepares the Business Central dialect: the company's id is
// derived from its name, so a database reopened keeps it.
func (s *Server) openBC() error {
	sum := sha256.Sum256([]byte("bc-company:" + s.cfg.Company))
	st := &bcState{companyID: guidOf(sum[:]), companyName: s.cfg.Company, subs: newBCSubs()}
	obj, err := schema.NewObject("bc.companies", "Business Central companies.", []*schema.Field{
		{Name: "id", Type: schema.StringType},
		{Name: "systemVersion", Type: schema.StringType},
		{Name: "name", Type: schema.StringType, MaxLength: 30},
		{Name: "displayName", Type: schema.StringType, MaxLength: 250},
		{Name: "businessProfileId", Type: schema.StringType},
	}, []string{"id"})
	if err != nil {
		return err
	}
	st.companies = &entity{set: "companies", typ: "company", obj: obj, keys: []*schema.Field{obj.Fields[0]}}
	s.bc = st
	return indexFields(s.st.db, [][]string{{"number"}, {"code"}, {"externalDocumentNumber"}, {"documentNumber"},
		{"journalId", "lineNumber"}, {"documentId", "sequence"}})
}

// guidOf formats 16 bytes of b as a version-4-looking GUID.
func guidOf(b []byte) string {
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// newGUID is the id of a new record: derived from a persisted sequence, so
// runs are reproducible and ids never repeat in one database.
func (s *Server) newGUID(ctx context.Context, q querier) (string, error) {
	n, err := nextNumber(ctx, q, "bc.guid")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s:%d", s.bc.companyID, n))
	return guidOf(sum[:]), nil
}

// bcError is an answer in Business Central's error shape:
// {"error":{"code":"Application_DialogException","message":"...  CorrelationId:  <guid>."}}.
func bcError(status int, code, format string, args ...any) *httpError {
	msg := fmt.Sprintf(format, args...)
	sum := sha256.Sum256([]byte(msg))
	return &httpError{status: status, body: odata.ErrorBody{Error: odata.ErrorDetail{
		Code: code, Message: msg + "  CorrelationId:  " + guidOf(sum[:]) + "."}}}
}

// asBC turns an error the F&O layer built (reading a body or a query)
// into Business Central's shape.
func asBC(herr *httpError) *httpError {
	if herr == nil || herr.body.Error.Code != "" {
		return herr
	}
	code := "BadRequest"
	switch {
	case herr.status == http.StatusNotFound:
		code = "BadRequest_ResourceNotFound"
	case herr.status >= 500:
		code = "Internal_ServerError"
	}
	out := bcError(herr.status, code, "%s", herr.body.Error.Text())
	out.header = herr.header
	return out
}

// serveBCRoutes serves the Business Central dialect: the Entra v2.0 token
// endpoint and /api/v2.0.
func (s *Server) serveBCRoutes(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, bcAPI); ok {
		s.serveBC(w, r, rest)
		return
	}
	tenant, isToken := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if isToken && tenant != "" && !strings.Contains(tenant, "/") && r.Method == http.MethodPost {
		s.serveTokenV2(w, r, tenant)
		return
	}
	http.NotFound(w, r)
}

func (s *Server) serveBC(w http.ResponseWriter, r *http.Request, path string) {
	if !s.authorized(r) {
		s.count(r.Method + " unauthorized")
		rep := bcError(http.StatusUnauthorized, "Authentication_InvalidCredentials", "The server has rejected the client credentials.").reply()
		rep.header.Set("WWW-Authenticate", `Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`)
		rep.write(w)
		return
	}
	if isBCSubscriptions(path) {
		s.serveBCSubscriptions(w, r, path)
		return
	}
	c := call{method: r.Method, path: path, query: r.URL.Query(), header: r.Header, root: rootURL(r) + strings.TrimSuffix(bcAPI, "/")}
	s.count(r.Method + " " + bcKind(path))
	s.faulty(w, r, func(body []byte) reply {
		c.body = body
		if c.path == "$batch" {
			if c.method != http.MethodPost {
				return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "A $batch request must be a POST.").reply()
			}
			return s.bcBatch(r.Context(), c)
		}
		return s.bcDo(r.Context(), c)
	})
}

// bcKind names the kind of an API path for Requests: "collection",
// "entity", "action" or "$batch".
func bcKind(path string) string {
	switch {
	case path == "$batch":
		return path
	case strings.Contains(path, "/Microsoft.NAV."):
		return "action"
	case strings.HasSuffix(path, ")"):
		return "entity"
	}
	return "collection"
}

// bcDo runs one operation: a read on the database, a write in its own
// transaction.
func (s *Server) bcDo(ctx context.Context, c call) reply {
	if c.method == http.MethodGet {
		return s.bcExec(ctx, s.st.db, c)
	}
	tx, err := s.st.db.BeginTx(ctx, nil)
	if err != nil {
		return s.bcInternal(err)
	}
	rep := s.bcExec(ctx, tx, c)
	if rep.status >= 400 {
		_ = tx.Rollback() // nothing was written that must survive
		return rep
	}
	if err := tx.Commit(); err != nil {
		return s.bcInternal(err)
	}
	s.bcChanged(c, rep)
	return rep
}

func (s *Server) bcInternal(err error) reply {
	s.log.Error("sandbox: internal error", "err", err)
	return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.").reply()
}

// segment is one path segment: "journals(5d11...)" is set journals, id 5d11....
type segment struct {
	name, id string
	hasID    bool
}

func parseSegment(s string) (segment, bool) {
	name, rest, hasID := strings.Cut(s, "(")
	if !hasID {
		return segment{name: s}, name != ""
	}
	id, ok := strings.CutSuffix(rest, ")")
	if !ok || name == "" {
		return segment{}, false
	}
	id = strings.TrimSpace(id)
	if len(id) >= 2 && id[0] == '\'' && id[len(id)-1] == '\'' {
		id = strings.ReplaceAll(id[1:len(id)-1], "''", "'")
	}
	return segment{name: name, id: id, hasID: true}, true
}

// bcScope is where an operation applies: an entity set, maybe under a
// parent record.
type bcScope struct {
	e           *entity
	parentField string // the child's field holding the parent's id, "" at company level
	parentID    string
	link        string // the collection URL, for nextLink and Location
}

// bcExec routes an /api/v2.0 path:
//
//	companies                                GET
//	companies({id})                          GET
//	companies({id})/<set>                    GET POST
//	companies({id})/<set>({id})              GET PATCH DELETE
//	companies({id})/<set>({id})/Microsoft.NAV.<action>   POST
//	companies({id})/<parent>({id})/<child>[({id})]
func (s *Server) bcExec(ctx context.Context, q querier, c call) reply {
	notFound := func(seg string) reply {
		return bcError(http.StatusNotFound, "BadRequest_ResourceNotFound", "Resource not found for the segment '%s'.", seg).reply()
	}
	parts := strings.Split(c.path, "/")
	first, ok := parseSegment(parts[0])
	if !ok || first.name != "companies" {
		return notFound(parts[0])
	}
	if !first.hasID {
		if len(parts) > 1 || c.method != http.MethodGet {
			return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for 'companies' of EdmType 'EntitySet' are not allowed within Microsoft Dynamics NAV OData web services.", c.method).reply()
		}
		return s.bcCompanies(c, "")
	}
	if !strings.EqualFold(first.id, s.bc.companyID) {
		return notFound("companies")
	}
	if len(parts) == 1 {
		if c.method != http.MethodGet {
			return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for 'companies' of EdmType 'Entity' are not allowed within Microsoft Dynamics NAV OData web services.", c.method).reply()
		}
		return s.bcCompanies(c, first.id)
	}
	company := c.root + "/companies(" + s.bc.companyID + ")"
	rest := parts[1:]
	if len(rest) > 3 {
		return notFound(rest[3])
	}
	seg, ok := parseSegment(rest[0])
	e := s.ents[seg.name]
	if !ok || e == nil {
		return notFound(rest[0])
	}
	if len(rest) == 1 {
		return s.bcEntityOp(ctx, q, c, bcScope{e: e, link: company + "/" + e.set}, seg)
	}
	if !seg.hasID {
		return notFound(rest[1])
	}
	if strings.HasPrefix(rest[1], "Microsoft.NAV.") && len(rest) == 2 {
		if c.method != http.MethodPost {
			return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "Actions are invoked with POST.").reply()
		}
		return s.bcAction(ctx, q, e, seg.id, strings.TrimPrefix(rest[1], "Microsoft.NAV."))
	}
	child, ok := parseSegment(rest[1])
	ce := s.ents[child.name]
	p, isChild := bcschema.Parents[child.name]
	if !ok || ce == nil || !isChild || p.Set != e.set || len(rest) > 2 {
		return notFound(rest[1])
	}
	if _, _, found, err := s.bcGet(ctx, q, e, seg.id); err != nil {
		return s.bcInternal(err)
	} else if !found {
		return bcNotFound(e, seg.id)
	}
	return s.bcEntityOp(ctx, q, c, bcScope{e: ce, parentField: p.Field, parentID: strings.ToLower(seg.id), link: company + "/" + rest[0] + "/" + ce.set}, child)
}

// bcEntityOp runs a collection or entity operation in scope.
func (s *Server) bcEntityOp(ctx context.Context, q querier, c call, sc bcScope, seg segment) reply {
	if bcschema.ReadOnlySets[sc.e.set] && c.method != http.MethodGet {
		return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for '%s' of EdmType 'Entity' are not allowed within Microsoft Dynamics NAV OData web services.", c.method, sc.e.set).reply()
	}
	switch {
	case !seg.hasID && c.method == http.MethodGet:
		return s.bcList(ctx, q, c, sc)
	case !seg.hasID && c.method == http.MethodPost:
		return s.bcCreate(ctx, q, c, sc)
	case !seg.hasID:
		return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for '%s' of EdmType 'EntitySet' are not allowed within Microsoft Dynamics NAV OData web services.", c.method, sc.e.set).reply()
	}
	r, rec, found, err := s.bcGet(ctx, q, sc.e, seg.id)
	if err != nil {
		return s.bcInternal(err)
	}
	if !found || (sc.parentField != "" && !strings.EqualFold(fmt.Sprint(rec[sc.parentField]), sc.parentID)) {
		return bcNotFound(sc.e, seg.id)
	}
	switch c.method {
	case http.MethodGet:
		o, herr := sc.e.parseOptions(bcQuery(c.query))
		if herr != nil {
			return asBC(herr).reply()
		}
		return s.bcEntityReply(http.StatusOK, sc, r, rec, o.sel)
	case http.MethodPatch, http.MethodPut:
		return s.bcUpdate(ctx, q, c, sc, r, rec)
	case http.MethodDelete:
		if herr := bcIfMatch(c, r); herr != nil {
			return herr.reply()
		}
		if err := remove(ctx, q, r.recid); err != nil {
			return s.bcInternal(err)
		}
		return reply{status: http.StatusNoContent}
	}
	return bcError(http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "'%s' requests for '%s' of EdmType 'Entity' are not allowed within Microsoft Dynamics NAV OData web services.", c.method, sc.e.set).reply()
}

func bcNotFound(e *entity, id string) reply {
	return bcError(http.StatusNotFound, "BadRequest_NotFound", "The %s does not exist. Identification fields and values: Id='{%s}'", e.typ, strings.ToUpper(id)).reply()
}

// bcGet returns the company's record of e with id.
func (s *Server) bcGet(ctx context.Context, q querier, e *entity, id string) (row, record, bool, error) {
	r, found, err := get(ctx, q, e.set, canonical(id))
	if err != nil || !found {
		return row{}, nil, false, err
	}
	rec, herr := e.decodeRecord(r.data)
	if herr != nil {
		return row{}, nil, false, fmt.Errorf("stored %s record %d: %w", e.set, r.recid, herr)
	}
	return r, rec, true, nil
}

// bcRows returns the company's records of e that match, in creation order.
func (s *Server) bcRows(ctx context.Context, q querier, e *entity, match func(record) bool) ([]row, []record, error) {
	return s.bcRowsWhere(ctx, q, e, "", "", match)
}

// bcRowsWhere is bcRows narrowed first, in SQL, to the records whose field
// holds value (compared without case, as BC's collation does); field ""
// narrows nothing. match still decides.
func (s *Server) bcRowsWhere(ctx context.Context, q querier, e *entity, field, value string, match func(record) bool) ([]row, []record, error) {
	var rows []row
	var err error
	if field == "" {
		rows, err = scan(ctx, q, e.set, s.bc.companyID, false)
	} else {
		rows, err = scanWhere(ctx, q, e.set, s.bc.companyID, field, value)
	}
	if err != nil {
		return nil, nil, err
	}
	var outRows []row
	var outRecs []record
	for _, r := range rows {
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return nil, nil, fmt.Errorf("stored %s record %d: %w", e.set, r.recid, herr)
		}
		if match == nil || match(rec) {
			outRows, outRecs = append(outRows, r), append(outRecs, rec)
		}
	}
	return outRows, outRecs, nil
}

// narrowing picks, from a $filter that is a conjunction, one term "field
// eq 'text'" (without a wildcard) that SQL can narrow the scan by.
func narrowing(n node) (field, value string, ok bool) {
	switch n := n.(type) {
	case *logical:
		if n.op != "and" {
			return "", "", false
		}
		if f, v, ok := narrowing(n.l); ok {
			return f, v, ok
		}
		return narrowing(n.r)
	case *comparison:
		p, isProp := n.l.(*property)
		l, isLit := n.r.(*literal)
		if !isProp || !isLit {
			p, isProp = n.r.(*property)
			l, isLit = n.l.(*literal)
		}
		if n.op == "eq" && isProp && isLit && l.kind == litString && !strings.Contains(l.str, "*") {
			return p.name, l.str, true
		}
	}
	return "", "", false
}

// bcETag is a weak ETag in BC's style: base64 of 'version;recid;'.
func bcETag(r row) string {
	return `W/"` + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "'%d;%d;'", r.version+43, r.recid)) + `"`
}

// guidLiteral matches an unquoted GUID in a $filter, which BC writes bare
// (customerId eq 5d115c9c-44e3-ea11-bb43-000d3a2feca1).
var guidLiteral = regexp.MustCompile(`(^|[\s(,])([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})($|[\s),])`)

// bcQuery adapts BC's query options to the F&O parser: bare GUID
// literals become strings (GUIDs are strings in the schema) and
// $skiptoken is left to the caller.
func bcQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k == "$skiptoken" {
			continue
		}
		if k == "$filter" && len(v) > 0 {
			f := v[0]
			for range 2 { // adjacent matches share a separator
				f = guidLiteral.ReplaceAllString(f, "$1'$2'$3")
			}
			v = []string{f}
		}
		out[k] = v
	}
	return out
}

// bcList answers GET of a collection, with server-driven paging.
func (s *Server) bcList(ctx context.Context, q querier, c call, sc bcScope) reply {
	o, herr := sc.e.parseOptions(bcQuery(c.query))
	if herr != nil {
		return asBC(herr).reply()
	}
	skip, ok := skipToken(c.query)
	if !ok {
		return bcError(http.StatusBadRequest, "BadRequest", "The skip token '%s' is not valid.", c.query.Get("$skiptoken")).reply()
	}
	byField, byValue := sc.parentField, sc.parentID
	if text := bcQuery(c.query).Get("$filter"); text != "" { // a filter term narrows more than the parent
		if n, err := parseFilter(text); err == nil {
			if nf, nv, ok := narrowing(n); ok {
				if _, known := sc.e.obj.Field(nf); known {
					byField, byValue = nf, nv
				}
			}
		}
	}
	rows, recs, err := s.bcRowsWhere(ctx, q, sc.e, byField, byValue, func(rec record) bool {
		if sc.parentField != "" && !strings.EqualFold(fmt.Sprint(rec[sc.parentField]), sc.parentID) {
			return false
		}
		return o.filter == nil || o.filter(rec)
	})
	if err != nil {
		return s.bcInternal(err)
	}
	idx, total, next := s.page(recs, sc.e.obj, o, skip, c.query, sc.link)
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":`)
	writeJSON(&b, c.root+"/$metadata#companies("+s.bc.companyID+")/"+sc.e.set)
	if o.count {
		fmt.Fprintf(&b, `,"@odata.count":%d`, total)
	}
	b.WriteString(`,"value":[`)
	for i, j := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bcEncode(sc.e, recs[j], o.sel, "@odata.etag", bcETag(rows[j])))
	}
	b.WriteByte(']')
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		writeJSON(&b, next)
	}
	b.WriteByte('}')
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {bcContentType}}, body: b.Bytes()}
}

const bcContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false"

// bcCompanies answers GET companies and companies({id}).
func (s *Server) bcCompanies(c call, id string) reply {
	rec := record{"id": s.bc.companyID, "systemVersion": "24.0.16410.18056", "name": s.bc.companyName,
		"displayName": s.bc.companyName, "businessProfileId": ""}
	e := s.bc.companies
	o, herr := e.parseOptions(bcQuery(c.query))
	if herr != nil {
		return asBC(herr).reply()
	}
	if id != "" {
		return reply{status: http.StatusOK, header: http.Header{"Content-Type": {bcContentType}},
			body: bcEncode(e, rec, o.sel, "@odata.context", c.root+"/$metadata#companies/$entity")}
	}
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":`)
	writeJSON(&b, c.root+"/$metadata#companies")
	b.WriteString(`,"value":[`)
	if o.filter == nil || o.filter(rec) {
		b.Write(bcEncode(e, rec, o.sel))
	}
	b.WriteString(`]}`)
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {bcContentType}}, body: b.Bytes()}
}

// bcEntityReply renders one record with its ETag.
func (s *Server) bcEntityReply(status int, sc bcScope, r row, rec record, sel map[string]bool) reply {
	tag := bcETag(r)
	body := bcEncode(sc.e, rec, sel, "@odata.context", strings.SplitN(sc.link, "/companies(", 2)[0]+"/$metadata#companies("+s.bc.companyID+")/"+sc.e.set+"/$entity", "@odata.etag", tag)
	h := http.Header{"Content-Type": {bcContentType}, "Etag": {tag}}
	if status == http.StatusCreated {
		h.Set("Location", sc.link+"("+fmt.Sprint(rec["id"])+")")
	}
	return reply{status: status, header: h, body: body}
}

// bcEncode renders every field of rec (unset ones with BC's defaults):
// dates as 2024-01-31, instants in UTC, decimals as numbers.
func bcEncode(e *entity, rec record, sel map[string]bool, annotations ...string) []byte {
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
		if sel != nil && !sel[f.Name] {
			continue
		}
		sep()
		writeJSON(&b, f.Name)
		b.WriteByte(':')
		writeJSON(&b, bcWire(e, f, rec[f.Name]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

const emptyGUID = "00000000-0000-0000-0000-000000000000"

// bcWire is the JSON form of a field value, or of BC's default for it.
func bcWire(e *entity, f *schema.Field, v any) any {
	wt := bcschema.WireType(e.set, f.Name)
	switch v := v.(type) {
	case nil:
	case time.Time:
		if wt == "date" {
			return v.Format("2006-01-02")
		}
		return v.UTC().Format("2006-01-02T15:04:05.999Z07:00")
	case decimal.Decimal:
		return json.Number(v.String())
	default:
		return v
	}
	switch {
	case wt == "GUID":
		return emptyGUID
	case wt == "date":
		return "0001-01-01"
	case f.Type.Kind == schema.Timestamp:
		return "0001-01-01T00:00:00Z"
	case f.Type.Kind == schema.Decimal, f.Type.Kind == schema.Int:
		return json.Number("0")
	case f.Type.Kind == schema.Bool:
		return false
	case f.Type.Enum != nil:
		if f.Type.HasEnumValue(" ") {
			return " "
		}
		return f.Type.Enum[0]
	}
	return ""
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// bcDecode reads a request body as BC's API does: unknown properties,
// read-only fields, values of the wrong type, GUIDs that are not, options
// that do not exist and strings too long are refused.
func bcDecode(e *entity, data []byte) (record, *httpError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return nil, bcError(http.StatusBadRequest, "BadRequest", "Invalid Request Body")
	}
	rec := make(record, len(raw))
	for name, v := range raw {
		if strings.HasPrefix(name, "@") {
			continue
		}
		f, ok := e.obj.Field(name)
		if !ok {
			return nil, bcError(http.StatusBadRequest, "BadRequest_PropertyNotFound", "The property '%s' does not exist on type 'Microsoft.NAV.%s'. Make sure to only use property names that are defined by the type.", name, e.typ)
		}
		if bcschema.ReadOnly(e.set, name) {
			return nil, bcError(http.StatusBadRequest, "BadRequest_InvalidOperation", "Control '%s' is read-only", name)
		}
		val, herr := bcConvert(e, f, v)
		if herr != nil {
			return nil, herr
		}
		rec[name] = val
	}
	return rec, nil
}

func bcConvert(e *entity, f *schema.Field, v any) (any, *httpError) {
	wt := bcschema.WireType(e.set, f.Name)
	bad := func() *httpError {
		return bcError(http.StatusBadRequest, "BadRequest", "Cannot convert the literal '%v' to the expected type '%s' of property '%s'.", v, cmpOr(wt, f.Type.String()), f.Name)
	}
	if v == nil {
		if f.Type.Kind == schema.String && f.Type.Enum == nil && wt != "GUID" {
			return "", nil
		}
		return nil, bad()
	}
	switch f.Type.Kind {
	case schema.String:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if wt == "GUID" {
			if !guidPattern.MatchString(str) {
				return nil, bcError(http.StatusBadRequest, "Application_InvalidGUID", "Invalid format of GUID string. The correct format of the GUID string is: CDEF7890-ABCD-0123-1234-567890ABCDEF where 0-9, A-F symbolizes hexadecimal digits.")
			}
			return strings.ToLower(str), nil
		}
		if !f.Type.HasEnumValue(str) {
			return nil, bcError(http.StatusBadRequest, "BadRequest", "'%s' is not an option. The existing options are: %s", str, strings.Join(f.Type.Enum, ","))
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(str) > f.MaxLength {
			return nil, bcError(http.StatusBadRequest, "Application_StringExceededLength", "The length of the string is %d, but it must be less than or equal to %d characters. Value: %s", utf8.RuneCountInString(str), f.MaxLength, str)
		}
		return str, nil
	case schema.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case schema.Int:
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return i, nil
			}
		}
	case schema.Decimal, schema.Minor, schema.Double:
		if n, ok := v.(json.Number); ok {
			if d, err := decimal.NewFromString(string(n)); err == nil {
				return d, nil
			}
		}
	case schema.Timestamp:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if wt == "date" {
			t, err := time.Parse("2006-01-02", str)
			if err != nil {
				return nil, bcError(http.StatusBadRequest, "BadRequest", "Unable to convert value to Date: '%s'.", str)
			}
			return t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return nil, bad()
		}
		return t.UTC(), nil
	default:
		return v, nil
	}
	return nil, bad()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// bcIfMatch checks a PATCH's or DELETE's If-Match: required, "*" or the
// record's current ETag, else 409 Request_EntityChanged.
func bcIfMatch(c call, r row) *httpError {
	m := strings.TrimSpace(c.header.Get("If-Match"))
	switch {
	case m == "":
		return bcError(http.StatusBadRequest, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.")
	case m != "*" && m != bcETag(r):
		return bcError(http.StatusConflict, "Request_EntityChanged", "Another user has already changed the record.")
	}
	return nil
}
