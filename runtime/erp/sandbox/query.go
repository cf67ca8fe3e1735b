package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/stdlib/schema"
)

// recIDBase makes record ids look like F&O RecIds.
const recIDBase = 5637144575

// etag is F&O's weak ETag: base64 of 'version,RecId'.
func etag(version, recid int64) string {
	return `W/"` + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "'%d,%d'", version, recid+recIDBase)) + `"`
}

// options are the query options of a collection GET.
type options struct {
	filter      predicate
	sel         map[string]bool // nil = every field
	selText     string
	top, skip   int // top -1 = no $top
	count       bool
	order       []orderKey
	crossCompny bool
}

type orderKey struct {
	field string
	desc  bool
}

func (e *entity) parseOptions(q url.Values) (options, *httpError) {
	o := options{top: -1}
	for name, vals := range q {
		v := vals[0]
		var err *httpError
		switch name {
		case "$filter":
			n, perr := parseFilter(v)
			if perr != nil {
				return o, badRequest("The query specified in the URI is not valid. %v.", perr)
			}
			o.filter, err = e.compileFilter(n)
		case "$select":
			o.sel, o.selText, err = e.parseSelect(v)
		case "$top":
			o.top, err = nonNegative(name, v)
		case "$skip":
			o.skip, err = nonNegative(name, v)
		case "$count":
			o.count = v == "true"
			if v != "true" && v != "false" {
				err = badRequest("The query specified in the URI is not valid. '%s' is not a valid count option.", v)
			}
		case "$orderby":
			o.order, err = e.parseOrder(v)
		case "cross-company":
			o.crossCompny = strings.EqualFold(v, "true")
		case "$format", "$skiptoken":
			// $format=json is the only format; paging links use $skip
		default:
			if strings.HasPrefix(name, "$") {
				err = badRequest("The query parameter '%s' is not supported.", name)
			}
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func nonNegative(name, v string) (int, *httpError) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("The query specified in the URI is not valid. Invalid value '%s' for %s query option found.", v, name)
	}
	return n, nil
}

func (e *entity) parseSelect(v string) (map[string]bool, string, *httpError) {
	sel := map[string]bool{}
	var names []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			return nil, "", nil
		}
		if _, err := e.field(name); err != nil {
			return nil, "", err
		}
		sel[name] = true
		names = append(names, name)
	}
	return sel, strings.Join(names, ","), nil
}

func (e *entity) parseOrder(v string) ([]orderKey, *httpError) {
	var keys []orderKey
	for _, item := range strings.Split(v, ",") {
		f := strings.Fields(item)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[1] != "asc" && f[1] != "desc") {
			return nil, badRequest("The query specified in the URI is not valid. Invalid $orderby item '%s'.", strings.TrimSpace(item))
		}
		if _, err := e.field(f[0]); err != nil {
			return nil, err
		}
		keys = append(keys, orderKey{field: f[0], desc: len(f) == 2 && f[1] == "desc"})
	}
	return keys, nil
}

// query answers GET /data/<Set>.
func (s *Server) query(ctx context.Context, q querier, e *entity, c call) reply {
	o, herr := e.parseOptions(c.query)
	if herr != nil {
		return herr.reply()
	}
	rows, err := scan(ctx, q, e.set, s.cfg.Company, o.crossCompny || !e.company)
	if err != nil {
		return s.internal(err)
	}
	type hit struct {
		rec record
		row row
	}
	var hits []hit
	for _, r := range rows {
		rec, herr := e.decodeRecord(r.data)
		if herr != nil {
			return s.internal(fmt.Errorf("stored %s record %d: %w", e.set, r.recid, herr))
		}
		if o.filter == nil || o.filter(rec) {
			hits = append(hits, hit{rec, r})
		}
	}
	recs := make([]record, len(hits))
	for i, h := range hits {
		recs[i] = h.rec
	}
	sorted := make([]hit, len(hits))
	for i, j := range o.sorted(recs, e.obj) {
		sorted[i] = hits[j]
	}
	hits = sorted
	total := len(hits)
	hits = hits[min(o.skip, len(hits)):]
	if o.top >= 0 && o.top < len(hits) {
		hits = hits[:o.top]
	}
	var next string
	if len(hits) > s.cfg.PageSize {
		hits = hits[:s.cfg.PageSize]
		nq := url.Values{}
		for k, v := range c.query {
			nq[k] = v
		}
		nq.Set("$skip", strconv.Itoa(o.skip+s.cfg.PageSize))
		if o.top >= 0 {
			nq.Set("$top", strconv.Itoa(o.top-s.cfg.PageSize))
		}
		next = c.root + "/" + e.set + "?" + nq.Encode()
	}

	var b bytes.Buffer
	contextURL := c.root + "/$metadata#" + e.set
	if o.selText != "" {
		contextURL += "(" + o.selText + ")"
	}
	b.WriteString(`{"@odata.context":`)
	writeJSON(&b, contextURL)
	if o.count {
		fmt.Fprintf(&b, `,"@odata.count":%d`, total)
	}
	b.WriteString(`,"value":[`)
	for i, h := range hits {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e.encode(h.rec, true, o.sel, "@odata.etag", etag(h.row.version, h.row.recid)))
	}
	b.WriteByte(']')
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		writeJSON(&b, next)
	}
	b.WriteByte('}')
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {jsonContentType}}, body: b.Bytes()}
}

// get answers GET /data/<Set>(key).
func (s *Server) get(ctx context.Context, q querier, e *entity, c call, pred string) reply {
	r, _, herr := s.find(ctx, q, e, pred)
	if herr != nil {
		return herr.reply()
	}
	o, herr := e.parseOptions(c.query)
	if herr != nil {
		return herr.reply()
	}
	return s.entityReply(http.StatusOK, e, c, r, o.sel)
}

// find returns the stored row and record a key predicate names.
func (s *Server) find(ctx context.Context, q querier, e *entity, pred string) (row, record, *httpError) {
	keyRec, herr := e.parseKey(pred)
	if herr != nil {
		return row{}, nil, herr
	}
	key, _ := e.keyOf(keyRec) // parseKey sets every key field
	r, found, err := get(ctx, q, e.set, key)
	if err != nil {
		return row{}, nil, statusError(http.StatusInternalServerError, "An error has occurred.")
	}
	if !found {
		return row{}, nil, notFound(e.set)
	}
	rec, herr := e.decodeRecord(r.data)
	if herr != nil {
		return row{}, nil, statusError(http.StatusInternalServerError, "An error has occurred.")
	}
	return r, rec, nil
}

// entityReply renders one record with its context, ETag and Location.
func (s *Server) entityReply(status int, e *entity, c call, r row, sel map[string]bool) reply {
	rec, herr := e.decodeRecord(r.data)
	if herr != nil {
		return s.internal(fmt.Errorf("stored %s record %d: %w", e.set, r.recid, herr))
	}
	tag := etag(r.version, r.recid)
	body := e.encode(rec, true, sel, "@odata.context", c.root+"/$metadata#"+e.set+"/$entity", "@odata.etag", tag)
	h := http.Header{"Content-Type": {jsonContentType}, "Etag": {tag}}
	if status == http.StatusCreated {
		h.Set("Location", c.root+"/"+e.set+"("+e.keyPredicate(rec)+")")
	}
	return reply{status: status, header: h, body: body}
}

// keyPredicate renders rec's key as a URL key predicate.
func (e *entity) keyPredicate(rec record) string {
	parts := make([]string, len(e.keys))
	for i, f := range e.keys {
		parts[i] = f.Name + "=" + literalOf(value(rec, f)).String()
	}
	return strings.Join(parts, ",")
}

// parseKey parses a key predicate, "dataAreaId='usmf',CustomerAccount='US-001'"
// or "'USD'" for a one-field key, into a record of the key fields.
func (e *entity) parseKey(pred string) (record, *httpError) {
	bad := func(format string, args ...any) *httpError {
		return badRequest("The key in the request URI is not valid for resource '%s.%s': %s.", namespace, e.typ, fmt.Sprintf(format, args...))
	}
	toks, err := lex(pred)
	if err != nil {
		return nil, bad("%v", err)
	}
	rec := record{}
	set := func(f *schema.Field, t token) *httpError {
		lit := t.lit
		if t.kind == tokIdent && (t.text == "true" || t.text == "false") {
			lit = &literal{kind: litBool, b: t.text == "true"}
		}
		if lit == nil {
			return bad("a value is expected for '%s'", f.Name)
		}
		v, herr := e.literalFor(f, lit, "eq")
		if herr != nil {
			return herr
		}
		if f.Name == "dataAreaId" {
			v = strings.ToLower(v.(string))
		}
		rec[f.Name] = v
		return nil
	}
	if len(toks) == 2 && len(e.keys) == 1 {
		if herr := set(e.keys[0], toks[0]); herr != nil {
			return nil, herr
		}
		return rec, nil
	}
	for i := 0; ; i += 4 {
		if i+3 >= len(toks) || toks[i].kind != tokIdent || toks[i+1].kind != tokEquals {
			return nil, bad("expected name=value pairs")
		}
		f, ok := e.obj.Field(toks[i].text)
		if !ok || !f.Key {
			return nil, bad("'%s' is not a key property", toks[i].text)
		}
		if _, dup := rec[f.Name]; dup {
			return nil, bad("'%s' appears twice", f.Name)
		}
		if herr := set(f, toks[i+2]); herr != nil {
			return nil, herr
		}
		if sep := toks[i+3].kind; sep == tokEOF {
			break
		} else if sep != tokComma {
			return nil, bad("expected ',' between key values")
		}
	}
	if len(rec) != len(e.keys) {
		return nil, bad("every key property (%s) must be given", strings.Join(e.obj.Keys, ", "))
	}
	return rec, nil
}

// literalOf renders a record value as a literal.
func literalOf(v any) *literal {
	switch v := v.(type) {
	case string:
		return &literal{kind: litString, str: v}
	case int64:
		return &literal{kind: litNumber, num: decimal.NewFromInt(v)}
	case decimal.Decimal:
		return &literal{kind: litNumber, num: v}
	case time.Time:
		return &literal{kind: litTime, t: v}
	case bool:
		return &literal{kind: litBool, b: v}
	}
	return &literal{kind: litNull}
}

// sorted returns the indexes of recs in $orderby order (stable: ties
// keep their order).
func (o options) sorted(recs []record, obj *schema.Object) []int {
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	for i := len(o.order) - 1; i >= 0; i-- {
		k := o.order[i]
		f, _ := obj.Field(k.field)
		slices.SortStableFunc(idx, func(a, b int) int {
			c := compare(value(recs[a], f), value(recs[b], f))
			if k.desc {
				return -c
			}
			return c
		})
	}
	return idx
}

// skipToken reads the $skiptoken the BC and Dataverse dialects put in
// their next links ("s" and how many records came before); ok is false
// for one they did not make.
func skipToken(q url.Values) (skip int, ok bool) {
	t := q.Get("$skiptoken")
	if t == "" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(t, "s"))
	return n, err == nil && n >= 0 && strings.HasPrefix(t, "s")
}

// page orders recs, applies $skip and $top, and cuts the page the skip
// token starts: the page's indexes into recs, how many records $skip and
// $top leave before paging ($count), and the next link (base with q's
// options and the next skip token), "" on the last page.
func (s *Server) page(recs []record, obj *schema.Object, o options, skip int, q url.Values, base string) (idx []int, total int, next string) {
	idx = o.sorted(recs, obj)
	total = len(idx)
	idx = idx[min(o.skip, len(idx)):]
	if o.top >= 0 && o.top < len(idx) {
		idx = idx[:o.top]
	}
	idx = idx[min(skip, len(idx)):]
	if len(idx) > s.cfg.PageSize {
		idx = idx[:s.cfg.PageSize]
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("$skiptoken", "s"+strconv.Itoa(skip+s.cfg.PageSize))
		next = base + "?" + strings.ReplaceAll(nq.Encode(), "+", "%20")
	}
	return idx, total, next
}
