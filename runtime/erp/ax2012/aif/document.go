package aif

import (
	"encoding/xml"
	"fmt"

	"github.com/flowhq/flow/stdlib/ax2012"
)

// KeyField is one field of an entity key.
type KeyField struct{ Field, Value string }

// WriteEntityKeyList writes an EntityKeyList with one EntityKey per key.
func WriteEntityKeyList(w *Writer, keys [][]KeyField) {
	w.Start(ax2012.EntityKeyListNS, "EntityKeyList")
	for _, k := range keys {
		w.Start(ax2012.EntityKeyNS, "EntityKey")
		w.Start("", "KeyData")
		for _, f := range k {
			w.Start("", "KeyField")
			w.Text("", "Field", f.Field)
			w.Text("", "Value", f.Value)
			w.End("KeyField")
		}
		w.End("KeyData")
		w.End("EntityKey")
	}
	w.End("EntityKeyList")
}

// ReadEntityKeyList reads an EntityKeyList element (n may be its parent).
func ReadEntityKeyList(n *Node) ([][]KeyField, error) {
	if n != nil && n.Name.Local != "EntityKeyList" {
		n = n.Child("EntityKeyList")
	}
	if n == nil {
		return nil, fmt.Errorf("no EntityKeyList")
	}
	var out [][]KeyField
	for _, k := range n.All("EntityKey") {
		data := k.Child("KeyData")
		if data == nil {
			return nil, fmt.Errorf("EntityKey without KeyData")
		}
		var key []KeyField
		for _, f := range data.All("KeyField") {
			name := f.Child("Field")
			if name == nil || name.Text == "" {
				return nil, fmt.Errorf("KeyField without a Field name")
			}
			key = append(key, KeyField{Field: name.Text, Value: f.Child("Value").Value()})
		}
		if len(key) == 0 {
			return nil, fmt.Errorf("EntityKey without KeyFields")
		}
		out = append(out, key)
	}
	return out, nil
}

// Criterion is one CriteriaElement of a QueryCriteria. AIF joins the
// elements of one QueryCriteria with OR.
type Criterion struct {
	DataSource, Field, Operator, Value1, Value2 string
}

// WriteQueryCriteria writes a QueryCriteria.
func WriteQueryCriteria(w *Writer, cs []Criterion) {
	w.Start(ax2012.QueryCriteriaNS, "QueryCriteria")
	for _, c := range cs {
		w.Start("", "CriteriaElement")
		w.Text("", "DataSourceName", c.DataSource)
		w.Text("", "FieldName", c.Field)
		w.Text("", "Operator", c.Operator)
		w.Text("", "Value1", c.Value1)
		if c.Value2 != "" {
			w.Text("", "Value2", c.Value2)
		}
		w.End("CriteriaElement")
	}
	w.End("QueryCriteria")
}

// ReadQueryCriteria reads a QueryCriteria element (n may be its parent).
func ReadQueryCriteria(n *Node) ([]Criterion, error) {
	if n != nil && n.Name.Local != "QueryCriteria" {
		n = n.Child("QueryCriteria")
	}
	if n == nil {
		return nil, fmt.Errorf("no QueryCriteria")
	}
	var out []Criterion
	for _, e := range n.All("CriteriaElement") {
		c := Criterion{DataSource: e.Child("DataSourceName").Value(), Field: e.Child("FieldName").Value(),
			Operator: e.Child("Operator").Value(), Value1: e.Child("Value1").Value(), Value2: e.Child("Value2").Value()}
		if c.DataSource == "" || c.Field == "" || c.Operator == "" {
			return nil, fmt.Errorf("CriteriaElement needs DataSourceName, FieldName and Operator")
		}
		out = append(out, c)
	}
	return out, nil
}

// Entity is one table record in a document: field values as text, by the
// table's field names (flattened ones included).
type Entity struct {
	Fields   map[string]string
	Nil      map[string]bool // fields sent as xsi:nil
	Hash     string          // _DocumentHash
	Action   string          // action attribute: "", "create", "update", "delete"
	Children map[string][]*Entity
}

// WriteDocument writes a document element holding the root entities of
// table t (with their children).
func WriteDocument(w *Writer, t *ax2012.Table, ents []*Entity) {
	w.Start(t.Namespace(), t.Document)
	for _, e := range ents {
		writeEntity(w, t, e)
	}
	w.End(t.Document)
}

var classEntity = xml.Attr{Name: xml.Name{Local: "class"}, Value: "entity"}

func writeEntity(w *Writer, t *ax2012.Table, e *Entity) {
	attrs := []xml.Attr{classEntity}
	if e.Action != "" {
		attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "action"}, Value: e.Action})
	}
	w.Start("", t.Name, attrs...)
	if e.Hash != "" {
		w.Text("", "_DocumentHash", e.Hash)
	}
	open := "" // the wrapper element open now
	for i := range t.Fields {
		f := &t.Fields[i]
		v, set := e.Fields[f.Name]
		if !set {
			continue
		}
		path := f.ElementPath()
		wrapper := ""
		if len(path) == 2 {
			wrapper = path[0]
		}
		if open != wrapper {
			if open != "" {
				w.End(open)
			}
			if wrapper != "" {
				w.Start("", wrapper, wrapperAttrs(t.Wrappers[wrapper])...)
			}
			open = wrapper
		}
		leaf := path[len(path)-1]
		if e.Nil[f.Name] {
			w.Text("", leaf, "", nilAttr)
		} else {
			w.Text("", leaf, v)
		}
	}
	if open != "" {
		w.End(open)
	}
	for _, c := range ax2012.Children(t.Name) {
		for _, ce := range e.Children[c.Name] {
			writeEntity(w, c, ce)
		}
	}
	w.End(t.Name)
}

func wrapperAttrs(wr ax2012.Wrapper) []xml.Attr {
	var out []xml.Attr
	if wr.XSIType != "" {
		out = append(out, xml.Attr{Name: xml.Name{Space: xsiNS, Local: "type"}, Value: wr.XSIType})
	}
	if wr.Entity {
		out = append(out, classEntity)
	}
	return out
}

// ReadDocument reads the root entities of table t from a document element
// (n may be its parent, such as a read response). Unknown elements are
// skipped: AX returns many more fields than a table here declares.
func ReadDocument(n *Node, t *ax2012.Table) ([]*Entity, error) {
	if n != nil && n.Name.Local != t.Document {
		n = n.Child(t.Document)
	}
	if n == nil {
		return nil, fmt.Errorf("no %s document", t.Document)
	}
	var out []*Entity
	for _, en := range n.All(t.Name) {
		out = append(out, readEntity(en, t))
	}
	return out, nil
}

func readEntity(n *Node, t *ax2012.Table) *Entity {
	e := &Entity{Fields: map[string]string{}, Children: map[string][]*Entity{}}
	e.Action, _ = n.AttrValue("action")
	if h := n.Child("_DocumentHash"); h != nil {
		e.Hash = h.Text
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		v := n.Path(f.ElementPath()...)
		if v == nil {
			continue
		}
		if v.Nil() {
			if e.Nil == nil {
				e.Nil = map[string]bool{}
			}
			e.Nil[f.Name] = true
			continue
		}
		e.Fields[f.Name] = v.Text
	}
	for _, c := range ax2012.Children(t.Name) {
		for _, cn := range n.All(c.Name) {
			e.Children[c.Name] = append(e.Children[c.Name], readEntity(cn, c))
		}
	}
	return e
}

// UnknownElements lists the elements of an entity that are neither fields
// of t, its wrappers nor its children: what a strict server rejects.
func UnknownElements(n *Node, t *ax2012.Table) []string {
	known := map[string]bool{"_DocumentHash": true}
	for i := range t.Fields {
		known[t.Fields[i].ElementPath()[0]] = true
	}
	for _, c := range ax2012.Children(t.Name) {
		known[c.Name] = true
	}
	var out []string
	for _, c := range n.Children {
		if !known[c.Name.Local] {
			out = append(out, c.Name.Local)
		}
	}
	return out
}

// EntityNodes returns the table elements of a document element.
func EntityNodes(doc *Node, t *ax2012.Table) []*Node { return doc.All(t.Name) }
