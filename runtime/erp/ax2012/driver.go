package ax2012

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
)

// Config configures a Driver.
type Config struct {
	// BaseURL is the AIF HTTP adapter's root,
	// "http://aos.contoso.com/MicrosoftDynamicsAXAif60"; a service is at
	// BaseURL/<port>/xppservice.svc.
	BaseURL string
	// Port is the inbound port that exposes the services; Ports names
	// another one per service (external name -> port).
	Port  string
	Ports map[string]string
	// Services renames a service (standard external name -> the name the
	// port exposes), for ports that customized them.
	Services map[string]string

	Company      string // CallContext Company (dataAreaId); "" = the user's default
	Language     string // CallContext Language; "" = AX's default (en-us)
	LogonAsUser  string // CallContext LogonAsUser, domain\user; "" = the caller
	PartitionKey string // CallContext PartitionKey (R2+); "" = the user's default

	// Username and Password, when set, authenticate with HTTP Basic (IIS
	// Basic authentication over TLS). For NTLM or Kerberos, give an
	// HTTPClient whose transport negotiates it.
	Username, Password string
	SOAPVersion        aif.Version // SOAP11 (basicHttpBinding, the default) or SOAP12
	HTTPClient         *http.Client
	Timeout            time.Duration // per request; 0 = 60s
}

// Driver is the AX 2012 AIF driver. It is safe for concurrent use.
type Driver struct {
	cfg    Config
	client *http.Client
	tables map[string]*ax2012.Table
}

var _ erp.Driver = (*Driver)(nil)

// New checks cfg and returns a driver; it does no I/O.
func New(cfg Config) (*Driver, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ax2012: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Port == "" && len(cfg.Ports) == 0 {
		return nil, fmt.Errorf("ax2012: no inbound port: set Port (or Ports per service)")
	}
	if cfg.SOAPVersion != aif.SOAP11 && cfg.SOAPVersion != aif.SOAP12 {
		return nil, fmt.Errorf("ax2012: unknown SOAP version %d", cfg.SOAPVersion)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &Driver{cfg: cfg, client: client, tables: ax2012.Tables()}, nil
}

// service is the external name a port exposes for a standard service.
func (d *Driver) service(std string) string {
	if s := d.cfg.Services[std]; s != "" {
		return s
	}
	return std
}

// endpoint is the URL of a service (by its standard external name).
func (d *Driver) endpoint(service string) string {
	port := d.cfg.Port
	for std, name := range d.cfg.Services {
		if name == service {
			service = std
		}
	}
	if p := d.cfg.Ports[service]; p != "" {
		port = p
	}
	return d.cfg.BaseURL + "/" + url.PathEscape(port) + "/xppservice.svc"
}

func (d *Driver) table(name string) (*ax2012.Table, error) {
	t, ok := d.tables[name]
	if !ok {
		names := make([]string, 0, len(d.tables))
		for n := range d.tables {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, &erp.Error{Kind: erp.Permanent, Message: fmt.Sprintf("ax2012: unknown table %q (known: %s)", name, strings.Join(names, ", "))}
	}
	return t, nil
}

func permanent(format string, args ...any) *erp.Error {
	return &erp.Error{Kind: erp.Permanent, Message: "ax2012: " + fmt.Sprintf(format, args...)}
}

// doc is one root record read from AX, with its children.
type doc struct {
	rec      erp.Record
	hash     string
	children map[string][]erp.Record
}

// find runs the service's find operation with one criterion and returns
// the root records (with their children) it answers.
func (d *Driver) find(ctx context.Context, root *ax2012.Table, crit aif.Criterion) ([]doc, error) {
	c := call{service: d.service(root.Service), op: "find", body: func(w *aif.Writer) {
		w.Start(ax2012.ServicesNS, aif.Wrapper(d.service(root.Service), "find", "Request"))
		aif.WriteQueryCriteria(w, []aif.Criterion{crit})
		w.End(aif.Wrapper(d.service(root.Service), "find", "Request"))
	}}
	body, err := d.do(ctx, c)
	if err != nil {
		if notFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if body.Child(root.Document) == nil { // nothing found: an empty response
		return nil, nil
	}
	return decodeDocs(c, root, body)
}

// read runs the service's read operation for one key.
func (d *Driver) read(ctx context.Context, root *ax2012.Table, key string) (doc, bool, error) {
	c := call{service: d.service(root.Service), op: "read", body: func(w *aif.Writer) {
		w.Start(ax2012.ServicesNS, aif.Wrapper(d.service(root.Service), "read", "Request"))
		aif.WriteEntityKeyList(w, [][]aif.KeyField{{{Field: root.Key, Value: key}}})
		w.End(aif.Wrapper(d.service(root.Service), "read", "Request"))
	}}
	body, err := d.do(ctx, c)
	if err != nil {
		if notFound(err) {
			return doc{}, false, nil
		}
		return doc{}, false, err
	}
	docs, err := decodeDocs(c, root, body)
	if err != nil {
		return doc{}, false, err
	}
	for _, dc := range docs {
		if sameValue(dc.rec[root.Key], key) {
			return dc, true, nil
		}
	}
	return doc{}, false, nil
}

// notFound recognizes AX's read and find faults for keys that match
// nothing ("No valid document identified from the entity key").
func notFound(err error) bool {
	e, ok := err.(*erp.Error)
	if !ok || e.Kind != erp.Permanent || e.Status == 0 {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "no valid document identified") || strings.Contains(m, "does not exist")
}

func decodeDocs(c call, root *ax2012.Table, body *aif.Node) ([]doc, error) {
	ents, err := aif.ReadDocument(body, root)
	if err != nil {
		return nil, protocol(c, http.StatusOK, "%v", err)
	}
	out := make([]doc, 0, len(ents))
	for _, e := range ents {
		rec, err := decodeEntity(root, e)
		if err != nil {
			return nil, protocol(c, http.StatusOK, "%v", err)
		}
		dc := doc{rec: rec, hash: e.Hash, children: map[string][]erp.Record{}}
		for _, ct := range ax2012.Children(root.Name) {
			for _, ce := range e.Children[ct.Name] {
				crec, err := decodeEntity(ct, ce)
				if err != nil {
					return nil, protocol(c, http.StatusOK, "%v", err)
				}
				if _, set := crec[ct.Link]; !set {
					crec[ct.Link] = rec[root.Key]
				}
				dc.children[ct.Name] = append(dc.children[ct.Name], crec)
			}
		}
		out = append(out, dc)
	}
	return out, nil
}

// Lookup returns the first record of entity whose fields equal where. AIF
// joins a QueryCriteria's elements with OR, so the driver asks for one
// condition (the key, else the anchor, else the first by name) and checks
// the rest itself.
func (d *Driver) Lookup(ctx context.Context, entity string, where erp.Record) (erp.Record, bool, error) {
	t, err := d.table(entity)
	if err != nil {
		return nil, false, err
	}
	recs, err := d.lookup(ctx, t, where, 1)
	if err != nil || len(recs) == 0 {
		return nil, false, err
	}
	return recs[0], true, nil
}

// Query returns every record of entity whose fields equal where (AIF's
// find takes one criterion; the others are matched here). AX needs at
// least one condition.
func (d *Driver) Query(ctx context.Context, entity string, where erp.Record) ([]erp.Record, error) {
	t, err := d.table(entity)
	if err != nil {
		return nil, err
	}
	return d.lookup(ctx, t, where, 0)
}

func (d *Driver) lookup(ctx context.Context, t *ax2012.Table, where erp.Record, limit int) ([]erp.Record, error) {
	if len(where) == 0 {
		return nil, permanent("lookup in %s: no condition", t.Name)
	}
	texts, err := encodeWhere(t, where)
	if err != nil {
		return nil, permanent("lookup in %s: %v", t.Name, err)
	}
	pick := ""
	for _, cand := range []string{t.Key, t.Link, t.Anchor} {
		if _, ok := texts[cand]; ok && cand != "" {
			pick = cand
			break
		}
	}
	if pick == "" {
		names := make([]string, 0, len(texts))
		for n := range texts {
			names = append(names, n)
		}
		sort.Strings(names)
		pick = names[0]
	}
	root := t
	if t.Parent != "" {
		root = d.tables[t.Parent]
	}
	f, _ := t.Field(pick)
	crit := aif.Criterion{DataSource: t.Name, Field: pick, Operator: "Equal", Value1: texts[pick]}
	if p := f.ElementPath(); len(p) == 2 {
		crit.DataSource, crit.Field = p[0], p[1] // a flattened child entity's field
	}
	if t.Parent != "" && pick == t.Link {
		crit = aif.Criterion{DataSource: root.Name, Field: root.Key, Operator: "Equal", Value1: texts[pick]}
	}
	docs, err := d.find(ctx, root, crit)
	if err != nil {
		return nil, err
	}
	var out []erp.Record
	for _, dc := range docs {
		cands := []erp.Record{dc.rec}
		if t.Parent != "" {
			cands = dc.children[t.Name]
		}
		for _, r := range cands {
			if matches(r, where) {
				out = append(out, r)
				if limit > 0 && len(out) >= limit {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func matches(r, where erp.Record) bool {
	for k, v := range where {
		if v == nil {
			if _, set := r[k]; set {
				return false
			}
			continue
		}
		if !sameValue(r[k], v) {
			return false
		}
	}
	return true
}
