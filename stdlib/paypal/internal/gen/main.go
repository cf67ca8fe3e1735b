// Command gen writes stdlib/paypal's schema_gen.txt from PayPal's official
// OpenAPI specifications (copied into ./openapi, see its README.md): it
// walks the schemas reachable from the webhook event resources and the list
// elements, and writes objects, enums, events and their envelopes in the
// compact line format stdlib/paypal decodes (the same as stdlib/stripe's).
//
// Usage (from stdlib/paypal, via go generate):
//
//	go run ./internal/gen [-specs internal/gen/openapi] [-o schema_gen.txt]
//
// Typing rules: a Money's value (and an exchange rate's) is a decimal, never
// a float; date_time strings are timestamps; integers are ints; a string
// with an enum is an enum; an object is a struct, named after its schema
// (an inline one after its owner and property); allOf parts are merged; an
// object with no declared properties is dyn.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// specRepo is where the specifications come from.
const specRepo = "paypal/paypal-rest-api-specifications@ec4d8f36a6ab0abcc3865e1072aaddc85ea14d5c"

// specs, in naming order: a schema name already taken by a differently
// shaped object of an earlier spec gets the later spec's prefix.
var specs = []struct{ file, prefix string }{
	{"payments_payment_v2.json", "Payment"},
	{"reporting_transactions_v1.json", "Report"},
	{"customer_disputes_v1.json", "Dispute"},
	{"notifications_webhooks_v1.json", "Webhook"},
}

// root is a top-level object, named here rather than after its schema.
type root struct{ name, file, schema string }

var roots = []root{
	{"Capture", "payments_payment_v2.json", "capture-2"},
	{"Refund", "payments_payment_v2.json", "refund"},
	{"Authorization", "payments_payment_v2.json", "authorization-2"},
	{"Transaction", "reporting_transactions_v1.json", "transaction_detail"},
	{"Dispute", "customer_disputes_v1.json", "dispute"},
}

// event is a webhook event and the root its resource is. PayPal documents
// the event names and their resources on its "Webhook event names" page,
// not in the OpenAPI files; this is that table for the resources above.
type event struct{ name, subject string }

var events = []event{
	{"PAYMENT.AUTHORIZATION.CREATED", "Authorization"},
	{"PAYMENT.AUTHORIZATION.VOIDED", "Authorization"},
	{"PAYMENT.CAPTURE.COMPLETED", "Capture"},
	{"PAYMENT.CAPTURE.DECLINED", "Capture"},
	{"PAYMENT.CAPTURE.DENIED", "Capture"},
	{"PAYMENT.CAPTURE.PENDING", "Capture"},
	{"PAYMENT.CAPTURE.REFUNDED", "Refund"},
	// The reversal of a capture (a chargeback) carries a refund resource
	// (resource_type "refund", with seller_payable_breakdown).
	{"PAYMENT.CAPTURE.REVERSED", "Refund"},
	{"CUSTOMER.DISPUTE.CREATED", "Dispute"},
	{"CUSTOMER.DISPUTE.RESOLVED", "Dispute"},
	{"CUSTOMER.DISPUTE.UPDATED", "Dispute"},
}

// schemaNames name schemas whose own name says too little.
var schemaNames = map[string]string{
	"customer_disputes_v1.json#status": "DisputeStatus",
}

// decimalFields are string fields holding exact amounts, by schema.
var decimalFields = map[string]bool{"money.value": true, "exchange_rate.value": true}

// dateTimeSchemas are string schemas holding RFC 3339 times.
var dateTimeSchemas = map[string]bool{"date_time": true}

func main() {
	dir := flag.String("specs", filepath.Join("internal", "gen", "openapi"), "directory of the OpenAPI files")
	out := flag.String("o", "schema_gen.txt", "output file")
	flag.Parse()
	if err := run(*dir, *out, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string, log io.Writer) error {
	g := &gen{specs: map[string]*spec{}, names: map[string]string{}, objects: map[string]*object{}, enums: map[string][]string{}, enumKeys: map[string]string{}}
	var versions []string
	for _, s := range specs {
		sp, err := loadSpec(filepath.Join(dir, s.file), s.prefix)
		if err != nil {
			return err
		}
		g.specs[s.file] = sp
		versions = append(versions, strings.TrimSuffix(s.file, ".json")+" "+sp.version)
	}
	for _, r := range roots {
		if err := g.named(g.specs[r.file], r.schema, r.name); err != nil {
			return err
		}
	}
	if err := g.envelopes(); err != nil {
		return err
	}
	if g.err != nil {
		return g.err
	}
	g.prune()
	var buf bytes.Buffer
	g.write(&buf, specRepo+": "+strings.Join(versions, ", "))
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "gen: %d events, %d objects, %d enums, %d bytes\n", len(events), len(g.objects), len(g.enums), buf.Len())
	return nil
}

// spec is one OpenAPI document's schemas.
type spec struct {
	file, prefix, version string
	schemas               map[string]map[string]any
}

func loadSpec(path, prefix string) (*spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Info       struct{ Version string }
		Components struct {
			Schemas map[string]map[string]any
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &spec{file: filepath.Base(path), prefix: prefix, version: doc.Info.Version, schemas: doc.Components.Schemas}, nil
}

type field struct{ name, typ, doc string }

type object struct {
	name, doc string
	fields    []field
	shape     string // field names and types, to tell same-named objects apart
}

type gen struct {
	specs    map[string]*spec
	names    map[string]string // "<file>#<schema>" -> object name
	objects  map[string]*object
	enums    map[string][]string
	enumKeys map[string]string // "<file>#<schema>" -> enum name
	err      error
}

func (g *gen) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf(format, args...)
	}
}

// ref resolves a local $ref ("#/components/schemas/money").
func (sp *spec) ref(node map[string]any) (string, map[string]any, bool) {
	r, ok := node["$ref"].(string)
	if !ok {
		return "", nil, false
	}
	key, ok := strings.CutPrefix(r, "#/components/schemas/")
	if !ok {
		return "", nil, false
	}
	t, ok := sp.schemas[key]
	return key, t, ok
}

// isObject reports whether a schema is a record with declared properties.
func (sp *spec) isObject(node map[string]any) bool {
	if _, ok := node["properties"]; ok {
		return true
	}
	for _, part := range list(node["allOf"]) {
		p, _ := part.(map[string]any)
		if p == nil {
			continue
		}
		if _, t, ok := sp.ref(p); ok && sp.isObject(t) {
			return true
		}
		if sp.isObject(p) {
			return true
		}
	}
	return false
}

// named builds the object of a named schema under the given name ("" to
// derive it), unless it is built already.
func (g *gen) named(sp *spec, key, name string) error {
	id := sp.file + "#" + key
	if _, ok := g.names[id]; ok {
		return nil
	}
	node, ok := sp.schemas[key]
	if !ok {
		return fmt.Errorf("%s: no schema %s", sp.file, key)
	}
	if name == "" {
		name = camel(strings.TrimSuffix(key, "-2"))
	}
	if n, ok := schemaNames[id]; ok {
		name = n
	}
	o := g.build(sp, key, node, name)
	g.names[id] = o.name
	return g.err
}

// build makes an object from node and registers it under name, or under a
// prefixed name when name is taken by an object of another shape.
func (g *gen) build(sp *spec, key string, node map[string]any, name string) *object {
	fields := g.fields(sp, key, node, name)
	o := &object{name: name, doc: clean(str(node["description"])), fields: fields}
	var shape []string
	for _, f := range fields {
		shape = append(shape, f.name+" "+f.typ)
	}
	o.shape = strings.Join(shape, ",")
	if prev, ok := g.objects[name]; ok {
		if prev.shape == o.shape {
			return prev
		}
		if !strings.HasPrefix(name, sp.prefix) {
			return g.build(sp, key, node, sp.prefix+name)
		}
		g.fail("object %s: two shapes (%s)", name, sp.file)
		return o
	}
	g.objects[name] = o
	return o
}

// fields collects node's properties, merging allOf parts in order; each
// part's properties are sorted by name, as the JSON file's order is lost.
func (g *gen) fields(sp *spec, key string, node map[string]any, owner string) []field {
	var out []field
	index := map[string]int{}
	add := func(f field) {
		if i, ok := index[f.name]; ok {
			out[i] = f
			return
		}
		index[f.name] = len(out)
		out = append(out, f)
	}
	for _, part := range list(node["allOf"]) {
		p, _ := part.(map[string]any)
		if p == nil {
			continue
		}
		k, t := key, p
		if rk, rt, ok := sp.ref(p); ok {
			k, t = rk, rt
		}
		for _, f := range g.fields(sp, k, t, owner) {
			add(f)
		}
	}
	props, _ := node["properties"].(map[string]any)
	for _, name := range sortedKeys(props) {
		p, _ := props[name].(map[string]any)
		if p == nil {
			continue
		}
		doc := str(p["description"])
		typ := g.typeOf(sp, key, name, p, owner)
		if _, t, ok := sp.ref(p); ok && doc == "" {
			doc = str(t["description"])
		}
		add(field{name: name, typ: typ, doc: clean(doc)})
	}
	return out
}

// typeOf returns the line-format type of the property prop of schema key.
func (g *gen) typeOf(sp *spec, key, prop string, p map[string]any, owner string) string {
	if decimalFields[key+"."+prop] {
		return "decimal"
	}
	if rk, t, ok := sp.ref(p); ok {
		return g.schemaType(sp, rk, t)
	}
	if _, ok := p["allOf"]; ok || p["properties"] != nil {
		if !sp.isObject(p) {
			return "dyn"
		}
		o := g.build(sp, key+"."+prop, p, owner+camel(prop))
		return "obj:" + o.name
	}
	switch str(p["type"]) {
	case "array":
		items, _ := p["items"].(map[string]any)
		if items == nil {
			return "list:dyn"
		}
		return "list:" + g.typeOf(sp, key, prop, items, owner)
	case "object":
		return "dyn"
	case "string":
		if vals := strings_(p["enum"]); len(vals) > 0 {
			return g.enum(owner+camel(prop), sp.prefix, vals)
		}
		if f := str(p["format"]); f == "date-time" || f == "ppaas_date_time_v3" {
			return "timestamp"
		}
		return "string"
	case "integer":
		return "int"
	case "boolean":
		return "bool"
	case "number":
		return "decimal" // none so far; never a float
	}
	return "dyn"
}

// schemaType is the type of a reference to the named schema.
func (g *gen) schemaType(sp *spec, key string, t map[string]any) string {
	switch {
	case sp.isObject(t):
		if err := g.named(sp, key, ""); err != nil {
			g.fail("%v", err)
			return "dyn"
		}
		return "obj:" + g.names[sp.file+"#"+key]
	case dateTimeSchemas[key]:
		return "timestamp"
	case str(t["type"]) == "string" && len(strings_(t["enum"])) > 0:
		id := sp.file + "#" + key
		if n, ok := g.enumKeys[id]; ok {
			return "enum:" + n
		}
		name := camel(key)
		if n, ok := schemaNames[id]; ok {
			name = n
		}
		typ := g.enum(name, sp.prefix, strings_(t["enum"]))
		g.enumKeys[id] = strings.TrimPrefix(typ, "enum:")
		return typ
	}
	return g.typeOf(sp, key, "", t, "")
}

// enum registers an enum under name, or under prefix+name when name is
// taken by other values, and returns its type.
func (g *gen) enum(name, prefix string, vals []string) string {
	v := sortedCopy(vals)
	if prev, ok := g.enums[name]; ok && strings.Join(prev, "\t") != strings.Join(v, "\t") {
		if strings.HasPrefix(name, prefix) {
			g.fail("enum %s: two sets of values", name)
			return "dyn"
		}
		return g.enum(prefix+name, prefix, vals)
	}
	g.enums[name] = v
	return "enum:" + name
}

// envelopes adds <Subject>Event for each event subject: the notifications
// spec's event object with resource typed as the subject.
func (g *gen) envelopes() error {
	sp := g.specs["notifications_webhooks_v1.json"]
	ev, ok := sp.schemas["event"]
	if !ok {
		return fmt.Errorf("%s: no event schema", sp.file)
	}
	base := g.fields(sp, "event", ev, "Event")
	done := map[string]bool{}
	for _, e := range events {
		if _, ok := g.objects[e.subject]; !ok {
			return fmt.Errorf("event %s: no object %s", e.name, e.subject)
		}
		if done[e.subject] {
			continue
		}
		done[e.subject] = true
		o := &object{name: e.subject + "Event", doc: "A webhook event whose resource is a paypal." + e.subject + "."}
		for _, f := range base {
			if f.name == "resource" {
				f.typ = "obj:" + e.subject
				f.doc = "The paypal." + e.subject + " the event is about, as it was when the event happened."
			}
			o.fields = append(o.fields, f)
		}
		if _, dup := g.objects[o.name]; dup {
			return fmt.Errorf("envelope %s: name taken", o.name)
		}
		g.objects[o.name] = o
	}
	return nil
}

// prune drops the objects and enums nothing reachable from an event
// envelope or a root uses: a name conflict builds an object's fields twice,
// and the first attempt's inline objects and enums are left over.
func (g *gen) prune() {
	objs, enums := map[string]bool{}, map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		o, ok := g.objects[name]
		if !ok || objs[name] {
			return
		}
		objs[name] = true
		for _, f := range o.fields {
			t := f.typ
			for {
				if rest, ok := strings.CutPrefix(t, "list:"); ok {
					t = rest
					continue
				}
				break
			}
			if n, ok := strings.CutPrefix(t, "obj:"); ok {
				visit(n)
			} else if n, ok := strings.CutPrefix(t, "enum:"); ok {
				enums[n] = true
			}
		}
	}
	for _, r := range roots {
		visit(r.name)
	}
	for _, e := range events {
		visit(e.subject + "Event")
	}
	for n := range g.objects {
		if !objs[n] {
			delete(g.objects, n)
		}
	}
	for n := range g.enums {
		if !enums[n] {
			delete(g.enums, n)
		}
	}
}

// write renders the line format: a header comment, the source, events,
// enums, then objects with their fields, all sorted.
func (g *gen) write(w *bytes.Buffer, source string) {
	fmt.Fprintf(w, "# Code generated by stdlib/paypal/internal/gen from %s. DO NOT EDIT.\n", specRepo)
	fmt.Fprintf(w, "source\t%s\n", source)
	for _, e := range events {
		fmt.Fprintf(w, "event\t%s\t%s\n", e.name, e.subject)
	}
	for _, n := range sortedKeys(g.enums) {
		fmt.Fprintf(w, "enum\t%s\t%s\n", n, strings.Join(g.enums[n], "\t"))
	}
	for _, n := range sortedKeys(g.objects) {
		o := g.objects[n]
		fmt.Fprintf(w, "object\t%s\t%s\n", o.name, o.doc)
		for _, f := range o.fields {
			fmt.Fprintf(w, "\t%s\t%s\t%s\n", f.name, f.typ, f.doc)
		}
	}
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	linkRE  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// clean makes a description one line of plain text: no HTML tags, no link
// targets, no runs of white space (tabs and newlines would break the line
// format), at most about 400 characters, ending on a sentence.
func clean(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	s = linkRE.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("`", "", "*", "", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	s = strings.ReplaceAll(s, " .", ".")
	if len(s) > 400 {
		cut := strings.LastIndex(s[:400], ". ")
		if cut < 0 {
			return s[:strings.LastIndexByte(s[:400], ' ')] + "..."
		}
		s = s[:cut+1]
	}
	return s
}

var camelRE = regexp.MustCompile(`[_\-.]+`)

// camel turns a schema or property name into an object name:
// seller_receivable_breakdown -> SellerReceivableBreakdown.
func camel(s string) string {
	var b strings.Builder
	for _, part := range camelRE.Split(s, -1) {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strings_(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sortedCopy(v []string) []string {
	c := append([]string(nil), v...)
	sort.Strings(c)
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
