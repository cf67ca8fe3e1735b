package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowhq/flow/compiler/plan"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib/schema"
)

// entity resolves `alias.EntitySet` to an ERP entity.
func (fu *flowUnit) entity(p *ast.Path) (*importedConnector, *schema.Object) {
	ic, ok := fu.u.conns[p.Parts[0].Name]
	if !ok {
		d := fu.errorf(p.Parts[0], diag.UndefinedName, "%s is not an imported connector", p.Parts[0].Name)
		suggest(d, p.Parts[0].Name, fu.u.aliases())
		return nil, nil
	}
	if ic.conn.Kind != schema.ERP && len(ic.conn.Entities) == 0 {
		fu.errorf(p, diag.UnknownEntity, "%s is a gateway; records are written to an ERP connector", ic.alias)
		return nil, nil
	}
	what, form := "entity set", "<EntitySet>"
	if ic.conn.Kind == schema.Gateway {
		what, form = "creatable object", "<Object>"
	}
	if len(p.Parts) != 2 {
		fu.errorf(p, diag.UnknownEntity, "name one %s: %s.%s", what, ic.alias, form)
		return nil, nil
	}
	name := p.Parts[1].Name
	obj, ok := ic.conn.Entities[name]
	if !ok {
		d := fu.errorf(p.Parts[1], diag.UnknownEntity, "%s has no %s %q", ic.conn.Name, what, name)
		suggest(d, name, ic.conn.EntityNames())
		return nil, nil
	}
	return ic, obj
}

// gatewayWrite checks what a write to a gateway may do: create an object,
// once per key. It returns the type the write binds: the object Stripe
// returns (stripe.Customer), not its create parameters.
func (fu *flowUnit) gatewayWrite(s *ast.Write, ic *importedConnector) *schema.Type {
	if s.Op != "create" {
		fu.errorf(s, diag.Misplaced, "a flow can only create objects in %s; it cannot %s them", ic.alias, s.Op).
			Suggestion = "write `create " + ic.alias + "." + s.Entity().Parts[1].Name + " key ... { ... }`"
	}
	name := ic.conn.Name + "." + s.Entity().Parts[1].Name
	if _, ok := ic.conn.Objects[name]; ok {
		return schema.ObjectOf(name)
	}
	return schema.AnyType
}

// fields checks a block of field assignments against an entity and returns
// the assignments. preset are fields set elsewhere (lookup conditions,
// journal links) that count as set.
func (fu *flowUnit) fields(obj *schema.Object, b *ast.Block, preset map[string]bool, required bool, what string, anchor ast.Node) []plan.Field {
	var out []plan.Field
	seen := map[string]*ast.Field{}
	for _, fld := range b.Fields {
		out = append(out, fu.field(obj, fld, seen))
	}
	if required {
		fu.requireFields(obj, seen, preset, what, anchor)
		fu.anchorFree(obj, seen)
	}
	return out
}

// field checks one assignment.
func (fu *flowUnit) field(obj *schema.Object, fld *ast.Field, seen map[string]*ast.Field) plan.Field {
	name := fld.Name.Name
	c := fu.u.check(fu.f, fld.Value, fu.sc, "")
	if prev, dup := seen[name]; dup {
		d := fu.errorf(fld.Name, diag.FieldSetTwice, "%s is set twice", name)
		d.Related = []diag.Note{{Pos: fu.f.Source.Pos(prev.Pos.Offset), Message: "first set here"}}
	}
	seen[name] = fld
	sf, ok := obj.Field(name)
	if !ok {
		d := fu.errorf(fld.Name, diag.UnknownField, "unknown field %q on %s", name, obj.Name)
		suggest(d, name, obj.FieldNames())
	} else {
		fu.u.assign(fu.f, fld.Value, c, sf.Type, sf.MaxLength, "field "+name)
	}
	return plan.Field{Name: name, Value: fu.pexpr(fld.Value, c)}
}

// requireFields reports required fields that nothing sets, all in one
// diagnostic at the write.
func (fu *flowUnit) requireFields(obj *schema.Object, seen map[string]*ast.Field, preset map[string]bool, what string, anchor ast.Node) {
	var missing []string
	for _, f := range obj.Fields {
		if f.Required && seen[f.Name] == nil && !preset[f.Name] {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) == 0 {
		return
	}
	noun := "field"
	if len(missing) > 1 {
		noun = "fields"
	}
	d := fu.errorf(anchor, diag.MissingRequiredField, "%s does not set the required %s %s of %s", what, noun, strings.Join(missing, ", "), obj.Name)
	d.Suggestion = fmt.Sprintf("add %s: ...", missing[0])
}

// checkLookup checks `lookup x = erp.E where F == v ... else policy`.
func (fu *flowUnit) checkLookup(s *ast.Lookup) {
	ic, obj := fu.entity(s.Entity)
	if ic != nil && ic.conn.Kind == schema.Gateway {
		fu.errorf(s.Entity, diag.UnknownEntity, "%s is a gateway: flows create objects there but do not look them up", ic.alias).
			Suggestion = "look the record up in the ERP, or keep the gateway's id in a field of it"
		ic, obj = nil, nil
	}
	step := &plan.Step{Kind: plan.StepLookup, At: fu.at(s), Name: s.Name.Name}
	fromEvent := false
	preset := map[string]bool{}
	for _, cond := range s.Where {
		preset[cond.Field.Name] = true
		fromEvent = fromEvent || fu.u.check(fu.f, &cond.Value.Expr, fu.sc, "").fromEvent
	}
	step.Where = fu.conds(s.Where, obj, false)
	if s.Miss == nil {
		fu.errorf(s, diag.MissingMissPolicy, "lookup %s does not say what happens when no record matches", s.Name.Name).
			Suggestion = "end it with `else create { ... }`, `else skip`, `else fail` or `else wait for 24h`"
	} else {
		step.Miss = &plan.Miss{Policy: s.Miss.Policy, Wait: s.Miss.Wait}
		switch {
		case s.Miss.Create != nil && s.Miss.Policy != "create":
			fu.errorf(s.Miss.Create, diag.Misplaced, "only `else create` takes fields")
		case s.Miss.Policy == "create" && s.Miss.Create == nil:
			fu.errorf(s.Miss, diag.Misplaced, "`else create` needs the fields of the new record: else create { ... }")
		case s.Miss.Wait != "" && s.Miss.Policy != "wait":
			fu.errorf(s.Miss, diag.Misplaced, "only `else wait` takes a duration")
		}
		if s.Miss.Create != nil && obj != nil {
			step.Miss.Fields = fu.fields(obj, s.Miss.Create, preset, true, "lookup "+s.Name.Name+" else create", s.Miss)
		}
	}
	if ic != nil {
		step.Connector, step.Entity = ic.alias, s.Entity.Parts[1].Name
	}
	var t *schema.Type = schema.AnyType
	if obj != nil {
		t = schema.ObjectOf(obj.Name)
	}
	fu.declare(s.Name, LookupSym, t, fromEvent)
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// conds checks the conditions of a lookup (compare false: `Field ==
// value` only) or a query (also !=, <, <=, >, >=) on obj (nil when the
// entity is unknown: only the values are checked).
func (fu *flowUnit) conds(conds []*ast.Cond, obj *schema.Object, compare bool) []plan.Field {
	var out []plan.Field
	for _, cond := range conds {
		c := fu.u.check(fu.f, &cond.Value.Expr, fu.sc, "")
		op := cond.Op
		if op == "==" {
			op = ""
		}
		if op != "" && !compare {
			fu.errorf(cond, diag.Misplaced, "a lookup finds a record by equal fields: %s == value", cond.Field.Name).
				Suggestion = "to read the records " + cond.Field.Name + " " + cond.Op + " a value, iterate a query: for x in erp.Entity where ... { ... }"
		}
		if obj != nil {
			if sf, ok := obj.Field(cond.Field.Name); !ok {
				d := fu.errorf(cond.Field, diag.UnknownField, "unknown field %q on %s", cond.Field.Name, obj.Name)
				suggest(d, cond.Field.Name, obj.FieldNames())
			} else {
				fu.u.assign(fu.f, &cond.Value.Expr, c, sf.Type, 0, "field "+cond.Field.Name)
				if op != "" && op != "!=" && (!orderedKinds[sf.Type.Kind] || sf.Type.Enum != nil) {
					what := typeNameWords(celType(sf.Type).String())
					if sf.Type.Enum != nil {
						what = "an enum (" + strings.Join(sf.Type.Enum, ", ") + ")"
					}
					fu.errorf(cond, diag.TypeMismatch, "%s is %s, which has no order: only == and != compare it", cond.Field.Name, what)
				}
			}
		}
		out = append(out, plan.Field{Name: cond.Field.Name, Value: fu.pexpr(&cond.Value.Expr, c), Op: op})
	}
	return out
}

// orderedKinds are the field types a query's <, <=, > and >= compare.
var orderedKinds = map[schema.Kind]bool{schema.String: true, schema.Int: true, schema.Decimal: true, schema.Minor: true,
	schema.Timestamp: true, schema.Double: true}

// checkWrite checks `create|upsert|update [name =] erp.E key k { ... }`.
func (fu *flowUnit) checkWrite(s *ast.Write) {
	if s.Bound != nil && len(s.Target.Parts) != 1 {
		fu.errorf(s.Target, diag.Misplaced, "the name a write binds is one word: %s x = erp.Entity", s.Op)
	}
	ic, obj := fu.entity(s.Entity())
	step := &plan.Step{Kind: plan.StepWrite, At: fu.at(s), Op: s.Op}
	if n := s.Name(); n != nil {
		step.Name = n.Name
	}
	if s.Key == nil {
		fu.errorf(s.Entity(), diag.MissingKey, "%s without an idempotency key: a retried event would write the record twice", s.Op).
			Suggestion = `add key "<source>:" + <event field>, e.g. key "stripe:" + ch.id`
	} else {
		step.Key = fu.checkKey(s.Key)
	}
	var gatewayType *schema.Type
	if obj != nil && ic.conn.Kind == schema.Gateway {
		gatewayType = fu.gatewayWrite(s, ic)
	}
	if obj != nil {
		seen := map[string]*ast.Field{}
		for _, fld := range s.Body.Fields {
			step.Fields = append(step.Fields, fu.field(obj, fld, seen))
		}
		switch s.Op {
		case "create", "upsert":
			fu.requireFields(obj, seen, nil, s.Op, s.Entity())
			fu.anchorFree(obj, seen)
		case "update":
			var missing []string
			for _, k := range obj.Keys {
				if k != "dataAreaId" && seen[k] == nil {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				fu.errorf(s.Entity(), diag.MissingRequiredField, "update must name the record: set its key %s", strings.Join(missing, ", "))
			}
		}
		step.Connector, step.Entity = ic.alias, s.Entity().Parts[1].Name
	}
	if s.Op != "update" {
		fu.writes++
	}
	if n := s.Name(); n != nil && s.Bound != nil {
		var t *schema.Type = schema.AnyType
		if obj != nil {
			t = schema.ObjectOf(obj.Name)
			if ic.conn.Kind == schema.Gateway {
				t = gatewayType
			}
		}
		fu.declare(n, WriteSym, t, true)
	}
	fu.plan.Steps = append(fu.plan.Steps, step)
}

// anchorFree reports a create that sets the field where the runtime keeps
// the idempotency key of an entity F&O numbers itself: the runtime writes
// the key there so that a retry finds the record. A write that sets the
// natural key is found by it instead, and may use the field.
func (fu *flowUnit) anchorFree(obj *schema.Object, seen map[string]*ast.Field) {
	fld := seen[obj.Anchor]
	if obj.Anchor == "" || fld == nil {
		return
	}
	for _, k := range obj.Keys {
		if k != "dataAreaId" && seen[k] == nil {
			fu.errorf(fld.Name, diag.AnchorFieldSet, "%s holds the idempotency key of %s: the runtime writes the key there, so a retry after a crash finds the record",
				obj.Anchor, obj.ShortName()).Suggestion = "leave " + obj.Anchor + " out, or set the natural key (" + k + ") yourself"
			return
		}
	}
}

// checkKey checks that an idempotency key is a string built
// deterministically from the event.
func (fu *flowUnit) checkKey(k *ast.Expr) *plan.Expr {
	c := fu.u.check(fu.f, k, fu.sc, "")
	if !c.ok {
		return fu.pexpr(k, c)
	}
	if t := c.typ.String(); t != "string" && t != "dyn" {
		fu.errorf(k, diag.TypeMismatch, "a key must be a string, but this is %s", typeWords(c.typ)).
			Suggestion = "convert with string(...) and add a prefix naming the source, e.g. \"stripe:\" + ch.id"
	}
	if len(c.nondet) > 0 {
		sort.Strings(c.nondet)
		fu.errorf(k, diag.NondeterministicKey, "key uses %s(), which changes between retries: the record would be written again", c.nondet[0]).
			Suggestion = "build the key from event data only, e.g. the gateway's object id"
	} else if !c.fromEvent {
		fu.errorf(k, diag.KeyWithoutEvent, "key uses nothing from the event: every event would get the same key, and only the first would be written").
			Suggestion = "include the event's object id, e.g. \"stripe:\" + ev.data.object.id"
	}
	return fu.pexpr(k, c)
}
