package compiler

import (
	"sort"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// aggDecl is a declared aggregate: typed records flowd's store keeps per
// key. Its entries are values of the object type "aggregate.<name>", so
// reading a field of an entry is checked like reading a field of an ERP
// record.
type aggDecl struct {
	sym  *Symbol
	decl *ast.Aggregate
	file *File
	key  *schema.Type
	obj  *schema.Object
	// change is the type of the entries `for c in agg.changed(...)`
	// lists: obj's fields, key and updated_at.
	change *schema.Object
}

// aggTypePrefix prefixes the object type of an aggregate's entries.
const aggTypePrefix = "aggregate."

// aggFieldKinds are the types an aggregate field may have: exact values
// only. A float would drift as it is added to event after event; an average
// is computed from a sum and a count when it is read.
var aggFieldKinds = map[schema.Kind]bool{schema.String: true, schema.Int: true, schema.Bool: true,
	schema.Decimal: true, schema.Minor: true, schema.Timestamp: true}

// declareAggregates declares every aggregate of the package and gives the
// CEL provider the type of its entries. It runs before anything builds the
// package's CEL environment (see baseEnv and aggKey).
func (u *unit) declareAggregates() {
	for _, f := range u.files {
		for _, d := range f.AST.Decls {
			a, ok := d.(*ast.Aggregate)
			if !ok || a.Name == nil {
				continue
			}
			u.declareAggregate(f, a)
		}
	}
}

func (u *unit) declareAggregate(f *File, a *ast.Aggregate) {
	name := a.Name.Name
	sym := &Symbol{Name: name, Kind: AggregateSym, Decl: a.Name, File: f.Source.Name, Type: schema.ObjectOf(aggTypePrefix + name)}
	if prev := u.pkg.declare(sym); prev != nil {
		u.duplicate(f, a.Name, prev)
		return
	}
	u.info.Defs[a.Name] = sym
	ad := &aggDecl{sym: sym, decl: a, file: f, key: schema.StringType}
	if a.Key != nil {
		ad.key = u.resolveType(f, a.Key)
		if k := ad.key.Kind; k != schema.String && k != schema.Int && k != schema.Any {
			u.errorf(f, a.Key, diag.UnknownType, "an aggregate is keyed by a string or an int, not %s", ad.key).
				Suggestion = "key it by the gateway's id, e.g. aggregate " + name + " by string"
			ad.key = schema.StringType
		}
	}
	var fields []*schema.Field
	seen := map[string]bool{}
	for _, af := range a.Fields {
		if af.Name == nil || af.Type == nil {
			continue
		}
		if seen[af.Name.Name] {
			u.errorf(f, af.Name, diag.DuplicateDecl, "aggregate %s declares field %s twice", name, af.Name.Name)
			continue
		}
		seen[af.Name.Name] = true
		t := u.resolveType(f, af.Type)
		switch {
		case t.Kind == schema.Double:
			u.errorf(f, af.Type, diag.FloatMoney, "aggregate field %s is a float: added to event after event, it would drift", af.Name.Name).
				Suggestion = "keep exact sums and counts (decimal, int) and compute averages from them where they are read"
			t = schema.AnyType
		case t.Kind != schema.Any && !aggFieldKinds[t.Kind]:
			u.errorf(f, af.Type, diag.UnknownType, "aggregate field %s is %s; an aggregate keeps a string, int, bool, decimal, minor or timestamp per field", af.Name.Name, t).
				Suggestion = "keep one value per field: a sum, a count, a latest date"
			t = schema.AnyType
		}
		fields = append(fields, &schema.Field{Name: af.Name.Name, Type: t, Doc: "field of aggregate " + name})
	}
	obj, err := schema.NewObject(aggTypePrefix+name, "an entry of aggregate "+name, fields, nil)
	if err != nil { // duplicates were dropped above
		u.errorf(f, a, diag.DuplicateDecl, "aggregate %s: %v", name, err)
		return
	}
	ad.obj = obj
	if u.aggs == nil {
		u.aggs = map[string]*aggDecl{}
	}
	u.aggs[name] = ad
	if u.prov != nil {
		u.prov.objects[obj.Name] = obj
	}
	// A change (`for c in agg.changed(since: t)`) is the entry with its
	// key and the time of its last update; an aggregate with fields of
	// those names has none (checkChanges says so).
	change := append([]*schema.Field{
		{Name: "key", Type: ad.key, Doc: "the entry's key"},
		{Name: "updated_at", Type: schema.TimestampType, Doc: "when an update last changed the entry"},
	}, fields...)
	if obj, err := schema.NewObject(changeTypePrefix+name, "a changed entry of aggregate "+name, change, nil); err == nil {
		ad.change = obj
		if u.prov != nil {
			u.prov.objects[obj.Name] = obj
		}
	}
}

// changeTypePrefix prefixes the object type of an aggregate's changes.
const changeTypePrefix = "aggregate_change."

// checkChanges checks `for c in agg.changed(since: t) { ... }`: the body
// runs once per entry an update changed at or after t, oldest change
// first. A write keyed by the change's key and updated_at writes each
// version of an entry once, however often a schedule lists it.
func (fu *flowUnit) checkChanges(s *ast.For) {
	ad := fu.aggregate(s.Source)
	ad.sym.markUsed()
	step := &plan.Step{Kind: plan.StepFor, At: fu.at(s), Name: s.Var.Name, Aggregate: ad.sym.Name}
	if len(s.Source.Parts) != 2 || s.Source.Parts[1].Name != "changed" {
		fu.errorf(s.Source, diag.Misplaced, "an aggregate lists its changed entries: for c in %s.changed(since: t)", ad.sym.Name)
	}
	for _, a := range s.Args {
		if a.Name.Name != "since" {
			fu.errorf(a.Name, diag.Misplaced, "changed takes since: the time from which changes are listed")
			continue
		}
		c := fu.u.check(fu.f, a.Value, fu.sc, "")
		if c.ok {
			fu.u.assign(fu.f, a.Value, c, schema.TimestampType, 0, "since")
		}
		step.Since = fu.pexpr(a.Value, c)
	}
	if step.Since == nil {
		fu.errorf(s.Source, diag.Misplaced, "changed needs since: for c in %s.changed(since: tick.previous)", ad.sym.Name)
	}
	elem := schema.AnyType
	if ad.change == nil {
		fu.errorf(s.Source, diag.DuplicateDecl, "aggregate %s has a field named key or updated_at, so its changes cannot carry theirs", ad.sym.Name).
			Suggestion = "rename that field of the aggregate"
	} else {
		elem = schema.ObjectOf(ad.change.Name)
	}
	fu.eachBody(s, step, elem, true)
}

// aggKey identifies the package's aggregate types, for the environment
// cache: packages with the same connectors but other aggregates must not
// share a provider.
func (u *unit) aggKey() string {
	if len(u.aggs) == 0 {
		return ""
	}
	var parts []string
	for name, ad := range u.aggs {
		var fs []string
		for _, f := range ad.obj.Fields {
			fs = append(fs, f.Name+":"+f.Type.String())
		}
		parts = append(parts, name+"{"+strings.Join(fs, ",")+"}")
	}
	sort.Strings(parts)
	return "|aggregates:" + strings.Join(parts, ";")
}

func (u *unit) lowerAggregates() []plan.AggregateDecl {
	var out []plan.AggregateDecl
	for _, ad := range u.aggs {
		pd := plan.AggregateDecl{Name: ad.sym.Name, Key: ad.key.String(), Fields: []plan.Var{}}
		for _, f := range ad.obj.Fields {
			pd.Fields = append(pd.Fields, plan.Var{Name: f.Name, Type: f.Type.String()})
		}
		out = append(out, pd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// aggregate returns the aggregate a path names, or nil.
func (fu *flowUnit) aggregate(p *ast.Path) *aggDecl {
	if p == nil || len(p.Parts) == 0 {
		return nil
	}
	return fu.u.aggs[p.Parts[0].Name]
}

// resolveAggregate returns the aggregate an indexed statement names,
// reporting a path that names none.
func (fu *flowUnit) resolveAggregate(p *ast.Path, what string) *aggDecl {
	ad := fu.aggregate(p)
	switch {
	case ad == nil && len(p.Parts) > 0 && fu.u.conns[p.Parts[0].Name] != nil:
		fu.errorf(p, diag.Misplaced, "only an aggregate's entries are read and updated by key; %s is a connector", p.Parts[0].Name).
			Suggestion = "find an ERP record with where: lookup x = " + p.String() + " where Field == value"
	case ad == nil:
		var names []string
		for n := range fu.u.aggs {
			names = append(names, n)
		}
		sort.Strings(names)
		d := fu.errorf(p, diag.UndefinedName, "%s is not a declared aggregate", p.String())
		suggest(d, p.String(), names)
		if d.Suggestion == "" {
			d.Suggestion = "declare it: aggregate " + p.Parts[0].Name + " by string { ... }"
		}
	case len(p.Parts) > 1:
		fu.errorf(p, diag.Misplaced, "%s names the aggregate itself: %s %s[key]", what, what, p.Parts[0].Name)
	}
	return ad
}

// checkIndex checks the key of an aggregate entry: a value of the
// aggregate's key type.
func (fu *flowUnit) checkIndex(ad *aggDecl, e *ast.Expr) (*plan.Expr, *checked) {
	c := fu.u.check(fu.f, e, fu.sc, "")
	if ad != nil && c.ok {
		fu.u.assign(fu.f, e, c, ad.key, 0, "the key of aggregate "+ad.sym.Name)
	}
	return fu.pexpr(e, c), c
}

// checkAggLookup checks `lookup x = agg[key]`: x is the entry as stored,
// zero values when no update ever touched it.
func (fu *flowUnit) checkAggLookup(s *ast.Lookup) {
	ad := fu.resolveAggregate(s.Entity, "lookup "+s.Name.Name+" =")
	step := &plan.Step{Kind: plan.StepRead, At: fu.at(s), Name: s.Name.Name}
	fromEvent := false
	switch {
	case s.Index == nil && ad != nil:
		fu.errorf(s.Entity, diag.Misplaced, "an aggregate's entry is read by its key, not with where").
			Suggestion = "lookup " + s.Name.Name + " = " + ad.sym.Name + "[key]"
	case s.Index != nil:
		var c *checked
		step.Index, c = fu.checkIndex(ad, s.Index)
		fromEvent = c.fromEvent
	}
	if s.Miss != nil {
		fu.errorf(s.Miss, diag.Misplaced, "an aggregate's entry is never missing: one no update touched reads as zero values").
			Suggestion = "drop the else clause; test a count, e.g. when " + s.Name.Name + ".payments > 0"
	}
	t := schema.AnyType
	if ad != nil {
		ad.sym.markUsed()
		step.Aggregate, t = ad.sym.Name, schema.ObjectOf(ad.obj.Name)
	}
	fu.declare(s.Name, LookupSym, t, fromEvent)
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// checkAggUpdate checks `update [x =] agg[key] key k { field: expr, ... }`.
// The fields' expressions read the entry's current fields by name; fields
// the update does not name keep their value. The store applies the update
// and records k in one transaction, so an event counts once however often
// it runs.
func (fu *flowUnit) checkAggUpdate(s *ast.Write) {
	ad := fu.resolveAggregate(s.Entity(), "update")
	if s.Bound != nil && len(s.Target.Parts) != 1 {
		fu.errorf(s.Target, diag.Misplaced, "the name an update binds is one word: update x = %s[key]", s.Entity().String())
	}
	step := &plan.Step{Kind: plan.StepAggregate, At: fu.at(s), Op: "update"}
	if n := s.Name(); n != nil {
		step.Name = n.Name
	}
	if s.Op != "update" {
		fu.errorf(s, diag.Misplaced, "an aggregate's entries are updated, not %sd: an entry exists from its first update", s.Op).
			Suggestion = "update " + s.Entity().String() + "[key] key ... { ... }"
	}
	if s.Index == nil {
		if ad != nil {
			fu.errorf(s.Entity(), diag.Misplaced, "name the entry to update: update %s[key]", ad.sym.Name).
				Suggestion = "key it by the customer, e.g. update " + ad.sym.Name + "[ch.customer]"
		}
	} else {
		step.Index, _ = fu.checkIndex(ad, s.Index)
	}
	if s.Key == nil {
		fu.errorf(s.Entity(), diag.MissingKey, "update of an aggregate without an idempotency key: a retried event would count twice").
			Suggestion = `add key "agg:" + <event id>, e.g. key "stats:" + ev.id`
	} else {
		step.Key = fu.checkKey(s.Key)
	}
	if ad == nil {
		return
	}
	ad.sym.markUsed()
	step.Aggregate = ad.sym.Name
	body := newScope(fu.sc)
	for _, f := range ad.obj.Fields {
		sym := &Symbol{Name: f.Name, Kind: AggFieldSym, Type: f.Type, Decl: fu.aggFieldDecl(ad, f.Name), File: ad.file.Source.Name}
		if prev, ok := fu.aggFields[f.Name]; ok && prev.Type.String() == f.Type.String() {
			sym = prev // another update of this flow reads the same name, of the same type
		} else if ok {
			fu.errorf(s.Entity(), diag.DuplicateDecl, "field %s is %s in aggregate %s but %s in the aggregate another update of this flow reads",
				f.Name, f.Type, ad.sym.Name, prev.Type).Suggestion = "rename one of the fields, or update the two aggregates in separate flows"
			continue
		}
		if prev := body.declare(sym); prev != nil {
			if prev != sym && !fu.aggClashed[f.Name] { // once per name and flow
				if fu.aggClashed == nil {
					fu.aggClashed = map[string]bool{}
				}
				fu.aggClashed[f.Name] = true
				fu.aggFieldClash(&ast.Ident{Span: s.Entity().Span, Name: f.Name}, prev)
			}
			continue
		}
		if fu.aggFields == nil {
			fu.aggFields = map[string]*Symbol{}
		}
		fu.aggFields[f.Name] = sym
	}
	seen := map[string]*ast.Field{}
	for _, fld := range s.Body.Fields {
		name := fld.Name.Name
		c := fu.u.check(fu.f, fld.Value, body, "")
		sf, ok := ad.obj.Field(name)
		if !ok {
			d := fu.errorf(fld.Name, diag.UnknownField, "aggregate %s has no field %q", ad.sym.Name, name)
			suggest(d, name, ad.obj.FieldNames())
			continue
		}
		if seen[name] != nil {
			fu.errorf(fld.Name, diag.FieldSetTwice, "%s is set twice", name)
			continue
		}
		seen[name] = fld
		fu.u.assign(fu.f, fld.Value, c, sf.Type, 0, "field "+name+" of "+ad.sym.Name)
		step.Fields = append(step.Fields, plan.Field{Name: name, Value: fu.pexpr(fld.Value, c)})
	}
	if len(s.Body.Fields) == 0 {
		fu.errorf(s.Body, diag.Misplaced, "this update sets no field of %s", ad.sym.Name).
			Suggestion = "e.g. { payments: payments + 1 }"
	}
	if n := s.Name(); n != nil && s.Bound != nil {
		fu.declare(n, WriteSym, schema.ObjectOf(ad.obj.Name), false)
	}
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// aggFieldDecl returns the identifier declaring a field of an aggregate.
func (fu *flowUnit) aggFieldDecl(ad *aggDecl, name string) *ast.Ident {
	for _, af := range ad.decl.Fields {
		if af.Name != nil && af.Name.Name == name {
			return af.Name
		}
	}
	return nil
}

// aggFieldClash reports a name that is both a field an aggregate update
// reads by name and another name of the flow.
func (fu *flowUnit) aggFieldClash(id *ast.Ident, prev *Symbol) {
	if prev.Kind == AggFieldSym {
		fu.errorf(id, diag.DuplicateDecl, "%s is a field an aggregate update of this flow reads by name; the flow cannot use the name for another value", id.Name).
			Suggestion = "pick another name, e.g. " + id.Name + "_"
		return
	}
	fu.errorf(id, diag.DuplicateDecl, "aggregate field %s has the name of %s %s: inside the update, %s would be ambiguous", id.Name, prev.Kind, prev.Name, id.Name).
		Suggestion = "rename the " + prev.Kind.String() + " or the field"
}

// aggFieldVars are the flow environment's variables for the fields its
// aggregate updates read by name, sorted.
func (fu *flowUnit) aggFieldVars() []cel.EnvOption {
	var names []string
	for n := range fu.aggFields {
		names = append(names, n)
	}
	sort.Strings(names)
	var opts []cel.EnvOption
	for _, n := range names {
		opts = append(opts, cel.Variable(n, celType(fu.aggFields[n].Type)))
	}
	return opts
}
