// Package gen builds the d365fo connector's built-in CSDL document
// (stdlib/d365fo/default_metadata.xml) from public reference data:
//
//   - entities_fields_raw.json: entity sets, keys, property names, EDM types and
//     nullability, extracted from a client generated from a real F&O $metadata;
//   - enums.json: members of enum types that file references;
//   - CustomersV3_metadata_trimmed.edmx.xml: a real $metadata excerpt, whose
//     enum types (with values) and IsRequired annotations are merged in;
//   - the overlay table in overlay.go: required fields and string lengths
//     taken from Microsoft's public documentation, one entry per fact.
//
// The output is deterministic, so a test can regenerate it and compare.
package gen

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Input file names inside the reference folder.
const (
	FieldsFile  = "entities_fields_raw.json"
	EnumsFile   = "enums.json"
	ExcerptFile = "CustomersV3_metadata_trimmed.edmx.xml"
)

const (
	namespace  = "Microsoft.Dynamics.DataEntities"
	termPrefix = "Microsoft.Dynamics.OData.Core.V1."
)

// entity is one entry of entities_fields_raw.json.
type entity struct {
	EntitySet string   `json:"entitySet"`
	Keys      []string `json:"keys"`
	Fields    []struct {
		Name     string `json:"name"`
		Type     string `json:"type"` // "Edm.String" or "enum:NoYes"
		Nullable bool   `json:"nullable"`
	} `json:"fields"`
}

// enumType is an enum type as the output declares it.
type enumType struct {
	name    string
	members []member
}

type member struct{ name, value string } // value "" when the source has none

// property is one output property.
type property struct {
	name      string
	typ       string // qualified type written to the CSDL
	nullable  bool
	maxLength int
	required  bool
	comment   string // XML comment written before the property, if any
}

// entityType is one output entity type with its entity set.
type entityType struct {
	set, name string
	keys      []string
	props     []*property
	index     map[string]*property
}

// Generate reads the reference files from fsys and returns the CSDL document.
func Generate(fsys fs.FS) ([]byte, error) {
	var raw map[string]entity
	if err := readJSON(fsys, FieldsFile, &raw); err != nil {
		return nil, err
	}
	var listed map[string][]string
	if err := readJSON(fsys, EnumsFile, &listed); err != nil {
		return nil, err
	}
	ex, err := readExcerpt(fsys)
	if err != nil {
		return nil, err
	}

	enums := newEnumResolver(listed, ex.enums)
	types, err := buildTypes(raw, enums, ex)
	if err != nil {
		return nil, err
	}
	if err := applyOverlay(types, overlay); err != nil {
		return nil, err
	}
	return render(types, enums.used()), nil
}

func readJSON(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// buildTypes turns the raw entity list into output entity types, in entity
// set order, merging what the real excerpt says about its entity sets.
func buildTypes(raw map[string]entity, enums *enumResolver, ex *excerpt) ([]*entityType, error) {
	sets := make([]string, 0, len(raw))
	for k, e := range raw {
		if e.EntitySet != k {
			return nil, fmt.Errorf("%s: entry %q has entitySet %q", FieldsFile, k, e.EntitySet)
		}
		sets = append(sets, k)
	}
	sort.Strings(sets)

	var types []*entityType
	for _, set := range sets {
		e := raw[set]
		t := &entityType{set: set, name: singular(set), keys: e.Keys, index: map[string]*property{}}
		real := ex.sets[set]
		if real != nil {
			t.name = real.typeName // the excerpt has the real entity type name
		}
		for _, f := range e.Fields {
			p := &property{name: f.Name, nullable: f.Nullable}
			if en, ok := strings.CutPrefix(f.Type, "enum:"); ok {
				if et := enums.resolve(en); et != nil {
					p.typ = namespace + "." + et.name
				} else {
					p.typ = "Edm.String"
					p.comment = fmt.Sprintf("enum %s: members not in the reference data, typed as a plain string", en)
				}
			} else {
				p.typ = f.Type
			}
			if _, dup := t.index[p.name]; dup {
				return nil, fmt.Errorf("%s: %s: duplicate field %s", FieldsFile, set, p.name)
			}
			t.props = append(t.props, p)
			t.index[p.name] = p
		}
		for _, k := range t.keys {
			if t.index[k] == nil {
				return nil, fmt.Errorf("%s: %s: key %s is not a field", FieldsFile, set, k)
			}
		}
		if real != nil {
			if err := mergeExcerpt(t, real); err != nil {
				return nil, err
			}
		}
		types = append(types, t)
	}
	return types, nil
}

// mergeExcerpt checks that the raw field list agrees with the real CSDL and
// copies its IsRequired annotations.
func mergeExcerpt(t *entityType, real *excerptType) error {
	if len(real.props) != len(t.props) {
		return fmt.Errorf("%s: %s has %d properties, %s has %d", ExcerptFile, t.set, len(real.props), FieldsFile, len(t.props))
	}
	for _, rp := range real.props {
		p := t.index[rp.Name]
		if p == nil {
			return fmt.Errorf("%s: %s.%s is missing from %s", ExcerptFile, t.set, rp.Name, FieldsFile)
		}
		if p.typ != rp.Type {
			return fmt.Errorf("%s: %s.%s is %s there but %s from %s", ExcerptFile, t.set, rp.Name, rp.Type, p.typ, FieldsFile)
		}
		for _, a := range rp.Annots {
			if a.Term == termPrefix+"IsRequired" && a.Bool == "true" {
				p.required = true
			}
		}
	}
	return nil
}

// singular derives an entity type name from its set name the way F&O names
// them (CustomersV3 -> CustomerV3, Currencies -> Currency). Only CustomerV3 is
// checked against a real $metadata; the others follow Microsoft's entity pages
// ("OData public entity" vs "OData public collection").
func singular(set string) string {
	stem, version := set, ""
	if i := strings.LastIndex(set, "V"); i > 0 && i < len(set)-1 && strings.Trim(set[i+1:], "0123456789") == "" {
		stem, version = set[:i], set[i:]
	}
	switch {
	case strings.HasSuffix(stem, "ies"):
		stem = strings.TrimSuffix(stem, "ies") + "y"
	case strings.HasSuffix(stem, "s"):
		stem = strings.TrimSuffix(stem, "s")
	}
	return stem + version
}

// render writes the CSDL document.
func render(types []*entityType, enums []*enumType) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<!-- Code generated by stdlib/d365fo/internal/gendefault; DO NOT EDIT.
     Sources: testdata/d365fo (entities_fields_raw.json, enums.json,
     CustomersV3_metadata_trimmed.edmx.xml) and the overlay table in
     stdlib/d365fo/internal/gendefault/gen/overlay.go. See stdlib/d365fo/README.md. -->
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="` + namespace + `" xmlns="http://docs.oasis-open.org/odata/ns/edm">
`)
	for _, e := range enums {
		fmt.Fprintf(&b, "      <EnumType Name=%s>\n", quote(e.name))
		for _, m := range e.members {
			if m.value != "" {
				fmt.Fprintf(&b, "        <Member Name=%s Value=%s />\n", quote(m.name), quote(m.value))
			} else {
				fmt.Fprintf(&b, "        <Member Name=%s />\n", quote(m.name))
			}
		}
		b.WriteString("      </EnumType>\n")
	}
	for _, t := range types {
		fmt.Fprintf(&b, "      <EntityType Name=%s>\n        <Key>\n", quote(t.name))
		for _, k := range t.keys {
			fmt.Fprintf(&b, "          <PropertyRef Name=%s />\n", quote(k))
		}
		b.WriteString("        </Key>\n")
		for _, p := range t.props {
			if p.comment != "" {
				fmt.Fprintf(&b, "        <!-- %s -->\n", p.comment)
			}
			fmt.Fprintf(&b, "        <Property Name=%s Type=%s", quote(p.name), quote(p.typ))
			if !p.nullable {
				b.WriteString(` Nullable="false"`)
			}
			if p.maxLength > 0 {
				fmt.Fprintf(&b, ` MaxLength="%d"`, p.maxLength)
			}
			if !p.required {
				b.WriteString(" />\n")
				continue
			}
			b.WriteString(">\n          <Annotation Term=\"" + termPrefix + "IsRequired\" Bool=\"true\" />\n        </Property>\n")
		}
		b.WriteString("      </EntityType>\n")
	}
	b.WriteString("      <EntityContainer Name=\"Resources\">\n")
	for _, t := range types {
		fmt.Fprintf(&b, "        <EntitySet Name=%s EntityType=%s />\n", quote(t.set), quote(namespace+"."+t.name))
	}
	b.WriteString("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n")
	return b.Bytes()
}

// quote returns s as a double-quoted, escaped XML attribute value.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	xml.EscapeText(&b, []byte(s)) // never fails on a strings.Builder
	b.WriteByte('"')
	return b.String()
}
