package sandbox

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
	"github.com/flowhq/flow/stdlib/schema"
)

// document returns the document element of a request body.
func document(body *aif.Node, root *ax2012.Table) (*aif.Node, *aifError) {
	doc := body.Child(root.Document)
	if doc == nil || doc.Name.Space != root.Namespace() {
		return nil, failf("Invalid document schema: the request holds no <%s> in namespace %s.", root.Document, root.Namespace())
	}
	return doc, nil
}

// checkNodes rejects elements the tables do not know, in an entity and
// its lines.
func checkNodes(n *aif.Node, t *ax2012.Table) *aifError {
	if unknown := aif.UnknownElements(n, t); len(unknown) > 0 {
		return failf("Invalid document schema. The following error was returned: The element '%s' has invalid child element '%s'.", t.Name, unknown[0])
	}
	for _, ct := range ax2012.Children(t.Name) {
		for _, cn := range n.All(ct.Name) {
			if err := checkNodes(cn, ct); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) opCreate(company string, root *ax2012.Table, body *aif.Node) (func(*aif.Writer), *aifError) {
	doc, ferr := document(body, root)
	if ferr != nil {
		return nil, ferr
	}
	nodes := doc.All(root.Name)
	if len(nodes) == 0 {
		return nil, failf("The document holds no %s.", root.Name)
	}
	for _, n := range nodes {
		if ferr := checkNodes(n, root); ferr != nil {
			return nil, ferr
		}
	}
	ents, err := aif.ReadDocument(doc, root)
	if err != nil {
		return nil, failf("%v", err)
	}
	before := len(s.st.table(company, root.Name))
	var keys [][]aif.KeyField
	for _, e := range ents {
		key, ferr := s.st.create(company, root, e)
		if ferr != nil { // a document is one transaction
			if rows := s.st.rows[company]; rows != nil && len(rows[root.Name]) > before {
				rows[root.Name] = rows[root.Name][:before]
			}
			return nil, ferr
		}
		keys = append(keys, []aif.KeyField{{Field: root.Key, Value: key}})
	}
	return func(w *aif.Writer) { aif.WriteEntityKeyList(w, keys) }, nil
}

func (s *Server) opRead(company string, root *ax2012.Table, body *aif.Node) (func(*aif.Writer), *aifError) {
	keys, err := aif.ReadEntityKeyList(body)
	if err != nil {
		return nil, failf("Invalid document schema: %v.", err)
	}
	var ents []*aif.Entity
	for _, k := range keys {
		if len(k) != 1 || k[0].Field != root.Key {
			return nil, failf("The entity key must hold the one field %s.", root.Key)
		}
		r := s.st.byKey(company, root, k[0].Value)
		if r == nil {
			return nil, failf("No valid document identified from the entity key.")
		}
		ents = append(ents, r.entity(root))
	}
	return func(w *aif.Writer) { aif.WriteDocument(w, root, ents) }, nil
}

func (s *Server) opFind(company string, root *ax2012.Table, body *aif.Node) (func(*aif.Writer), *aifError) {
	crits, err := aif.ReadQueryCriteria(body)
	if err != nil {
		return nil, failf("Invalid document schema: %v.", err)
	}
	if len(crits) == 0 {
		return nil, failf("The query criteria hold no criteria element.")
	}
	preds := make([]func(*row) bool, len(crits))
	for i, c := range crits {
		p, ferr := predicate(root, c)
		if ferr != nil {
			return nil, ferr
		}
		preds[i] = p
	}
	var ents []*aif.Entity
	for _, r := range s.st.table(company, root.Name) {
		for _, p := range preds { // criteria elements are ORed
			if p(r) {
				ents = append(ents, r.entity(root))
				break
			}
		}
	}
	return func(w *aif.Writer) { aif.WriteDocument(w, root, ents) }, nil
}

// predicate compiles one criteria element against the document's tables.
func predicate(root *ax2012.Table, c aif.Criterion) (func(*row) bool, *aifError) {
	field := func(t *ax2012.Table, wrapper string) *ax2012.Field {
		for i := range t.Fields {
			p := t.Fields[i].ElementPath()
			if wrapper == "" && len(p) == 1 && p[0] == c.Field || wrapper != "" && len(p) == 2 && p[0] == wrapper && p[1] == c.Field {
				return &t.Fields[i]
			}
		}
		return nil
	}
	var f *ax2012.Field
	var child *ax2012.Table
	switch {
	case c.DataSource == root.Name:
		f = field(root, "")
	case hasWrapper(root, c.DataSource):
		f = field(root, c.DataSource)
	default:
		for _, ct := range ax2012.Children(root.Name) {
			if ct.Name == c.DataSource {
				child, f = ct, field(ct, "")
			}
		}
	}
	if f == nil {
		return nil, failf("Field %s of data source %s is not in the query of the %s document.", c.Field, c.DataSource, root.Document)
	}
	cmp, ferr := comparison(f, c)
	if ferr != nil {
		return nil, ferr
	}
	if child == nil {
		return func(r *row) bool { return cmp(r.fields[f.Name]) }, nil
	}
	return func(r *row) bool {
		for _, l := range r.lines[child.Name] {
			if cmp(l[f.Name]) {
				return true
			}
		}
		return false
	}, nil
}

func hasWrapper(t *ax2012.Table, name string) bool {
	_, ok := t.Wrappers[name]
	return ok
}

// comparison compares stored text with the criterion's values: numbers by
// value, everything else as text without regard to case.
func comparison(f *ax2012.Field, c aif.Criterion) (func(string) bool, *aifError) {
	order := func(a, b string) int {
		if f.Type.Kind == schema.Decimal || f.Type.Kind == schema.Int {
			x, err1 := decimal.NewFromString(a)
			y, err2 := decimal.NewFromString(b)
			if err1 == nil && err2 == nil {
				return x.Cmp(y)
			}
		}
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	}
	v1, v2 := c.Value1, c.Value2
	switch c.Operator {
	case "Equal":
		return func(s string) bool { return order(s, v1) == 0 }, nil
	case "NotEqual":
		return func(s string) bool { return order(s, v1) != 0 }, nil
	case "Greater":
		return func(s string) bool { return order(s, v1) > 0 }, nil
	case "GreaterOrEqual":
		return func(s string) bool { return order(s, v1) >= 0 }, nil
	case "Less":
		return func(s string) bool { return order(s, v1) < 0 }, nil
	case "LessOrEqual":
		return func(s string) bool { return order(s, v1) <= 0 }, nil
	case "Range":
		return func(s string) bool { return order(s, v1) >= 0 && order(s, v2) <= 0 }, nil
	}
	return nil, failf("'%s' is not a query criteria operator.", c.Operator)
}

func (s *Server) opUpdate(company string, root *ax2012.Table, body *aif.Node) (func(*aif.Writer), *aifError) {
	if !root.Updatable {
		return nil, failf("The %s service does not support the update operation.", root.Service)
	}
	keys, err := aif.ReadEntityKeyList(body)
	if err != nil {
		return nil, failf("Invalid document schema: %v.", err)
	}
	doc, ferr := document(body, root)
	if ferr != nil {
		return nil, ferr
	}
	nodes := doc.All(root.Name)
	if len(nodes) != len(keys) {
		return nil, failf("The document holds %d %s records for %d entity keys.", len(nodes), root.Name, len(keys))
	}
	type change struct {
		at   *row
		next *row
	}
	var changes []change
	for i, n := range nodes {
		if ferr := checkNodes(n, root); ferr != nil {
			return nil, ferr
		}
		k := keys[i]
		if len(k) != 1 || k[0].Field != root.Key {
			return nil, failf("The entity key must hold the one field %s.", root.Key)
		}
		r := s.st.byKey(company, root, k[0].Value)
		if r == nil {
			return nil, failf("No valid document identified from the entity key.")
		}
		ents, _ := aif.ReadDocument(&aif.Node{Name: doc.Name, Children: []*aif.Node{n}}, root)
		e := ents[0]
		if e.Action != "update" {
			return nil, failf("A partial update must mark %s with action=\"update\".", root.Name)
		}
		if e.Hash != r.hash(root) {
			return nil, failf("The document hash does not match the hash of the record %s; it was changed after it was read.", k[0].Value)
		}
		if ferr := check(nil, root, e, false, false); ferr != nil {
			return nil, ferr
		}
		next := &row{fields: copyMap(r.fields), lines: map[string][]map[string]string{}, version: r.version + 1, recID: r.recID}
		for name, ls := range r.lines {
			next.lines[name] = append([]map[string]string(nil), ls...)
		}
		for name, v := range e.Fields {
			if name != root.Key {
				next.fields[name] = v
			}
		}
		for _, ct := range ax2012.Children(root.Name) {
			for _, ce := range e.Children[ct.Name] {
				if ce.Action != "create" {
					return nil, failf("The sandbox only adds %s records in an update (action=\"create\"), not action=%q.", ct.Name, ce.Action)
				}
				if ferr := s.st.addLine(root, next, ct, ce); ferr != nil {
					return nil, ferr
				}
			}
		}
		changes = append(changes, change{r, next})
	}
	for _, c := range changes {
		*c.at = *c.next
		s.st.changed = append(s.st.changed, changed{company, root.Name, c.at})
	}
	return nil, nil
}
