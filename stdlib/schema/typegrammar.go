package schema

import (
	"fmt"
	"strings"
)

// TypeParser reads the compact type grammar of the generated connector
// schemas (stdlib/stripe, stdlib/paypal): a scalar named in Scalars,
// enum:NAME (the members in Enums), obj:NAME, list:T and map:T (string
// keys). It memoizes every type it builds, so fields share them.
type TypeParser struct {
	Scalars map[string]*Type    // "string", "decimal", ... as each generator names them
	Enums   map[string][]string // enum name -> members
	Qualify func(string) string // an object name -> its qualified name
	cache   map[string]*Type
}

// Parse returns the type s spells.
func (p *TypeParser) Parse(s string) (*Type, error) {
	if t, ok := p.Scalars[s]; ok {
		return t, nil
	}
	if t, ok := p.cache[s]; ok {
		return t, nil
	}
	kind, arg, _ := strings.Cut(s, ":")
	var t *Type
	switch kind {
	case "enum":
		vals, ok := p.Enums[arg]
		if !ok {
			return nil, fmt.Errorf("unknown enum %s", arg)
		}
		t = &Type{Kind: String, Enum: vals}
	case "obj":
		t = ObjectOf(p.Qualify(arg))
	case "list", "map":
		elem, err := p.Parse(arg)
		if err != nil {
			return nil, err
		}
		if kind == "list" {
			t = ListOf(elem)
		} else {
			t = MapOf(StringType, elem)
		}
	default:
		return nil, fmt.Errorf("bad type %q", s)
	}
	if p.cache == nil {
		p.cache = map[string]*Type{}
	}
	p.cache[s] = t
	return t, nil
}
