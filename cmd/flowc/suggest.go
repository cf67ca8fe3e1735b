package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/flowhq/flow/lang/diag"
	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

const suggestUsage = `Usage: flowc suggest [--flow] [--metadata FILE] GATEWAY.Object ERP.Entity

Proposes how the fields of an ERP entity could be filled from a gateway
object, e.g. flowc suggest stripe.Charge d365fo.SalesOrderHeadersV2: for
each entity field, the best source path with its score and the reason
(a known synonym, similar names, a type that converts, the conversion to
use). Nothing is guessed silently and nothing leaves the machine: the same
schemas give the same suggestions.

--flow prints a .flow skeleton instead: the trigger, the suggested fields
with the conversions they need, and every required field the tool could
not fill set to FILL_ME, so that flowc check fails there until you do.
--metadata reads the tenant's own F&O $metadata instead of the built-in one.`

// suggestion is one proposed mapping into an entity field.
type suggestion struct {
	field    *schema.Field
	path     string // source path under the object, "billing_details.name"
	expr     string // the expression to write, with conversions
	score    int    // 0..100
	reason   string
	required bool
}

func cmdSuggest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("suggest", suggestUsage, stderr)
	asFlow := fs.Bool("flow", false, "print a .flow skeleton")
	metadata := fs.String("metadata", "", "the tenant's F&O $metadata (CSDL) file")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "flowc suggest: give a gateway object and an ERP entity, e.g. stripe.Charge d365fo.SalesOrderHeadersV2")
		return 2
	}
	src, srcConn, err := suggestObject(pos[0], "", false)
	if err != nil {
		fmt.Fprintf(stderr, "flowc suggest: %v\n", err)
		return 2
	}
	dst, dstConn, err := suggestObject(pos[1], *metadata, true)
	if err != nil {
		fmt.Fprintf(stderr, "flowc suggest: %v\n", err)
		return 2
	}
	sugs := suggestFields(src, srcConn, dst)
	if *asFlow {
		writeSkeleton(stdout, src, srcConn, dst, dstConn, sugs)
		return 0
	}
	fmt.Fprintf(stdout, "%s -> %s\n", src.Name, dst.Name)
	for _, s := range sugs {
		if s.path == "" {
			fmt.Fprintf(stdout, "  %-36s  (required; nothing in %s matches: fill it yourself)\n", s.field.Name, src.ShortName())
			continue
		}
		fmt.Fprintf(stdout, "  %-36s = %-40s %3d%%  %s\n", s.field.Name, s.expr, s.score, s.reason)
	}
	return 0
}

// suggestObject resolves "connector.Name" to a gateway object or an ERP
// entity.
func suggestObject(qualified, metadata string, entity bool) (*schema.Object, *schema.Connector, error) {
	conn, name, ok := strings.Cut(qualified, ".")
	load, known := stdlib.Connectors()[conn]
	if !ok || !known {
		return nil, nil, fmt.Errorf("%q: want <connector>.<name> with a connector flow knows (stripe, d365fo)", qualified)
	}
	settings := map[string]string{}
	if metadata != "" {
		settings["metadata"] = metadata
	}
	c, err := load(settings, ".")
	if err != nil {
		return nil, nil, err
	}
	if entity {
		if o := c.Entities[name]; o != nil {
			return o, c, nil
		}
		return nil, nil, fmt.Errorf("%s has no entity %s%s", conn, name, didYouMean(name, keysOf(c.Entities)))
	}
	if o := c.Objects[qualified]; o != nil {
		return o, c, nil
	}
	var names []string
	for n := range c.Objects {
		names = append(names, strings.TrimPrefix(n, conn+"."))
	}
	return nil, nil, fmt.Errorf("%s has no object %s%s", conn, name, didYouMean(name, names))
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func didYouMean(name string, candidates []string) string {
	sort.Strings(candidates)
	if c := diag.Closest(name, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return ""
}

// synonyms are known correspondences between gateway field names (the
// last part of a path) and words of ERP field names, with how sure they
// are.
var synonyms = map[string][]struct {
	word  string
	score int
}{
	"customer":      {{"CustomerAccount", 90}, {"CustomerAccountNumber", 90}, {"OrderingCustomerAccountNumber", 95}, {"InvoiceCustomerAccountNumber", 85}, {"InvoiceAccount", 70}},
	"currency":      {{"CurrencyCode", 95}, {"SalesCurrencyCode", 85}},
	"amount":        {{"Amount", 70}, {"TotalAmount", 80}, {"CreditAmount", 60}, {"OrderTotalAmount", 75}},
	"name":          {{"Name", 70}, {"OrganizationName", 80}, {"DeliveryAddressName", 60}, {"SalesOrderName", 50}},
	"email":         {{"Email", 90}, {"PrimaryContactEmail", 85}},
	"receipt_email": {{"Email", 80}, {"ReceiptEmail", 90}},
	"phone":         {{"Phone", 80}, {"PrimaryContactPhone", 85}},
	"city":          {{"City", 85}},
	"postal_code":   {{"ZipCode", 85}},
	"line1":         {{"Street", 80}},
	"state":         {{"StateId", 75}, {"State", 80}},
	"country":       {{"CountryRegionId", 80}, {"CountryRegionISOCode", 85}},
	"id":            {{"CustomersOrderReference", 70}, {"PaymentReference", 80}, {"ExternalInvoiceId", 70}},
	"description":   {{"Description", 85}, {"SalesOrderName", 50}, {"TransactionText", 60}},
	"created":       {{"Date", 60}, {"TransactionDate", 70}, {"OrderCreationDateTime", 60}, {"DocumentDate", 60}},
}

// candidate is a source path and its type.
type candidate struct {
	path string
	typ  *schema.Type
}

// sourcePaths lists the object's fields and those of its nested objects,
// two levels deep.
func sourcePaths(o *schema.Object, c *schema.Connector, prefix string, depth int) []candidate {
	var out []candidate
	for _, f := range o.Fields {
		p := prefix + f.Name
		if f.Type.Kind == schema.Struct {
			if sub := c.Objects[f.Type.Object]; sub != nil && depth > 0 {
				out = append(out, sourcePaths(sub, c, p+".", depth-1)...)
			}
			continue
		}
		out = append(out, candidate{p, f.Type})
	}
	return out
}

func suggestFields(src *schema.Object, srcConn *schema.Connector, dst *schema.Object) []suggestion {
	cands := sourcePaths(src, srcConn, "", 2)
	var out []suggestion
	for _, f := range dst.Fields {
		if f.Name == "dataAreaId" || f.Name == dst.Anchor {
			continue
		}
		best := suggestion{field: f, required: f.Required}
		for _, c := range cands {
			expr, ok := convert("src."+c.path, c.typ, f.Type)
			if !ok {
				continue
			}
			score, reason := match(c.path, f.Name)
			if score > best.score || score == best.score && best.path != "" && len(c.path) < len(best.path) {
				best.path, best.expr, best.score, best.reason = c.path, expr, score, reason
				if expr != "src."+c.path {
					best.reason += "; converted with " + strings.SplitN(expr, "(", 2)[0] + "()"
				}
			}
		}
		if best.score < 60 {
			best.path, best.expr, best.score, best.reason = "", "", 0, ""
		}
		if best.path != "" || best.required {
			out = append(out, best)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].required != out[j].required {
			return out[i].required
		}
		return out[i].score > out[j].score
	})
	return out
}

// match scores a source path against an entity field name: a known
// synonym of the path's last part, less 5 for each level of nesting; or
// the share of words the two names have in common.
func match(path, field string) (int, string) {
	depth := strings.Count(path, ".")
	last := path[strings.LastIndex(path, ".")+1:]
	best, reason := 0, ""
	for _, s := range synonyms[last] {
		if s.word == field && s.score-5*depth > best {
			best, reason = s.score-5*depth, fmt.Sprintf("known synonym (%s is the %s)", last, field)
		}
	}
	fieldWords := camelWords(field)
	pathWords := strings.FieldsFunc(strings.ToLower(path), func(r rune) bool { return r == '.' || r == '_' })
	hits := 0
	used := make([]bool, len(fieldWords)) // each word of the field matches once
	for _, w := range pathWords {
		for i, fw := range fieldWords {
			if !used[i] && (w == fw || len(w) > 3 && strings.HasPrefix(fw, w)) {
				used[i] = true
				hits++
				break
			}
		}
	}
	if score := 100 * hits / (len(pathWords) + len(fieldWords) - hits); score > best {
		best, reason = score, fmt.Sprintf("%d of %d words shared (%s ~ %s)", hits, len(pathWords)+len(fieldWords)-hits, path, field)
	}
	return best, reason
}

func camelWords(s string) []string {
	var words []string
	var cur []rune
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 && len(cur) > 0 && !unicode.IsUpper(cur[len(cur)-1]) {
			words = append(words, strings.ToLower(string(cur)))
			cur = nil
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		words = append(words, strings.ToLower(string(cur)))
	}
	return words
}

// convert returns the expression writing a value of type from into a
// field of type to, and whether one exists.
func convert(expr string, from, to *schema.Type) (string, bool) {
	switch {
	case to.Kind == schema.String && len(to.Enum) > 0:
		return "", false // enumerations need a decision, not a guess
	case to.Kind == schema.String && from.Kind == schema.String:
		if strings.HasSuffix(expr, ".currency") {
			return "upper(" + expr + ")", true
		}
		if strings.HasSuffix(expr, ".country") {
			return "country3(" + expr + ")", true
		}
		return expr, true
	case to.Kind == schema.Decimal && from.Kind == schema.Minor:
		return "money(" + expr + ", src.currency)", true
	case to.Kind == schema.Decimal && from.Kind == schema.Decimal:
		return expr, true
	case to.Kind == schema.Timestamp && from.Kind == schema.Int && strings.HasSuffix(expr, "created"):
		return "date(" + expr + `, "UTC")`, true
	case to.Kind == schema.Int && from.Kind == schema.Int:
		return expr, true
	}
	return "", false
}

func writeSkeleton(w io.Writer, src *schema.Object, srcConn *schema.Connector, dst *schema.Object, dstConn *schema.Connector, sugs []suggestion) {
	// The trigger: an event about this object, the most final one first.
	event, rank := "", 0
	for _, name := range sortedKeys(srcConn.Events) {
		if srcConn.Events[name].Object != src.Name {
			continue
		}
		r := 1
		for i, suffix := range []string{".created", ".paid", ".succeeded"} {
			if strings.HasSuffix(name, suffix) {
				r = i + 2
			}
		}
		if r > rank {
			event, rank = name, r
		}
	}
	short := strings.ToLower(src.ShortName())
	fmt.Fprintf(w, "// Suggested by flowc suggest %s %s.%s: review every line.\n", src.Name, dstConn.Name, strings.TrimPrefix(dst.Name, dstConn.Name+"."))
	fmt.Fprintf(w, "package suggested\n\nimport %q\nimport %q as erp\n\n", srcConn.Name, dstConn.Name)
	fmt.Fprintf(w, "flow %s_to_%s {\n", short, strings.ToLower(dst.ShortName()))
	if event == "" {
		fmt.Fprintf(w, "    on %s.FILL_ME as ev // no event carries a %s; name the trigger\n", srcConn.Name, src.ShortName())
	} else {
		fmt.Fprintf(w, "    on %s.%s as ev\n", srcConn.Name, event)
	}
	fmt.Fprintf(w, "    let src = ev.data.object\n")
	fmt.Fprintf(w, "    upsert erp.%s key %q + src.id {\n", dst.ShortName(), srcConn.Name+":")
	for _, s := range sugs {
		if s.path == "" {
			fmt.Fprintf(w, "        %s: FILL_ME, // required: nothing in %s matches\n", s.field.Name, src.ShortName())
			continue
		}
		fmt.Fprintf(w, "        %s: %s, // %d%%: %s\n", s.field.Name, s.expr, s.score, s.reason)
	}
	fmt.Fprintf(w, "    }\n}\n")
}
