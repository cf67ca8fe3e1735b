package gen

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// excerpt is what the generator takes from the real $metadata excerpt. The
// file is small, so it is decoded whole with xml.Unmarshal.
type excerpt struct {
	enums map[string]*enumType    // by name, members with their values
	sets  map[string]*excerptType // by entity set name
}

type excerptType struct {
	typeName string
	props    []xProperty
}

type xEdmx struct {
	Schemas []struct {
		Namespace string `xml:"Namespace,attr"`
		Enums     []struct {
			Name    string `xml:"Name,attr"`
			Members []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:"Value,attr"`
			} `xml:"Member"`
		} `xml:"EnumType"`
		Types []struct {
			Name  string      `xml:"Name,attr"`
			Props []xProperty `xml:"Property"`
		} `xml:"EntityType"`
		Sets []struct {
			Name       string `xml:"Name,attr"`
			EntityType string `xml:"EntityType,attr"`
		} `xml:"EntityContainer>EntitySet"`
	} `xml:"DataServices>Schema"`
}

type xProperty struct {
	Name   string `xml:"Name,attr"`
	Type   string `xml:"Type,attr"`
	Annots []struct {
		Term string `xml:"Term,attr"`
		Bool string `xml:"Bool,attr"`
	} `xml:"Annotation"`
}

func readExcerpt(fsys fs.FS) (*excerpt, error) {
	b, err := fs.ReadFile(fsys, ExcerptFile)
	if err != nil {
		return nil, err
	}
	var doc xEdmx
	if err := xml.Unmarshal(bytes.TrimPrefix(b, []byte("\ufeff")), &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", ExcerptFile, err)
	}
	ex := &excerpt{enums: map[string]*enumType{}, sets: map[string]*excerptType{}}
	for _, s := range doc.Schemas {
		if s.Namespace != namespace {
			continue // the vocabulary schema (AXType)
		}
		for _, e := range s.Enums {
			et := &enumType{name: e.Name}
			for _, m := range e.Members {
				et.members = append(et.members, member{m.Name, m.Value})
			}
			ex.enums[e.Name] = et
		}
		for _, set := range s.Sets {
			typeName, ok := strings.CutPrefix(set.EntityType, namespace+".")
			if !ok {
				return nil, fmt.Errorf("%s: entity set %s: unexpected type %s", ExcerptFile, set.Name, set.EntityType)
			}
			for _, t := range s.Types {
				if t.Name == typeName {
					ex.sets[set.Name] = &excerptType{typeName: typeName, props: t.Props}
				}
			}
			if ex.sets[set.Name] == nil {
				return nil, fmt.Errorf("%s: entity set %s: type %s not found", ExcerptFile, set.Name, typeName)
			}
		}
	}
	return ex, nil
}

// enumResolver finds enum types by the name entities_fields_raw.json uses.
// That file's names come from a code generator that re-cases them
// ("Abc" for ABC, "EfDocPresenceTypeBr" for EFDocPresenceType_BR), so names
// are matched ignoring case and underscores. The real excerpt wins over
// enums.json because it has the member values and the real type name.
type enumResolver struct {
	byKey map[string]*enumType
	seen  map[string]*enumType
}

func newEnumResolver(listed map[string][]string, real map[string]*enumType) *enumResolver {
	r := &enumResolver{byKey: map[string]*enumType{}, seen: map[string]*enumType{}}
	for name, members := range listed {
		et := &enumType{name: name}
		for _, m := range members {
			et.members = append(et.members, member{name: m})
		}
		r.byKey[enumKey(name)] = et
	}
	for _, et := range real {
		r.byKey[enumKey(et.name)] = et
	}
	return r
}

func enumKey(name string) string { return strings.ToLower(strings.ReplaceAll(name, "_", "")) }

// resolve returns the enum type for a raw name, or nil when no source lists
// its members.
func (r *enumResolver) resolve(name string) *enumType {
	et := r.byKey[enumKey(name)]
	if et != nil {
		r.seen[et.name] = et
	}
	return et
}

// used returns the enum types some property references, sorted by name.
func (r *enumResolver) used() []*enumType {
	out := make([]*enumType, 0, len(r.seen))
	for _, et := range r.seen {
		out = append(out, et)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
