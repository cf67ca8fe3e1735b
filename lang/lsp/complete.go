package lsp

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"go.lsp.dev/protocol"

	"github.com/flowhq/flow/compiler"
	"github.com/flowhq/flow/lang/ast"
	"github.com/flowhq/flow/stdlib/schema"
)

// keywords are the words completion offers where a statement or
// declaration may begin, and inside statements.
var keywords = func() []string {
	var out []string
	for k := range ast.Keywords {
		out = append(out, k)
	}
	out = append(out, "as", "by", "key", "where", "and", "else", "in", "amount", "skip", "fail", "wait", "true", "false", "null")
	sort.Strings(out)
	return out
}()

func (s *Server) completion(_ context.Context, p *protocol.CompletionParams) (any, error) {
	list := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	snap, f := s.fileAt(p.TextDocument.URI)
	if f == nil {
		return list, nil
	}
	if f.syntax { // names and types from the last check in which it parsed
		s.mu.Lock()
		if good := s.lastGood[f.path]; good != nil {
			snap = good
		}
		s.mu.Unlock()
	}
	list.Items = snap.complete(f.text.src, f.text.offset(p.Position))
	return list, nil
}

// lexState is where an offset falls lexically.
type lexState struct {
	comment  bool
	strStart int   // offset of the open string's quote, or -1
	open     []int // offsets of the unclosed brackets, outermost first
}

// scanTo scans src up to offset, tracking comments, strings and brackets.
func scanTo(src []byte, offset int) lexState {
	st := lexState{strStart: -1}
	for i := 0; i < offset; i++ {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				if i >= offset {
					st.comment = true
					return st
				}
				i++
			}
			if i >= offset {
				st.comment = true
				return st
			}
		case c == '"' || c == '\'':
			start := i
			triple := i+2 < len(src) && src[i+1] == c && src[i+2] == c
			if triple {
				i += 3
				for i < len(src) && !(src[i] == c && i+2 < len(src) && src[i+1] == c && src[i+2] == c) {
					i++
				}
				i += 2
			} else {
				for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
					if src[i] == '\\' {
						i++
					}
				}
			}
			if i >= offset {
				st.strStart = start
				return st
			}
		case c == '(' || c == '[' || c == '{':
			st.open = append(st.open, i)
		case c == ')' || c == ']' || c == '}':
			if len(st.open) > 0 {
				st.open = st.open[:len(st.open)-1]
			}
		}
	}
	return st
}

var (
	reMember     = regexp.MustCompile(`([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*|\s*\[[^\[\]]*\])*)\s*\.\s*(\w*)$`)
	reSegment    = regexp.MustCompile(`[A-Za-z_]\w*|\[[^\[\]]*\]`)
	reIndex      = regexp.MustCompile(`([A-Za-z_]\w*)\s*\[\s*$`)
	reWrite      = regexp.MustCompile(`\b(?:create|upsert|update)\s+(?:[A-Za-z_]\w*\s*=\s*)?([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\s+key\b[^{}]*)?\s*$`)
	reElseCreate = regexp.MustCompile(`\belse\s+create\s*$`)
	reLookup     = regexp.MustCompile(`\blookup\s+[A-Za-z_]\w*\s*=\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s+where\b`)
	reHeader     = regexp.MustCompile(`\bheader\s*$`)
	reJournal    = regexp.MustCompile(`\bjournal\s+([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\s+key\b[^{}]*)?\s*$`)
	reImport     = regexp.MustCompile(`\bimport\s+"([^"]+)"(?:\s+as\s+[A-Za-z_]\w*)?\s*$`)
	reEnv        = regexp.MustCompile(`\benv\s+[A-Za-z_]\w*\s*$`)
	reFieldName  = regexp.MustCompile(`^\s*\w*$`)
	reOnIn       = regexp.MustCompile(`\b(on|in)\s*$`)
)

// complete returns the completions at offset of src.
func (snap *snapshot) complete(src []byte, off int) []protocol.CompletionItem {
	off = max(0, min(off, len(src)))
	st := scanTo(src, off)
	if st.comment {
		return []protocol.CompletionItem{}
	}
	flow := enclosingFlow(src, off)
	sc := snap.scope(flow)
	before := string(src[max(0, off-2000):off])
	if st.strStart >= 0 { // a table key being written: t["...
		if m := reIndex.FindStringSubmatch(string(src[max(0, st.strStart-200):st.strStart])); m != nil {
			return snap.tableKeys(sc[m[1]], false)
		}
		return []protocol.CompletionItem{}
	}
	if m := reMember.FindStringSubmatch(before); m != nil {
		head := before[:len(before)-len(m[0])]
		return snap.members(sc, m[1], head)
	}
	if m := reIndex.FindStringSubmatch(before); m != nil {
		if sym := sc[m[1]]; sym != nil && sym.Kind == compiler.TableSym {
			return snap.tableKeys(sym, true)
		}
	}
	if n := len(st.open); n > 0 && src[st.open[n-1]] == '{' {
		brace := st.open[n-1]
		inner := string(src[brace+1 : off])
		if i := strings.LastIndexAny(inner, ",\n"); i >= 0 {
			inner = inner[i+1:]
		}
		if reFieldName.MatchString(inner) {
			if items, ok := snap.blockFields(src, st.open, sc); ok {
				return items
			}
		}
	}
	return snap.names(sc)
}

// members completes after a dot: the fields of a typed path, or the
// events, lists and entities of a connector.
func (snap *snapshot) members(sc map[string]*compiler.Symbol, path, head string) []protocol.CompletionItem {
	segs := reSegment.FindAllString(path, -1)
	if len(segs) == 0 {
		return []protocol.CompletionItem{}
	}
	if c := snap.connector(segs[0]); c != nil && (sc[segs[0]] == nil || sc[segs[0]].Kind == compiler.ConnectorSym) {
		return connectorMembers(c, strings.Join(segs[1:], "."), reOnIn.FindStringSubmatch(head))
	}
	sym := sc[segs[0]]
	if sym == nil {
		return []protocol.CompletionItem{}
	}
	t := sym.Type
	for _, seg := range segs[1:] {
		t = snap.step(t, seg)
	}
	if t == nil || t.Kind != schema.Struct {
		return []protocol.CompletionItem{}
	}
	o := snap.object(t.Object)
	if o == nil {
		return []protocol.CompletionItem{}
	}
	items := []protocol.CompletionItem{}
	for i, fld := range o.Fields {
		items = append(items, protocol.CompletionItem{
			Label: fld.Name, Kind: protocol.CompletionItemKindField, Detail: fld.Type.String(),
			Documentation: markdown(fieldDoc(o, fld)), SortText: sortKey(0, i),
		})
	}
	return items
}

// step returns the type of a field selection or an index on t.
func (snap *snapshot) step(t *schema.Type, seg string) *schema.Type {
	if t == nil {
		return nil
	}
	if strings.HasPrefix(seg, "[") {
		if t.Kind == schema.List || t.Kind == schema.Map {
			return t.Elem
		}
		return nil
	}
	switch t.Kind {
	case schema.Map:
		return t.Elem
	case schema.Struct:
		if o := snap.object(t.Object); o != nil {
			if f, ok := o.Field(seg); ok {
				return f.Type
			}
		}
	}
	return nil
}

// connectorMembers completes `alias.`: events after `on`, lists after
// `in`, entities elsewhere. prefix is what follows the alias, such as
// "charge." in `on stripe.charge.`.
func connectorMembers(c *schema.Connector, prefix string, ctx []string) []protocol.CompletionItem {
	if prefix != "" {
		prefix += "."
	}
	word := ""
	if ctx != nil {
		word = ctx[1]
	}
	items := []protocol.CompletionItem{}
	add := func(names []string, kind protocol.CompletionItemKind, detail func(string) string, doc func(string) string) {
		for i, n := range names {
			if !strings.HasPrefix(n, prefix) {
				continue
			}
			items = append(items, protocol.CompletionItem{Label: n[len(prefix):], Kind: kind, Detail: detail(n), Documentation: markdown(doc(n)), SortText: sortKey(0, i)})
		}
	}
	if word == "on" || (word == "" && c.Kind == schema.Gateway) {
		add(c.EventNames(), protocol.CompletionItemKindEvent,
			func(n string) string { return "event " + c.Events[n].Envelope },
			func(n string) string { return "ev.data.object is " + c.Events[n].Object })
	}
	if word == "in" || (word == "" && c.Kind == schema.Gateway) {
		add(c.ListNames(), protocol.CompletionItemKindMethod,
			func(n string) string { return "list(" + c.Lists[n].Elem + ")" },
			func(n string) string { return c.Lists[n].Doc })
	}
	if word == "" && c.Kind == schema.ERP {
		add(c.EntityNames(), protocol.CompletionItemKindClass,
			func(n string) string { return "entity " + c.Entities[n].Name },
			func(n string) string { return objectDoc(c.Entities[n]) })
	}
	return items
}

// tableKeys completes the keys of a table declared as a map literal;
// quoted wraps them in quotes (the cursor is not in a string yet).
func (snap *snapshot) tableKeys(sym *compiler.Symbol, quoted bool) []protocol.CompletionItem {
	items := []protocol.CompletionItem{}
	if sym == nil || sym.Kind != compiler.TableSym || sym.Decl == nil {
		return items
	}
	f := snap.files[sym.File]
	if f == nil || f.ast == nil {
		return items
	}
	for _, d := range f.ast.Decls {
		t, ok := d.(*ast.Table)
		if !ok || t.Name != sym.Decl || t.Value == nil {
			continue
		}
		for i, kv := range mapLiteral(t.Value.Text) {
			label := kv[0]
			if quoted {
				label = strconv.Quote(kv[0])
			}
			items = append(items, protocol.CompletionItem{Label: label, Kind: protocol.CompletionItemKindValue, Detail: kv[1], SortText: sortKey(0, i)})
		}
	}
	return items
}

// mapLiteral returns the string keys of a CEL map literal with the source
// text of their values.
func mapLiteral(text string) [][2]string {
	env, err := cel.NewEnv()
	if err != nil {
		return nil
	}
	a, iss := env.Parse(text)
	if iss.Err() != nil || a.NativeRep().Expr().Kind() != celast.MapKind {
		return nil
	}
	var out [][2]string
	for _, en := range a.NativeRep().Expr().AsMap().Entries() {
		me := en.AsMapEntry()
		if me.Key().Kind() != celast.LiteralKind {
			continue
		}
		k, ok := me.Key().AsLiteral().Value().(string)
		if !ok {
			continue
		}
		v := ""
		if me.Value().Kind() == celast.LiteralKind {
			if s, ok := me.Value().AsLiteral().Value().(string); ok {
				v = strconv.Quote(s)
			}
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// blockFields completes a field name in a brace block: an entity's fields
// in a write, a lookup's create, a journal's header or lines; an import's
// configuration; an env's params.
func (snap *snapshot) blockFields(src []byte, open []int, sc map[string]*compiler.Symbol) ([]protocol.CompletionItem, bool) {
	brace := open[len(open)-1]
	head := string(src[max(0, brace-600):brace])
	var o *schema.Object
	var extra []string
	switch {
	case reWrite.MatchString(head):
		m := reWrite.FindStringSubmatch(head)
		o = snap.entityNamed(m[1], m[2])
	case reElseCreate.MatchString(head):
		if ms := reLookup.FindAllStringSubmatch(string(src[:brace]), -1); len(ms) > 0 {
			m := ms[len(ms)-1]
			o = snap.entityNamed(m[1], m[2])
		}
	case reHeader.MatchString(head) && len(open) >= 2:
		outer := open[len(open)-2]
		if m := reJournal.FindStringSubmatch(string(src[max(0, outer-600):outer])); m != nil {
			o = snap.journalHeader(&ast.Path{Parts: []*ast.Ident{{Name: m[1]}, {Name: m[2]}}})
		}
	case reJournal.MatchString(head):
		m := reJournal.FindStringSubmatch(head)
		o = snap.entityNamed(m[1], m[2])
		extra = []string{"header", "debit", "credit"}
	case reImport.MatchString(head):
		m := reImport.FindStringSubmatch(head)
		items := []protocol.CompletionItem{}
		if snap.info != nil {
			for _, c := range snap.info.Connectors {
				if c.Name != m[1] {
					continue
				}
				for i, fld := range c.Config {
					items = append(items, protocol.CompletionItem{Label: fld.Name, Kind: protocol.CompletionItemKindProperty,
						Detail: fld.Type.String(), Documentation: markdown(fld.Doc), InsertText: fld.Name + ": ", SortText: sortKey(0, i)})
				}
				break
			}
		}
		return items, true
	case reEnv.MatchString(head):
		items := []protocol.CompletionItem{}
		for _, sym := range sortedSymbols(sc) {
			if sym.Kind == compiler.ParamSym {
				items = append(items, protocol.CompletionItem{Label: sym.Name, Kind: protocol.CompletionItemKindVariable,
					Detail: "param " + sym.Type.String(), InsertText: sym.Name + ": "})
			}
		}
		return items, true
	default:
		return nil, false
	}
	if o == nil {
		return nil, false
	}
	items := []protocol.CompletionItem{}
	for i, fld := range o.Fields {
		if fld.Name == o.Anchor {
			continue // the runtime keeps the idempotency key there
		}
		group := 1
		detail := fld.Type.String()
		if fld.Required {
			group, detail = 0, detail+" (required)"
		}
		items = append(items, protocol.CompletionItem{Label: fld.Name, Kind: protocol.CompletionItemKindField, Detail: detail,
			Documentation: markdown(fieldDoc(o, fld)), InsertText: fld.Name + ": ", SortText: sortKey(group, i)})
	}
	for i, k := range extra {
		items = append(items, protocol.CompletionItem{Label: k, Kind: protocol.CompletionItemKindKeyword, SortText: sortKey(2, i)})
	}
	return items, true
}

// names completes a name: those in scope, the functions, the keywords.
func (snap *snapshot) names(sc map[string]*compiler.Symbol) []protocol.CompletionItem {
	items := []protocol.CompletionItem{}
	for i, sym := range sortedSymbols(sc) {
		if sym.Kind == compiler.SecretSym {
			continue // never a value
		}
		kind := protocol.CompletionItemKindVariable
		switch sym.Kind {
		case compiler.TableSym:
			kind = protocol.CompletionItemKindConstant
		case compiler.ConnectorSym:
			kind = protocol.CompletionItemKindModule
		}
		detail := sym.Kind.String()
		if sym.Type != nil {
			detail += " " + sym.Type.String()
		}
		items = append(items, protocol.CompletionItem{Label: sym.Name, Kind: kind, Detail: detail, SortText: sortKey(0, i)})
	}
	docs := functionDocs()
	for i, name := range functionNames() {
		d := docs[name]
		var sigs []string
		for _, o := range d {
			sigs = append(sigs, o.Signature)
		}
		items = append(items, protocol.CompletionItem{Label: name, Kind: protocol.CompletionItemKindFunction, Detail: d[0].Signature,
			Documentation: markdown("```flow\n" + strings.Join(sigs, "\n") + "\n```\n\n" + d[0].Doc), SortText: sortKey(1, i)})
	}
	for i, k := range keywords {
		items = append(items, protocol.CompletionItem{Label: k, Kind: protocol.CompletionItemKindKeyword, SortText: sortKey(2, i)})
	}
	return items
}

func sortedSymbols(sc map[string]*compiler.Symbol) []*compiler.Symbol {
	out := make([]*compiler.Symbol, 0, len(sc))
	for _, s := range sc {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortKey(group, i int) string { return strconv.Itoa(group) + "-" + strconv.Itoa(10000+i) }

func markdown(s string) any {
	if s == "" {
		return nil
	}
	return protocol.MarkupContent{Kind: protocol.Markdown, Value: s}
}
