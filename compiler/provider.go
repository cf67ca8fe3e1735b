package compiler

import (
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/jsonval"
	"github.com/flowhq/flow/stdlib/schema"
)

// provider exposes the object types of a package's connectors to CEL. Values
// of those types are decoded JSON objects (map[string]any) at run time, so
// field access reads map entries.
type provider struct {
	*types.Registry
	objects map[string]*schema.Object
}

func newProvider(conns []*schema.Connector) *provider {
	p := &provider{Registry: types.NewEmptyRegistry(), objects: map[string]*schema.Object{}}
	for _, c := range conns {
		for name, o := range c.Objects {
			p.objects[name] = o
		}
	}
	for _, o := range builtinObjects {
		p.objects[o.Name] = o
	}
	return p
}

func (p *provider) object(name string) (*schema.Object, bool) {
	o, ok := p.objects[name]
	return o, ok
}

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if o, ok := p.objects[name]; ok {
		return o.FieldNames(), true
	}
	return p.Registry.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	o, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	f, ok := o.Field(field)
	if !ok {
		return nil, false
	}
	return &types.FieldType{
		Type: celType(f.Type),
		IsSet: func(target any) bool {
			v, ok := member(target, field)
			return ok && v != nil
		},
		GetFrom: func(target any) (any, error) {
			raw, ok := member(target, field)
			if !ok && !isObject(target) {
				return nil, errNotObject
			}
			v, err := RuntimeValue(f.Type, raw)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", o.ShortName(), field, err)
			}
			return v, nil
		},
	}, true
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.objects[name]; ok {
		return types.NewErr("%s values cannot be constructed in an expression", name)
	}
	return p.Registry.NewValue(name, fields)
}

// member reads a field of an object value: a lazily decoded payload or a
// map (an ERP record, a list item).
func member(target any, field string) (any, bool) {
	switch t := target.(type) {
	case *jsonval.Object:
		return t.Get(field)
	case map[string]any:
		v, ok := t[field]
		return v, ok
	}
	return nil, false
}

func isObject(v any) bool {
	switch v.(type) {
	case *jsonval.Object, map[string]any:
		return true
	}
	return false
}

type constError string

func (e constError) Error() string { return string(e) }

const errNotObject = constError("value is not an object")

// builtinObjects are the object types of the built-in schedule trigger, of
// the signals every gateway-triggered flow can read, and of the periods
// recognize() returns.
var builtinObjects = func() []*schema.Object {
	tick, err := schema.NewObject("schedule.Tick", "a scheduled run", []*schema.Field{
		{Name: "id", Type: schema.StringType, Doc: "the run's id: the schedule's name and its due time"},
		{Name: "time", Type: schema.TimestampType, Doc: "the time the run was due"},
		{Name: "previous", Type: schema.TimestampType, Doc: "the due time of the schedule's run before this one (for its first run, when flowd first saw the schedule): what changed since is this run's to handle"},
	}, nil)
	if err != nil {
		panic(err)
	}
	signals, err := schema.NewObject(SignalsType, "what flowd's history says about this event: explainable flags for `review when`", []*schema.Field{
		{Name: "flagged", Type: schema.BoolType, Doc: "any flag below is raised"},
		{Name: "reason", Type: schema.StringType, Doc: "why, in words, with the numbers behind it; empty when not flagged"},
		{Name: "reasons", Type: schema.ListOf(schema.StringType), Doc: "one sentence per raised flag"},
		{Name: "amount_z", Type: schema.DoubleType, Doc: "robust z-score of a charge's amount against the customer's earlier charges in its currency (0.6745 x (amount - median) / MAD); 0 with fewer than 5 earlier charges; flagged above 3.5"},
		{Name: "history", Type: schema.IntType, Doc: "how many earlier charges of the customer in this currency the score compares with"},
		{Name: "duplicate", Type: schema.BoolType, Doc: "another charge of the same customer, amount and currency within a minute"},
	}, nil)
	if err != nil {
		panic(err)
	}
	return []*schema.Object{tick, signals, stdlib.RevenuePeriodObject}
}()

// SignalsType is the type of the `signals` variable of gateway-triggered
// flows; SignalsVar is its name.
const (
	SignalsType = "flow.Signals"
	SignalsVar  = "signals"
)
