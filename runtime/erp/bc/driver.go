package bc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	bcschema "github.com/flowhq/flow/stdlib/bc"
	"github.com/flowhq/flow/stdlib/schema"
)

// DefaultScope is the token scope of Business Central online.
const DefaultScope = "https://api.businesscentral.dynamics.com/.default"

// Config configures a Driver.
type Config struct {
	// BaseURL is the API root, without a trailing slash:
	// https://api.businesscentral.dynamics.com/v2.0/<tenant>/<environment>/api/v2.0
	// (on premises https://host:7048/<instance>/api/v2.0).
	BaseURL string
	// TokenURL is the Entra v2.0 token endpoint,
	// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token; "" sends
	// no token.
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string // "" = DefaultScope
	// Company is the company to write to, by name or id (a GUID); a name is
	// resolved with GET /companies on first use.
	Company    string
	HTTPClient *http.Client
	Timeout    time.Duration     // per request, token requests included; 0 = 60s
	Entities   *schema.Connector // nil = stdlib/bc.Default()
	Now        func() time.Time  // clock for token expiry and Retry-After dates; nil = time.Now
}

// Driver is the Business Central API v2.0 driver. It is safe for
// concurrent use.
type Driver struct {
	cfg      Config
	service  string // BaseURL
	client   *http.Client
	entities *schema.Connector
	tokens   *odata.TokenSource // nil when TokenURL is ""
	now      func() time.Time

	mu        sync.Mutex
	companyID string // resolved from cfg.Company
}

var _ erp.Driver = (*Driver)(nil)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// New checks cfg and returns a driver; it does no I/O.
func New(cfg Config) (*Driver, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bc: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	if strings.TrimSpace(cfg.Company) == "" {
		return nil, errors.New("bc: Company (a company name or id) is required")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.Entities == nil {
		cfg.Entities = bcschema.Default()
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
	d := &Driver{cfg: cfg, service: cfg.BaseURL, client: client, entities: cfg.Entities, now: cfg.Now}
	if guidPattern.MatchString(cfg.Company) {
		d.companyID = strings.ToLower(cfg.Company)
	}
	if cfg.TokenURL != "" {
		if u, err := url.Parse(cfg.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("bc: TokenURL %q is not an http(s) URL", cfg.TokenURL)
		}
		d.tokens = &odata.TokenSource{URL: cfg.TokenURL, ClientID: cfg.ClientID, Secret: cfg.ClientSecret,
			Scope: cfg.Scope, Client: client, Timeout: cfg.Timeout, Now: cfg.Now}
	}
	return d, nil
}

func permanent(format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Message: "bc: " + fmt.Sprintf(format, args...)}
}

// company returns the company's URL, resolving a company name once.
func (d *Driver) company(ctx context.Context) (string, error) {
	d.mu.Lock()
	id := d.companyID
	d.mu.Unlock()
	if id == "" {
		u := d.service + "/companies?$filter=" + queryEscape("name eq "+odata.Quote(d.cfg.Company))
		a, err := d.send(ctx, http.MethodGet, u, nil, nil)
		if err != nil {
			return "", err
		}
		if a.status != http.StatusOK {
			return "", d.failure("GET companies", a)
		}
		var page struct {
			Value []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"value"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil || page.Value == nil {
			return "", protocol("GET companies", a, "want a JSON object with a value array, got %s", odata.FirstLine("nothing", a.body))
		}
		if len(page.Value) == 0 {
			return "", permanent("no company named %q", d.cfg.Company)
		}
		if !guidPattern.MatchString(page.Value[0].ID) {
			return "", protocol("GET companies", a, "company id %q is not a GUID", page.Value[0].ID)
		}
		id = strings.ToLower(page.Value[0].ID)
		d.mu.Lock()
		d.companyID = id
		d.mu.Unlock()
	}
	return d.service + "/companies(" + id + ")", nil
}

// entity returns the schema of an entity set.
func (d *Driver) entity(set string) (*schema.Object, error) {
	obj, ok := d.entities.Entities[set]
	if !ok {
		return nil, permanent("unknown entity set %q", set)
	}
	return obj, nil
}

// collection returns the URL of set's collection: under its parent when
// the set has one and fields name it (journals(<id>)/journalLines), else
// under the company.
func (d *Driver) collection(ctx context.Context, set string, fields erp.Record) (string, error) {
	company, err := d.company(ctx)
	if err != nil {
		return "", err
	}
	if p, ok := bcschema.Parents[set]; ok {
		if id, _ := fields[p.Field].(string); id != "" {
			if !guidPattern.MatchString(id) {
				return "", permanent("%s: %s %q is not a GUID", set, p.Field, id)
			}
			return company + "/" + p.Set + "(" + strings.ToLower(id) + ")/" + set, nil
		}
	}
	return company + "/" + set, nil
}

// Lookup returns the first record of entity whose fields equal where.
func (d *Driver) Lookup(ctx context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	recs, err := d.query(ctx, entity, where, 1)
	if err != nil || len(recs) == 0 {
		return nil, false, err
	}
	return recs[0].rec, true, nil
}

// Query returns every record of entity whose fields equal where, reading
// every page (@odata.nextLink).
func (d *Driver) Query(ctx context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	return d.QueryRange(ctx, entity, where, nil)
}

// QueryRange returns every record of entity whose fields equal where and
// satisfy ranges, compared by Business Central ($filter le, gt, ...).
func (d *Driver) QueryRange(ctx context.Context, entity string, where erp.Record, ranges []erp.Range) ([]erp.Record, error) {
	recs, err := d.queryRange(ctx, entity, where, ranges, 0)
	if err != nil {
		return nil, err
	}
	out := make([]erp.Record, len(recs))
	for i, r := range recs {
		out[i] = r.rec
	}
	return out, nil
}

// stored is a record and its ETag.
type stored struct {
	rec  erp.Record
	etag string
}

// query GETs the records of entity matching where, following
// @odata.nextLink; top 0 means every page.
func (d *Driver) query(ctx context.Context, entity string, where erp.Record, top int) ([]stored, error) {
	return d.queryRange(ctx, entity, where, nil, top)
}

// queryRange is query with comparisons too.
func (d *Driver) queryRange(ctx context.Context, entity string, where erp.Record, ranges []erp.Range, top int) ([]stored, error) {
	obj, err := d.entity(entity)
	if err != nil {
		return nil, err
	}
	coll, err := d.collection(ctx, entity, where)
	if err != nil {
		return nil, err
	}
	rest := erp.Record{}
	for k, v := range where {
		if p, ok := bcschema.Parents[entity]; ok && k == p.Field && strings.Contains(coll, "/"+p.Set+"(") {
			continue // the URL names the parent
		}
		rest[k] = v
	}
	filter, err := d.filter(entity, obj, rest, ranges)
	if err != nil {
		return nil, permanent("lookup in %s: %v", entity, err)
	}
	var q []string
	if filter != "" {
		q = append(q, "$filter="+queryEscape(filter))
	}
	if top > 0 {
		q = append(q, fmt.Sprintf("$top=%d", top))
	}
	next := coll
	if len(q) > 0 {
		next += "?" + strings.Join(q, "&")
	}
	what := "GET " + entity
	var out []stored
	err = d.pages(ctx, next, what, func(raw json.RawMessage) (bool, error) {
		rec, etag, err := decodeRecord(entity, obj, raw)
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

// filter renders where as a $filter, fields sorted.
func (d *Driver) filter(set string, obj *schema.Object, where erp.Record, ranges []erp.Range) (string, error) {
	return odata.Filter(nil, where, ranges, func(name string, v any, _ bool) (string, string, error) {
		f, ok := obj.Field(name)
		if !ok {
			return "", "", fmt.Errorf("%s has no field %q", set, name)
		}
		lit, err := literal(set, f, v)
		if err != nil {
			return "", "", fmt.Errorf("field %s: %w", name, err)
		}
		return name, lit, nil
	})
}

// queryEscape escapes a query value with %20 for spaces.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Write performs w: Create POSTs (with the idempotency key in the
// entity's anchor field), Update PATCHes the record w names (by id or its
// number or code) with If-Match, Upsert finds the record (by id, number or
// code, else by the anchored key) and does one or the other.
func (d *Driver) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	obj, err := d.entity(w.Entity)
	if err != nil {
		return nil, err
	}
	if bcschema.ReadOnlySets[w.Entity] {
		return nil, permanent("%s is read-only", w.Entity)
	}
	fields := make(erp.Record, len(w.Fields)+1)
	for k, v := range w.Fields {
		if k == "id" && w.Op != erp.Create {
			continue // names the record; never sent
		}
		if bcschema.ReadOnly(w.Entity, k) {
			return nil, permanent("%s: field %s is read-only", w.Entity, k)
		}
		fields[k] = v
	}
	switch w.Op {
	case erp.Create:
		if _, set := w.Fields["id"]; set {
			return nil, permanent("%s: id is assigned by Business Central", w.Entity)
		}
		return d.create(ctx, w, obj, fields)
	case erp.Update, erp.Upsert:
		cur, found, err := d.existing(ctx, w)
		if err != nil {
			return nil, err
		}
		if found {
			return d.update(ctx, w.Entity, obj, cur, fields)
		}
		if w.Op == erp.Update {
			return nil, permanent("update %s: no record %s", w.Entity, describe(identity(w)))
		}
		return d.create(ctx, w, obj, fields)
	}
	return nil, permanent("unknown write op %q", w.Op)
}

// identity returns the fields that name w's record apart from the
// idempotency key: its id, else its number or code, else (a line) its
// parent and line number.
func identity(w erp.Write) erp.Record {
	if id, _ := w.Fields["id"].(string); id != "" {
		return erp.Record{"id": id}
	}
	if f := bcschema.Identities[w.Entity]; f != "" {
		if v, _ := w.Fields[f].(string); v != "" {
			return erp.Record{f: v}
		}
	}
	if p, ok := bcschema.Parents[w.Entity]; ok {
		for _, ln := range []string{"lineNumber", "sequence"} {
			if n, ok := w.Fields[ln]; ok && n != nil && w.Fields[p.Field] != nil {
				return erp.Record{p.Field: w.Fields[p.Field], ln: n}
			}
		}
	}
	return nil
}

func describe(r erp.Record) string {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Sprint(r)
	}
	return string(b)
}

// existing finds the record w names: by identity, else by its anchored
// key.
func (d *Driver) existing(ctx context.Context, w erp.Write) (stored, bool, error) {
	where := identity(w)
	if where == nil {
		a, ok := bcschema.Anchors[w.Entity]
		if !ok || w.Key == "" {
			return stored{}, false, nil
		}
		obj, _ := d.entity(w.Entity)
		where = erp.Record{a: anchorValue(obj, a, w.Key)}
		if p, ok := bcschema.Parents[w.Entity]; ok && w.Fields[p.Field] != nil {
			where[p.Field] = w.Fields[p.Field]
		}
	}
	recs, err := d.query(ctx, w.Entity, where, 1)
	if err != nil || len(recs) == 0 {
		return stored{}, false, err
	}
	return recs[0], true, nil
}

// anchorValue is what the anchor field holds for key: the key itself when
// it fits, else "fk-" and the first 16 hex digits of its SHA-256.
func anchorValue(obj *schema.Object, field, key string) string {
	n := 35 // Code[35], externalDocumentNumber's length
	if f, ok := obj.Field(field); ok && f.MaxLength > 0 {
		n = f.MaxLength
	}
	if utf8.RuneCountInString(key) <= n {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "fk-" + hex.EncodeToString(sum[:])[:16]
}

// create POSTs fields, anchored with the write's key. A create that BC
// could not settle after a crash (no number, code or line number, and no
// anchor field) is refused.
func (d *Driver) create(ctx context.Context, w erp.Write, obj *schema.Object, fields erp.Record) (erp.Record, error) {
	if w.Key != "" {
		if a, ok := bcschema.Anchors[w.Entity]; ok {
			v := anchorValue(obj, a, w.Key)
			if cur, set := fields[a]; set && cur != v && identity(w) == nil {
				return nil, permanent("%s: field %s holds the idempotency key and cannot be set by the flow (%v)", w.Entity, a, cur)
			} else if !set {
				fields[a] = v
			}
		} else if identity(w) == nil {
			return nil, permanent("%s: the write sets neither %s nor a line number, and the entity has no field for the idempotency key: a retry after a crash could not find it",
				w.Entity, cmpOr(bcschema.Identities[w.Entity], "a number"))
		}
	}
	coll, err := d.collection(ctx, w.Entity, fields)
	if err != nil {
		return nil, err
	}
	what := "POST " + w.Entity
	body, err := encodeBody(w.Entity, obj, fields)
	if err != nil {
		return nil, permanent("%s: %v", what, err)
	}
	a, err := d.send(ctx, http.MethodPost, coll, jsonHeader(), body)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return nil, d.failure(what, a)
	}
	rec, _, err := decodeRecord(w.Entity, obj, a.body)
	if err != nil {
		return nil, protocol(what, a, "%v", err)
	}
	return rec, nil
}

// update PATCHes cur with fields under If-Match: its ETag. When BC says
// another user changed the record (409 Request_EntityChanged), the record
// is read again and the patch sent once more with the new ETag; a second
// conflict is returned (Transient), never overwritten with If-Match: *.
func (d *Driver) update(ctx context.Context, entity string, obj *schema.Object, cur stored, fields erp.Record) (erp.Record, error) {
	what := "PATCH " + entity
	id, _ := cur.rec["id"].(string)
	if !guidPattern.MatchString(id) {
		return nil, permanent("%s: the record has no id", what)
	}
	coll, err := d.collection(ctx, entity, cur.rec)
	if err != nil {
		return nil, err
	}
	u := coll + "(" + strings.ToLower(id) + ")"
	body, err := encodeBody(entity, obj, fields)
	if err != nil {
		return nil, permanent("%s: %v", what, err)
	}
	etag := cur.etag
	for attempt := 0; ; attempt++ {
		if etag == "" {
			return nil, permanent("%s: the record came without an @odata.etag", what)
		}
		h := jsonHeader()
		h.Set("If-Match", etag)
		a, err := d.send(ctx, http.MethodPatch, u, h, body)
		if err != nil {
			return nil, err
		}
		switch a.status {
		case http.StatusOK:
			rec, _, err := decodeRecord(entity, obj, a.body)
			if err != nil {
				return nil, protocol(what, a, "%v", err)
			}
			return rec, nil
		case http.StatusNoContent:
			merged := erp.Record{}
			for k, v := range cur.rec {
				merged[k] = v
			}
			for k, v := range fields {
				merged[k] = v
			}
			return merged, nil
		}
		e := d.failure(what, a)
		if e.Code != "Request_EntityChanged" || attempt > 0 {
			return nil, e
		}
		fresh, err := d.get(ctx, entity, obj, u)
		if err != nil {
			return nil, err
		}
		etag = fresh.etag
	}
}

// get reads one record by its URL.
func (d *Driver) get(ctx context.Context, entity string, obj *schema.Object, u string) (stored, error) {
	what := "GET " + entity
	a, err := d.send(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return stored{}, err
	}
	if a.status != http.StatusOK {
		return stored{}, d.failure(what, a)
	}
	rec, etag, err := decodeRecord(entity, obj, a.body)
	if err != nil {
		return stored{}, protocol(what, a, "%v", err)
	}
	if etag == "" {
		etag = a.header.Get("ETag")
	}
	return stored{rec, etag}, nil
}

// Find returns the record an earlier attempt of w wrote: by its id,
// number or code, or line number when w sets one, else by the idempotency
// key in the anchor field (externalDocumentNumber).
func (d *Driver) Find(ctx context.Context, w erp.Write) (erp.Record, bool, error) {
	if _, err := d.entity(w.Entity); err != nil {
		return nil, false, err
	}
	s, found, err := d.existing(ctx, w)
	if err != nil || !found {
		return nil, false, err
	}
	return s.rec, true, nil
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}
