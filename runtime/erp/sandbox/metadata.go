package sandbox

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/flowhq/flow/stdlib/schema"
)

// csdl renders the served entity sets as a CSDL ($metadata) document that
// stdlib/d365fo.LoadCSDL reads back to the same schema: types, keys,
// MaxLength, IsRequired and enum members (numbered in name order: the
// schema does not keep F&O's values).
func csdl(ents map[string]*entity) []byte {
	sets := make([]string, 0, len(ents))
	for set := range ents {
		sets = append(sets, set)
	}
	sort.Strings(sets)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="` + namespace + `" xmlns="http://docs.oasis-open.org/odata/ns/edm">
`)
	if len(sets) > 0 {
		enums := ents[sets[0]].enums
		names := make([]string, 0, len(enums))
		byName := map[string]string{}
		for members, name := range enums {
			names = append(names, name)
			byName[name] = members
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "      <EnumType Name=\"%s\">\n", esc(name))
			for i, m := range strings.Split(byName[name], ",") {
				fmt.Fprintf(&b, "        <Member Name=\"%s\" Value=\"%d\" />\n", esc(m), i)
			}
			b.WriteString("      </EnumType>\n")
		}
	}
	for _, set := range sets {
		e := ents[set]
		fmt.Fprintf(&b, "      <EntityType Name=\"%s\">\n        <Key>\n", esc(e.typ))
		for _, k := range e.obj.Keys {
			fmt.Fprintf(&b, "          <PropertyRef Name=\"%s\" />\n", esc(k))
		}
		b.WriteString("        </Key>\n")
		for _, f := range e.obj.Fields {
			fmt.Fprintf(&b, "        <Property Name=\"%s\" Type=\"%s\"", esc(f.Name), esc(e.edmType(f)))
			if f.Key || f.Type.Kind != schema.String || f.Type.Enum != nil {
				b.WriteString(` Nullable="false"`)
			}
			if f.MaxLength > 0 {
				fmt.Fprintf(&b, ` MaxLength="%d"`, f.MaxLength)
			}
			if !f.Required {
				b.WriteString(" />\n")
				continue
			}
			b.WriteString(">\n          <Annotation Term=\"Microsoft.Dynamics.OData.Core.V1.IsRequired\" Bool=\"true\" />\n        </Property>\n")
		}
		b.WriteString("      </EntityType>\n")
	}
	b.WriteString("      <EntityContainer Name=\"Resources\">\n")
	for _, set := range sets {
		fmt.Fprintf(&b, "        <EntitySet Name=\"%s\" EntityType=\"%s.%s\" />\n", esc(set), namespace, esc(ents[set].typ))
	}
	b.WriteString("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n")
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
