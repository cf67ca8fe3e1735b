package d365fo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/odata"
	"github.com/flowhq/flow/stdlib/d365fo"
	"github.com/flowhq/flow/stdlib/schema"
)

// Config configures a Driver.
type Config struct {
	BaseURL      string // environment URL, "https://contoso.operations.dynamics.com"; OData is at BaseURL+"/data"
	TokenURL     string // "https://login.microsoftonline.com/<tenant>/oauth2/token"; "" sends no token
	ClientID     string
	ClientSecret string
	Resource     string // token resource; "" = BaseURL
	Company      string // dataAreaId written and looked up; "" = the user's default company
	HTTPClient   *http.Client
	Timeout      time.Duration     // per request, token requests included; 0 = 60s
	Entities     *schema.Connector // nil = stdlib/d365fo.Default()
	// Anchors overrides the field that stores the idempotency key of an
	// entity set (see the package doc).
	Anchors map[string]string
	// EnumTypes names the enum type of enum fields used in Lookup filters
	// (field name -> "LedgerJournalACType"); No/Yes enums need no entry.
	EnumTypes map[string]string
	Now       func() time.Time // clock for token expiry and Retry-After dates; nil = time.Now
}

// Driver is the F&O OData driver. It is safe for concurrent use.
type Driver struct {
	cfg      Config
	service  string // BaseURL + "/data"
	client   *http.Client
	entities *schema.Connector
	journals map[string]*schema.Journal // by header entity set
	anchors  map[string]anchor
	tokens   *odata.TokenSource // nil when TokenURL is ""
	now      func() time.Time
}

var _ erp.Driver = (*Driver)(nil)

// New checks cfg and returns a driver; it does no I/O.
func New(cfg Config) (*Driver, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("d365fo: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Resource == "" {
		cfg.Resource = cfg.BaseURL
	}
	if cfg.Entities == nil {
		cfg.Entities = d365fo.Default()
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
	cfg.Company = strings.ToLower(cfg.Company)
	anchors, err := anchorFields(cfg.Entities, cfg.Anchors)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:      cfg,
		service:  cfg.BaseURL + "/data",
		client:   client,
		entities: cfg.Entities,
		journals: map[string]*schema.Journal{},
		anchors:  anchors,
		now:      cfg.Now,
	}
	for _, j := range d365fo.WithJournals(cfg.Entities).Journals {
		d.journals[j.Header] = j
	}
	if cfg.TokenURL != "" {
		if u, err := url.Parse(cfg.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("d365fo: TokenURL %q is not an http(s) URL", cfg.TokenURL)
		}
		d.tokens = &odata.TokenSource{URL: cfg.TokenURL, ClientID: cfg.ClientID, Secret: cfg.ClientSecret,
			Resource: cfg.Resource, Client: client, Timeout: cfg.Timeout, Now: cfg.Now}
	}
	return d, nil
}

// WithEntities returns a driver for the same environment, company and
// credentials (sharing the token) that serves the entity sets of c: a
// tenant's own $metadata with its extension fields, as an import names it
// (metadata: "tenant.edmx.xml").
func (d *Driver) WithEntities(c *schema.Connector) (erp.Driver, error) {
	anchors, err := anchorFields(c, d.cfg.Anchors)
	if err != nil {
		return nil, err
	}
	nd := &Driver{cfg: d.cfg, service: d.service, client: d.client, entities: c, journals: map[string]*schema.Journal{},
		anchors: anchors, tokens: d.tokens, now: d.now}
	nd.cfg.Entities = c
	for _, j := range d365fo.WithJournals(c).Journals {
		nd.journals[j.Header] = j
	}
	return nd, nil
}

// entity returns the schema of an entity set.
func (d *Driver) entity(set string) (*schema.Object, error) {
	obj, ok := d.entities.Entities[set]
	if !ok {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: unknown entity set %q", set)}
	}
	return obj, nil
}

// hasCompany reports whether records of obj belong to a company.
func hasCompany(obj *schema.Object) bool {
	_, ok := obj.Field("dataAreaId")
	return ok
}

// Lookup returns the first record of entity whose fields equal where, in
// the configured company.
func (d *Driver) Lookup(ctx context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	obj, err := d.entity(entity)
	if err != nil {
		return nil, false, err
	}
	recs, err := d.query(ctx, entity, obj, where, nil, 1)
	if err != nil || len(recs) == 0 {
		return nil, false, err
	}
	return recs[0], true, nil
}

// Query returns every record of entity whose fields equal where, reading
// every page (@odata.nextLink).
func (d *Driver) Query(ctx context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	obj, err := d.entity(entity)
	if err != nil {
		return nil, err
	}
	return d.query(ctx, entity, obj, where, nil, 0)
}

// QueryRange returns every record of entity whose fields equal where and
// satisfy ranges, compared by F&O ($filter le, gt, ...).
func (d *Driver) QueryRange(ctx context.Context, entity string, where erp.Record, ranges []erp.Range) ([]erp.Record, error) {
	obj, err := d.entity(entity)
	if err != nil {
		return nil, err
	}
	return d.query(ctx, entity, obj, where, ranges, 0)
}

// query GETs the records of entity matching where and ranges; top 0
// means all pages.
func (d *Driver) query(ctx context.Context, entity string, obj *schema.Object, where erp.Record, ranges []erp.Range, top int) ([]erp.Record, error) {
	filter, err := d.filter(obj, where, ranges)
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: lookup in %s: %v", entity, err)}
	}
	var q []string
	if filter != "" {
		q = append(q, "$filter="+queryEscape(filter))
	}
	if top > 0 {
		q = append(q, fmt.Sprintf("$top=%d", top))
	}
	if d.cfg.Company != "" && hasCompany(obj) {
		q = append(q, "cross-company=true")
	}
	next := d.service + "/" + entity
	if len(q) > 0 {
		next += "?" + strings.Join(q, "&")
	}
	var out []erp.Record
	what := "GET " + entity
	err = d.pages(ctx, next, what, func(raw json.RawMessage) (bool, error) {
		rec, err := decodeRecord(obj, raw)
		if err != nil {
			return false, err
		}
		out = append(out, rec)
		return top > 0 && len(out) >= top, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// filter renders where (and the company) as a $filter, fields sorted.
func (d *Driver) filter(obj *schema.Object, where erp.Record, ranges []erp.Range) (string, error) {
	var first []string
	if _, set := where["dataAreaId"]; !set && d.cfg.Company != "" && hasCompany(obj) {
		first = append(first, "dataAreaId eq "+quote(d.cfg.Company))
	}
	return odata.Filter(first, where, ranges, func(name string, v any, _ bool) (string, string, error) {
		f, ok := obj.Field(name)
		if !ok {
			return "", "", fmt.Errorf("%s has no field %q", obj.ShortName(), name)
		}
		lit, err := d.literal(f, v)
		if err != nil {
			return "", "", fmt.Errorf("field %s: %w", name, err)
		}
		return name, lit, nil
	})
}

// queryEscape escapes a query value with %20 for spaces, which every OData
// server reads the same way.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Write performs w: Create POSTs, Update PATCHes by the natural key, Upsert
// looks the record up (by natural key, else by the idempotency anchor) and
// does one or the other.
func (d *Driver) Write(ctx context.Context, w erp.Write) (erp.Record, error) {
	obj, err := d.entity(w.Entity)
	if err != nil {
		return nil, err
	}
	fields := d.withCompany(obj, w.Fields)
	switch w.Op {
	case erp.Create:
		return d.create(ctx, w, obj, fields)
	case erp.Update:
		return d.update(ctx, w.Entity, obj, fields)
	case erp.Upsert:
		var existing erp.Record
		var found bool
		if _, ok := naturalKey(obj, fields); ok {
			// Most upserts create: try that in one request, and update
			// when F&O says the record already exists.
			rec, err := d.create(ctx, w, obj, fields)
			if !alreadyExists(err) {
				return rec, err
			}
			return d.update(ctx, w.Entity, obj, fields)
		} else if w.Key != "" {
			existing, found, err = d.findAnchored(ctx, w.Entity, w.Key)
		}
		if err != nil {
			return nil, err
		}
		if !found {
			return d.create(ctx, w, obj, fields)
		}
		for _, k := range obj.Keys { // address the record found
			fields[k] = existing[k]
		}
		return d.update(ctx, w.Entity, obj, fields)
	}
	return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: unknown write op %q", w.Op)}
}

// alreadyExists reports F&O's answer to a create of an existing key:
// "Cannot create a record in <table> (<name>). <key>. The record already exists."
func alreadyExists(err error) bool {
	var e *erp.Error
	return errors.As(err, &e) && e.Kind == erp.Permanent && strings.Contains(e.Message, "The record already exists.")
}

// withCompany copies fields, adding dataAreaId when the driver has a company.
func (d *Driver) withCompany(obj *schema.Object, fields erp.Record) erp.Record {
	out := make(erp.Record, len(fields)+2)
	for k, v := range fields {
		out[k] = v
	}
	if _, set := out["dataAreaId"]; !set && d.cfg.Company != "" && hasCompany(obj) {
		out["dataAreaId"] = d.cfg.Company
	}
	return out
}

// create POSTs fields, anchored with the write's key.
func (d *Driver) create(ctx context.Context, w erp.Write, obj *schema.Object, fields erp.Record) (erp.Record, error) {
	if err := d.anchor(w, obj, fields); err != nil {
		return nil, err
	}
	what := "POST " + w.Entity
	body, err := encodeBody(obj, fields)
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: %s: %v", what, err)}
	}
	a, err := d.send(ctx, http.MethodPost, d.service+"/"+w.Entity, jsonHeader(), body)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return nil, d.failure(what, a)
	}
	rec, err := decodeRecord(obj, a.body)
	if err != nil {
		return nil, protocol(what, a, "%v", err)
	}
	return rec, nil
}

// update PATCHes the record that fields' key names.
func (d *Driver) update(ctx context.Context, entity string, obj *schema.Object, fields erp.Record) (erp.Record, error) {
	pred, err := d.keyPredicate(obj, fields)
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: update %s: %v", entity, err)}
	}
	what := "PATCH " + entity
	body, err := encodeBody(obj, fields)
	if err != nil {
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("d365fo: %s: %v", what, err)}
	}
	h := jsonHeader()
	h.Set("Prefer", "return=representation")
	a, err := d.send(ctx, http.MethodPatch, d.service+"/"+entity+"("+pred+")", h, body)
	if err != nil {
		return nil, err
	}
	switch a.status {
	case http.StatusNoContent: // the server ignored the Prefer header
		return fields, nil
	case http.StatusOK:
		rec, err := decodeRecord(obj, a.body)
		if err != nil {
			return nil, protocol(what, a, "%v", err)
		}
		return rec, nil
	}
	return nil, d.failure(what, a)
}

// keyPredicate renders the full key of fields for a URL:
// dataAreaId='usmf',CustomerAccount='US-001'.
func (d *Driver) keyPredicate(obj *schema.Object, fields erp.Record) (string, error) {
	parts := make([]string, 0, len(obj.Keys))
	for _, k := range obj.Keys {
		v, ok := fields[k]
		if !ok || v == nil || v == "" {
			return "", fmt.Errorf("the fields do not set the key field %s (key: %s)", k, strings.Join(obj.Keys, ", "))
		}
		f, _ := obj.Field(k) // keys are fields
		lit, err := d.literal(f, v)
		if err != nil {
			return "", fmt.Errorf("key field %s: %w", k, err)
		}
		parts = append(parts, k+"="+lit)
	}
	return keyEscaper.Replace(url.PathEscape(strings.Join(parts, ","))), nil
}

// keyEscaper keeps quotes and commas of a key predicate readable, as F&O's
// own URLs write them: /data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001').
var keyEscaper = strings.NewReplacer("%27", "'", "%2C", ",")

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; odata.metadata=minimal"}}
}
