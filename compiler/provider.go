package compiler

import (
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

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
			m, ok := target.(map[string]any)
			if !ok {
				return false
			}
			v, ok := m[field]
			return ok && v != nil
		},
		GetFrom: func(target any) (any, error) {
			m, ok := target.(map[string]any)
			if !ok {
				return nil, errNotObject
			}
			v, err := RuntimeValue(f.Type, m[field])
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

type constError string

func (e constError) Error() string { return string(e) }

const errNotObject = constError("value is not an object")

// builtinObjects are the object types of the built-in schedule trigger.
var builtinObjects = func() []*schema.Object {
	tick, err := schema.NewObject("schedule.Tick", "a scheduled run", []*schema.Field{
		{Name: "id", Type: schema.StringType, Doc: "the run's id: the schedule's name and its due time"},
		{Name: "time", Type: schema.TimestampType, Doc: "the time the run was due"},
	}, nil)
	if err != nil {
		panic(err)
	}
	return []*schema.Object{tick}
}()
