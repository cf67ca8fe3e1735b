package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp/ax2012/aif"
	"github.com/flowhq/flow/stdlib/ax2012"
	"github.com/flowhq/flow/stdlib/schema"
)

// aifError is what becomes an AifFault.
type aifError struct {
	kind     string // XppExceptionType
	messages []string
}

func failf(format string, args ...any) *aifError {
	return &aifError{kind: "Error", messages: []string{fmt.Sprintf(format, args...)}}
}

// row is one root record with its lines.
type row struct {
	fields  map[string]string
	lines   map[string][]map[string]string // by child table
	version int
	recID   int64
}

// store holds the records: company -> root table -> rows. The Server's
// mutex guards it.
type store struct {
	rows    map[string]map[string][]*row
	seq     map[string]int64 // number sequences, by company + table
	recID   int64
	changed []changed // root rows the running write created or changed, for save
}

func newStore() *store {
	return &store{rows: map[string]map[string][]*row{}, seq: map[string]int64{}, recID: 5637144575}
}

func (st *store) table(company, table string) []*row {
	return st.rows[company][table]
}

func (st *store) next(company, table string) int64 {
	st.seq[company+"/"+table]++
	return st.seq[company+"/"+table]
}

// number is the next value of a table's number sequence.
func (st *store) number(company string, t *ax2012.Table) string {
	n := st.next(company, t.Name)
	switch t.Name {
	case "SalesTable":
		return fmt.Sprintf("SO-%06d", n)
	case "LedgerJournalTable":
		return fmt.Sprintf("%06d", n)
	case "CustTable":
		return fmt.Sprintf("C-%06d", n)
	}
	return strconv.FormatInt(n, 10)
}

func (r *row) hash(t *ax2012.Table) string {
	sum := md5.Sum([]byte(fmt.Sprintf("%s\x00%s\x00%d", t.Name, r.fields[t.Key], r.version)))
	return hex.EncodeToString(sum[:])
}

func (st *store) byKey(company string, t *ax2012.Table, key string) *row {
	for _, r := range st.table(company, t.Name) {
		if strings.EqualFold(r.fields[t.Key], key) {
			return r
		}
	}
	return nil
}

// check validates the fields of an entity for table t: known elements,
// values of the right kind and length, and (on create) required fields.
func check(n *aif.Node, t *ax2012.Table, e *aif.Entity, create, nested bool) *aifError {
	if n != nil {
		if unknown := aif.UnknownElements(n, t); len(unknown) > 0 {
			return failf("Invalid document schema. The following error was returned: The element '%s' has invalid child element '%s'.", t.Name, unknown[0])
		}
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		v, set := e.Fields[f.Name]
		if nested && f.Name == t.Link {
			continue
		}
		if !set || v == "" {
			if create && f.Required {
				return failf("Field '%s' in table '%s' must be filled in.", f.Name, t.Name)
			}
			continue
		}
		if f.ReadOnly {
			return failf("Field '%s' in table '%s' cannot be set; AX fills it.", f.Name, t.Name)
		}
		if err := checkValue(f, v); err != "" {
			return failf("Field '%s' in table '%s': %s", f.Name, t.Name, err)
		}
	}
	return nil
}

func checkValue(f *ax2012.Field, v string) string {
	switch f.Type.Kind {
	case schema.String:
		if f.MaxLength > 0 && utf8.RuneCountInString(v) > f.MaxLength {
			return fmt.Sprintf("the value is longer than %d characters.", f.MaxLength)
		}
		if !f.Type.HasEnumValue(v) {
			return fmt.Sprintf("'%s' is not a valid value.", v)
		}
	case schema.Decimal:
		if _, err := decimal.NewFromString(v); err != nil {
			return fmt.Sprintf("'%s' is not a valid real value.", v)
		}
	case schema.Int:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Sprintf("'%s' is not a valid integer.", v)
		}
	case schema.Timestamp:
		layout := time.RFC3339
		if f.Date {
			layout = time.DateOnly
		}
		if _, err := time.Parse(layout, v); err != nil {
			return fmt.Sprintf("'%s' is not a valid %s.", v, map[bool]string{true: "date", false: "date and time"}[f.Date])
		}
	}
	return ""
}

// create validates and stores a root entity with its lines and returns
// its key.
func (st *store) create(company string, t *ax2012.Table, e *aif.Entity) (string, *aifError) {
	fields := copyMap(e.Fields)
	if err := check(nil, t, &aif.Entity{Fields: fields}, true, false); err != nil {
		return "", err
	}
	switch t.Name {
	case "SalesTable":
		if st.byKey(company, st.custTable(), fields["CustAccount"]) == nil {
			return "", failf("Customer account %s does not exist.", fields["CustAccount"])
		}
		if fields["SalesType"] == "" {
			fields["SalesType"] = "Sales"
		}
		fields["SalesStatus"] = "Backorder"
	case "CustTable":
		if fields["NameAlias"] == "" {
			fields["NameAlias"] = truncate(fields["Name"], 20)
		}
	}
	key := fields[t.Key]
	if key == "" {
		key = st.number(company, t)
		fields[t.Key] = key
	} else if st.byKey(company, t, key) != nil {
		return "", failf("Cannot create a record in %s (%s). %s: %s. The record already exists.", t.Document, t.Name, t.Key, key)
	}
	if t.Name == "CustTable" {
		fields["PartyNumber"] = fmt.Sprintf("%09d", st.next(company, "DirParty"))
	}
	st.recID++
	r := &row{fields: fields, lines: map[string][]map[string]string{}, recID: st.recID}
	fields["RecId"] = strconv.FormatInt(r.recID, 10)
	for _, ct := range ax2012.Children(t.Name) {
		for _, ce := range e.Children[ct.Name] {
			if err := st.addLine(t, r, ct, ce); err != nil {
				return "", err
			}
		}
	}
	if t.Name == "LedgerJournalTable" {
		if err := balanced(r.lines["LedgerJournalTrans"]); err != nil {
			return "", err
		}
	}
	if st.rows[company] == nil {
		st.rows[company] = map[string][]*row{}
	}
	st.rows[company][t.Name] = append(st.rows[company][t.Name], r)
	st.changed = append(st.changed, changed{company, t.Name, r})
	return key, nil
}

func (st *store) custTable() *ax2012.Table { return ax2012.Tables()["CustTable"] }

// addLine validates a line and adds it to r, numbering it when it has no
// line number.
func (st *store) addLine(t *ax2012.Table, r *row, ct *ax2012.Table, ce *aif.Entity) *aifError {
	line := copyMap(ce.Fields)
	if err := check(nil, ct, &aif.Entity{Fields: line}, true, true); err != nil {
		return err
	}
	if p, set := line[ct.Link]; set && p != "" && !strings.EqualFold(p, r.fields[t.Key]) {
		return failf("Field '%s' in table '%s' is %s, but the line belongs to %s.", ct.Link, ct.Name, p, r.fields[t.Key])
	}
	line[ct.Link] = r.fields[t.Key]
	existing := r.lines[ct.Name]
	if line[ct.Key] == "" {
		max := decimal.Zero
		for _, l := range existing {
			if n, err := decimal.NewFromString(l[ct.Key]); err == nil && n.GreaterThan(max) {
				max = n
			}
		}
		line[ct.Key] = max.Add(decimal.NewFromInt(1)).String()
	}
	for _, l := range existing {
		if sameNumber(l[ct.Key], line[ct.Key]) {
			return failf("Cannot create a record in %s (%s). %s: %s, %s. The record already exists.", ct.Name, ct.Name, ct.Link, line[ct.Link], line[ct.Key])
		}
	}
	if ct.Name == "SalesLine" && line["LineAmount"] == "" && line["SalesPrice"] != "" {
		q, _ := decimal.NewFromString(line["SalesQty"])
		p, _ := decimal.NewFromString(line["SalesPrice"])
		line["LineAmount"] = q.Mul(p).String()
	}
	if ct.Name == "SalesLine" {
		line["InventTransId"] = fmt.Sprintf("LOT-%06d", st.next("", "InventTransId"))
	}
	st.recID++
	line["RecId"] = strconv.FormatInt(st.recID, 10)
	r.lines[ct.Name] = append(existing, line)
	return nil
}

// balanced checks that a journal's debits equal its credits per currency.
func balanced(lines []map[string]string) *aifError {
	sums := map[string]decimal.Decimal{}
	var order []string
	for _, l := range lines {
		cur := strings.ToUpper(l["CurrencyCode"])
		if _, ok := sums[cur]; !ok {
			order = append(order, cur)
		}
		d, _ := decimal.NewFromString(nz(l["AmountCurDebit"]))
		c, _ := decimal.NewFromString(nz(l["AmountCurCredit"]))
		sums[cur] = sums[cur].Add(d).Sub(c)
	}
	for _, cur := range order {
		if !sums[cur].IsZero() {
			return failf("The transactions on voucher do not balance in %s: the difference is %s.", cur, sums[cur])
		}
	}
	return nil
}

func nz(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func sameNumber(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return x.Equal(y)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// records lists a table's records as text; lines carry their parent's key.
func (st *store) records(company string, t *ax2012.Table) []map[string]string {
	var out []map[string]string
	if t.Parent == "" {
		for _, r := range st.table(company, t.Name) {
			out = append(out, copyMap(r.fields))
		}
		return out
	}
	for _, r := range st.table(company, t.Parent) {
		for _, l := range r.lines[t.Name] {
			out = append(out, copyMap(l))
		}
	}
	return out
}

// entity renders a stored row for a document.
func (r *row) entity(t *ax2012.Table) *aif.Entity {
	e := &aif.Entity{Fields: copyMap(r.fields), Hash: r.hash(t), Children: map[string][]*aif.Entity{}}
	for _, ct := range ax2012.Children(t.Name) {
		for _, l := range r.lines[ct.Name] {
			e.Children[ct.Name] = append(e.Children[ct.Name], &aif.Entity{Fields: copyMap(l)})
		}
	}
	return e
}
