package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	dvschema "github.com/flowhq/flow/stdlib/dataverse"
	"github.com/flowhq/flow/stdlib/schema"
)

// APIPath is where the Web API lives under the environment URL.
const APIPath = "/api/data/v9.2"

// Config configures a Driver.
type Config struct {
	// BaseURL is the environment URL without a trailing slash,
	// https://contoso.crm.dynamics.com; the Web API is at BaseURL+APIPath.
	BaseURL string
	// TokenURL is the Entra v2.0 token endpoint,
	// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token; "" sends
	// no token.
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string // "" = BaseURL + "/.default"
	HTTPClient   *http.Client
	Timeout      time.Duration    // per request, token requests included; 0 = 60s
	Schema       *dvschema.Schema // nil = stdlib/dataverse.DefaultSchema()
	Now          func() time.Time // clock for token expiry and Retry-After dates; nil = time.Now
}

// Driver is the Dataverse Web API driver. It is safe for concurrent use.
type Driver struct {
	cfg     Config
	service string // BaseURL + APIPath
	client  *http.Client
	schema  *dvschema.Schema
	tokens  *odata.TokenSource // nil when TokenURL is ""
	now     func() time.Time
}

var _ erp.Driver = (*Driver)(nil)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// New checks cfg and returns a driver; it does no I/O.
func New(cfg Config) (*Driver, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("dataverse: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Scope == "" {
		cfg.Scope = cfg.BaseURL + "/.default"
	}
	if cfg.Schema == nil {
		cfg.Schema = dvschema.DefaultSchema()
	}
	if cfg.Schema.Connector == nil {
		return nil, fmt.Errorf("dataverse: Schema has no connector")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	d := &Driver{cfg: cfg, service: cfg.BaseURL + APIPath, client: client, schema: cfg.Schema, now: cfg.Now}
	if cfg.TokenURL != "" {
		if u, err := url.Parse(cfg.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("dataverse: TokenURL %q is not an http(s) URL", cfg.TokenURL)
		}
		d.tokens = &odata.TokenSource{URL: cfg.TokenURL, ClientID: cfg.ClientID, Secret: cfg.ClientSecret,
			Scope: cfg.Scope, Client: client, Timeout: cfg.Timeout, Now: cfg.Now}
	}
	return d, nil
}

func permanent(format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Message: "dataverse: " + fmt.Sprintf(format, args...)}
}

// table is one entity set and its schema.
type table struct {
	set string
	obj *schema.Object
}

func (d *Driver) table(set string) (table, error) {
	obj, ok := d.schema.Connector.Entities[set]
	if !ok {
		return table{}, permanent("unknown entity set %q", set)
	}
	return table{set, obj}, nil
}

// primaryKey is the table's primary key column ("accountid").
func (t table) primaryKey() string {
	if len(t.obj.Keys) == 1 {
		return t.obj.Keys[0]
	}
	return ""
}

// columns is the $select of a read: every field that is a column (not a
// lookup navigation property), sorted.
func (d *Driver) columns(t table) string {
	var out []string
	for _, f := range t.obj.Fields {
		if _, bind := d.schema.IsBind(t.set, f.Name); !bind {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Lookup returns the first row of entity whose fields equal where.
func (d *Driver) Lookup(ctx context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	t, err := d.table(entity)
	if err != nil {
		return nil, false, err
	}
	recs, err := d.query(ctx, t, where, 1)
	if err != nil || len(recs) == 0 {
		return nil, false, err
	}
	return recs[0].rec, true, nil
}

// Query returns every row of entity whose columns equal where, reading
// every page (@odata.nextLink).
func (d *Driver) Query(ctx context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	return d.QueryRange(ctx, entity, where, nil)
}

// QueryRange returns every row of entity whose columns equal where and
// satisfy ranges, compared by Dataverse ($filter le, gt, ...).
func (d *Driver) QueryRange(ctx context.Context, entity string, where erp.Record, ranges []erp.Range) ([]erp.Record, error) {
	t, err := d.table(entity)
	if err != nil {
		return nil, err
	}
	recs, err := d.queryRange(ctx, t, where, ranges, 0)
	if err != nil {
		return nil, err
	}
	out := make([]erp.Record, len(recs))
	for i, r := range recs {
		out[i] = r.rec
	}
	return out, nil
}

// stored is a row and its ETag.
type stored struct {
	rec  erp.Record
	etag string
}

// query GETs the rows matching where, following @odata.nextLink; top 0
// means every page.
func (d *Driver) query(ctx context.Context, t table, where erp.Record, top int) ([]stored, error) {
	return d.queryRange(ctx, t, where, nil, top)
}

// queryRange is query with comparisons too.
func (d *Driver) queryRange(ctx context.Context, t table, where erp.Record, ranges []erp.Range, top int) ([]stored, error) {
	filter, err := d.filter(t, where, ranges)
	if err != nil {
		return nil, permanent("lookup in %s: %v", t.set, err)
	}
	q := []string{"$select=" + queryEscape(d.columns(t))}
	if filter != "" {
		q = append(q, "$filter="+queryEscape(filter))
	}
	if top > 0 {
		q = append(q, fmt.Sprintf("$top=%d", top))
	}
	next := d.service + "/" + t.set + "?" + strings.Join(q, "&")
	what := "GET " + t.set
	var out []stored
	err = d.pages(ctx, next, what, func(raw json.RawMessage) (bool, error) {
		rec, etag, err := d.decodeRecord(t, raw)
		if err != nil {
			return false, err
		}
		out = append(out, stored{rec, etag})
		return top > 0 && len(out) >= top, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// filter renders where as a $filter, fields sorted; a lookup field
// filters its value column.
func (d *Driver) filter(t table, where erp.Record, ranges []erp.Range) (string, error) {
	return odata.Filter(nil, where, ranges, func(name string, v any, compare bool) (string, string, error) {
		f, ok := t.obj.Field(name)
		if !ok {
			return "", "", fmt.Errorf("%s has no field %q", t.set, name)
		}
		col := name
		if b, bind := d.schema.IsBind(t.set, name); bind {
			if compare {
				return "", "", fmt.Errorf("%s: %s links a row; only == compares it", t.set, name)
			}
			col = b.Value
			if id, _ := v.(string); !guidPattern.MatchString(id) {
				return "", "", fmt.Errorf("field %s: %q is not a GUID", name, v)
			}
		}
		lit, err := d.literal(t, f, col, v)
		if err != nil {
			return "", "", fmt.Errorf("field %s: %w", name, err)
		}
		return col, lit, nil
	})
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// address is how a write names its row: "(accountid)" by primary key, or
// "(k1='a',k2=2)" by alternate key, and the columns that make it.
type address struct {
	path string   // "accounts(new_stripecustomerid='cus_1')"
	cols []string // the key columns, left out of the body
}

// addressOf names the row fields identify: by the primary key when set,
// else by the first alternate key fields set in full; ok is false when
// neither is.
func (d *Driver) addressOf(t table, fields erp.Record) (address, bool, error) {
	if pk := t.primaryKey(); pk != "" {
		if v, set := fields[pk]; set && v != nil && v != "" {
			id, _ := v.(string)
			if !guidPattern.MatchString(id) {
				return address{}, false, permanent("%s: %s %v is not a GUID", t.set, pk, v)
			}
			return address{path: t.set + "(" + strings.ToLower(id) + ")", cols: []string{pk}}, true, nil
		}
	}
	key, ok := d.schema.AlternateKeyOf(t.set, fields)
	if !ok {
		return address{}, false, nil
	}
	parts := make([]string, len(key))
	for i, col := range key {
		f, _ := t.obj.Field(col) // alternate keys name fields (checked by the loader)
		lit, err := d.literal(t, f, col, fields[col])
		if err != nil {
			return address{}, false, permanent("%s: alternate key %s: %v", t.set, col, err)
		}
		parts[i] = col + "=" + lit
	}
	return address{path: t.set + "(" + strings.Join(parts, ",") + ")", cols: key}, true, nil
}

// Write performs w (see the package doc): Upsert PATCHes the row's
// address, Create PATCHes it with If-None-Match: * (or POSTs when the row
// has no address and the write no key), Update reads the row's ETag and
// PATCHes with If-Match.
func (d *Driver) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	t, err := d.table(w.Entity)
	if err != nil {
		return nil, err
	}
	addr, named, err := d.addressOf(t, w.Fields)
	if err != nil {
		return nil, err
	}
	switch w.Op {
	case erp.Create, erp.Upsert, erp.Update:
	default:
		return nil, permanent("unknown write op %q", w.Op)
	}
	if !named {
		if w.Op != erp.Create || w.Key != "" {
			return nil, permanent("%s %s: the write sets neither %s nor an alternate key (%s): a retry after a crash could not find the row",
				w.Op, t.set, cmpOr(t.primaryKey(), "the primary key"), strings.Join(d.schema.SortedAlternateKeys(t.set), "; "))
		}
		body, err := d.encodeBody(t, w.Fields, nil)
		if err != nil {
			return nil, permanent("POST %s: %v", t.set, err)
		}
		return d.writeAt(ctx, t, http.MethodPost, t.set, body, nil, "POST "+t.set)
	}
	body, err := d.encodeBody(t, w.Fields, addr.cols)
	if err != nil {
		return nil, permanent("PATCH %s: %v", t.set, err)
	}
	what := "PATCH " + addr.path
	switch w.Op {
	case erp.Upsert:
		return d.writeAt(ctx, t, http.MethodPatch, addr.path, body, nil, what)
	case erp.Create:
		rec, err := d.writeAt(ctx, t, http.MethodPatch, addr.path, body, http.Header{"If-None-Match": {"*"}}, what)
		var e *erp.Error
		if asError(err, &e) && e.Status == http.StatusPreconditionFailed {
			e.Kind = erp.Permanent
			e.Message = what + ": the row already exists (create with If-None-Match: *): " + e.Message
		}
		return rec, err
	}
	return d.update(ctx, t, addr, body)
}

// update PATCHes the row under If-Match: its ETag. When Dataverse says the
// row changed since it was read (412), the row is read again and the
// patch sent once more; a second conflict is returned (Transient), never
// overwritten with If-Match: *.
func (d *Driver) update(ctx context.Context, t table, addr address, body []byte) (erp.Record, error) {
	what := "PATCH " + addr.path
	for attempt := 0; ; attempt++ {
		cur, found, err := d.get(ctx, t, addr.path)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, permanent("update %s: no row %s", t.set, addr.path)
		}
		if cur.etag == "" {
			return nil, permanent("%s: the row came without an @odata.etag", what)
		}
		rec, err := d.writeAt(ctx, t, http.MethodPatch, addr.path, body, http.Header{"If-Match": {cur.etag}}, what)
		var e *erp.Error
		if !asError(err, &e) || e.Status != http.StatusPreconditionFailed {
			return rec, err
		}
		if attempt > 0 {
			e.Kind = erp.Transient // the row keeps changing: try later
			return nil, e
		}
	}
}

// writeAt sends one write and decodes the row it returns.
func (d *Driver) writeAt(ctx context.Context, t table, method, path string, body []byte, extra http.Header, what string) (erp.Record, error) {
	h := writeHeader()
	for k, v := range extra {
		h[k] = v
	}
	a, err := d.send(ctx, method, d.service+"/"+path, h, body)
	if err != nil {
		return nil, err
	}
	switch a.status {
	case http.StatusOK, http.StatusCreated:
		rec, _, err := d.decodeRecord(t, a.body)
		if err != nil {
			return nil, protocol(what, a, "%v", err)
		}
		if pk := t.primaryKey(); pk != "" {
			if id, _ := rec[pk].(string); !guidPattern.MatchString(id) {
				return nil, protocol(what, a, "the row written has no %s GUID", pk)
			}
		}
		return rec, nil
	case http.StatusNoContent: // return=representation ignored: read the row
		loc := a.header.Get("OData-EntityId")
		if method == http.MethodPost && loc == "" {
			return nil, protocol(what, a, "204 without an OData-EntityId header")
		}
		if loc != "" {
			if !strings.HasPrefix(loc, d.service+"/") {
				return nil, protocol(what, a, "OData-EntityId %q is off the service", loc)
			}
			path = strings.TrimPrefix(loc, d.service+"/")
		}
		s, found, err := d.get(ctx, t, path)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, protocol(what, a, "the row written is not there")
		}
		return s.rec, nil
	}
	return nil, d.failure(what, a)
}

// get reads one row by its address; found is false on a 404.
func (d *Driver) get(ctx context.Context, t table, path string) (stored, bool, error) {
	what := "GET " + path
	a, err := d.send(ctx, http.MethodGet, d.service+"/"+path+"?$select="+queryEscape(d.columns(t)), nil, nil)
	if err != nil {
		return stored{}, false, err
	}
	if a.status == http.StatusNotFound {
		return stored{}, false, nil
	}
	if a.status != http.StatusOK {
		return stored{}, false, d.failure(what, a)
	}
	rec, etag, err := d.decodeRecord(t, a.body)
	if err != nil {
		return stored{}, false, protocol(what, a, "%v", err)
	}
	if etag == "" {
		etag = a.header.Get("ETag")
	}
	return stored{rec, etag}, true, nil
}

// Find returns the row an earlier attempt of w wrote: by its primary key
// or alternate key, which every write the driver accepts names (a create
// without either and without a key is not found).
func (d *Driver) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	t, err := d.table(w.Entity)
	if err != nil {
		return nil, false, err
	}
	addr, named, err := d.addressOf(t, w.Fields)
	if err != nil || !named {
		return nil, false, err
	}
	s, found, err := d.get(ctx, t, addr.path)
	if err != nil || !found {
		return nil, false, err
	}
	return s.rec, true, nil
}

// PostJournal is refused: Dataverse has no general ledger.
func (d *Driver) PostJournal(ctx context.Context, j erp.Journal) (erp.Record, []erp.Record, error) {
	return nil, nil, permanent("Dataverse has no general ledger: journal %s cannot be posted (post it to Finance & Operations or Business Central)", j.Key)
}

func writeHeader() http.Header {
	return http.Header{
		"Content-Type": {"application/json; charset=utf-8"},
		"Prefer":       {"return=representation"},
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
