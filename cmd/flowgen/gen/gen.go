// Package gen writes a corpus of realistic .flow packages (Stripe -> Dynamics
// 365 F&O integrations) for benchmarks and load tests of the checker. The
// corpus is deterministic for a seed, and every flow it writes checks without
// errors.
package gen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Options configures Generate.
type Options struct {
	// Flows is the number of flows and ledgers to write.
	Flows int
	// Seed makes the corpus reproducible: one seed, one corpus.
	Seed uint64
	// FlowsPerFile is how many flows a file holds (the last file of the
	// corpus may hold fewer); 0 means 10.
	FlowsPerFile int
	// MaxFilesPerPackage bounds the flow files of one package directory
	// (each package has 1 to MaxFilesPerPackage of them, plus package.flow
	// with its imports, params and tables); 0 means 5.
	MaxFilesPerPackage int
}

// File is one generated source file.
type File struct {
	Path  string // slash-separated, relative to the corpus root: "p007_acme_eu/orders_1.flow"
	Src   []byte
	Flows int // flows and ledgers declared in the file
	Exprs int // CEL expressions the checker type-checks (import settings excluded)
}

// Corpus is a generated set of packages.
type Corpus struct {
	Files    []File
	Packages int
	Flows    int
	Exprs    int
}

// Generate builds a corpus in memory.
func Generate(opt Options) *Corpus {
	if opt.FlowsPerFile <= 0 {
		opt.FlowsPerFile = 10
	}
	if opt.MaxFilesPerPackage <= 0 {
		opt.MaxFilesPerPackage = 5
	}
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	c := &Corpus{}
	left := opt.Flows
	for n := 1; left > 0; n++ {
		files := 1 + r.IntN(opt.MaxFilesPerPackage)
		p := newPkg(n, rand.New(rand.NewPCG(r.Uint64(), r.Uint64())))
		for i := 0; i < files && left > 0; i++ {
			k := min(opt.FlowsPerFile, left)
			left -= k
			p.file(k, i == files-1 || left == 0)
		}
		for _, f := range p.finish() {
			c.Files = append(c.Files, f)
			c.Flows += f.Flows
			c.Exprs += f.Exprs
		}
		c.Packages++
	}
	return c
}

// Write writes the corpus under dir, creating the package directories.
func (c *Corpus) Write(dir string) error {
	for _, f := range c.Files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Summary is the one-line description flowgen prints.
func (c *Corpus) Summary() string {
	return fmt.Sprintf("%d files, %d packages, %d flows, %d expressions", len(c.Files), c.Packages, c.Flows, c.Exprs)
}

// writer accumulates one file's text and counts its expressions.
type writer struct {
	b     strings.Builder
	exprs int
}

// x marks text as one checked expression.
func (w *writer) x(text string) string {
	w.exprs++
	return text
}

func (w *writer) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("    ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// field writes `Name: value,` counting the value as an expression.
func (w *writer) field(indent int, name, value string) {
	w.line(indent, "%s: %s,", name, w.x(value))
}

// pkg is one package being generated.
type pkg struct {
	r       *rand.Rand
	dir     string
	name    string
	brand   string
	st      string // the stripe connector as flows name it
	stAlias string // "" when imported without an alias
	erp     string
	company string
	tz      string
	cur     string // home currency

	used   map[string]bool // globals the flows read
	names  map[string]int  // flow names taken
	files  []File
	themes map[string]int
	events map[string]bool
}

var (
	brands    = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne", "soylent", "vandelay", "pied_piper", "dunder", "oscorp", "gringotts", "monarch", "nakatomi", "contoso", "fabrikam"}
	regions   = []string{"us", "eu", "uk", "ca", "au", "jp", "de", "fr", "nl", "mx"}
	companies = []string{"usmf", "demf", "gbsi", "frsi", "jpmf", "usrt", "mxmf", "ussi"}
	zones     = []string{"America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Berlin", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney", "America/Mexico_City", "Europe/Amsterdam"}
	homeCur   = []string{"usd", "eur", "gbp", "cad", "aud", "jpy", "eur", "eur", "eur", "mxn"}
	erpAlias  = []string{"erp", "erp", "erp", "d365", "fo", "ax"}
)

func newPkg(n int, r *rand.Rand) *pkg {
	ri := r.IntN(len(regions))
	p := &pkg{
		r:       r,
		brand:   brands[r.IntN(len(brands))],
		erp:     erpAlias[r.IntN(len(erpAlias))],
		company: companies[r.IntN(len(companies))],
		tz:      zones[ri],
		cur:     homeCur[ri],
		used:    map[string]bool{},
		names:   map[string]int{},
		themes:  map[string]int{},
		events:  map[string]bool{},
	}
	p.name = fmt.Sprintf("%s_%s_%03d", p.brand, regions[ri], n)
	p.dir = fmt.Sprintf("p%03d_%s_%s", n, p.brand, regions[ri])
	p.st = "stripe"
	if r.IntN(5) == 0 {
		p.st, p.stAlias = "st", "st"
	}
	return p
}

func (p *pkg) chance(pct int) bool { return p.r.IntN(100) < pct }

func (p *pkg) pick(opts ...string) string { return opts[p.r.IntN(len(opts))] }

// g names a global (param or table) and marks it used.
func (p *pkg) g(name string) string {
	p.used[name] = true
	return name
}

// flowName returns a unique flow name built from base.
func (p *pkg) flowName(base string) string {
	suffixes := []string{"", "_web", "_pos", "_b2b", "_b2c", "_eu", "_us", "_marketplace", "_subscriptions", "_wholesale"}
	name := base + suffixes[p.r.IntN(len(suffixes))]
	p.names[name]++
	if n := p.names[name]; n > 1 {
		name = fmt.Sprintf("%s_%d", name, n)
		p.names[name]++
	}
	return name
}

// templates are the kinds of integrations, with their weights.
var templates = []struct {
	theme  string
	weight int
	write  func(p *pkg, w *writer)
}{
	{"orders", 30, (*pkg).orderToCash},
	{"refunds", 15, (*pkg).refund},
	{"payouts", 15, (*pkg).payoutLedger},
	{"invoices", 15, (*pkg).invoicePaid},
	{"customers", 15, (*pkg).customerSync},
	{"disputes", 10, (*pkg).dispute},
}

// file writes one file of k flows. A file has a theme, as real packages
// group related flows; about a third of its flows come from other themes.
// In the last file of a package, the last flow handles refunds when the
// package books charges or invoices and nothing handles their reversal yet.
func (p *pkg) file(k int, last bool) {
	total := 0
	for _, t := range templates {
		total += t.weight
	}
	pickT := func() int {
		n := p.r.IntN(total)
		for i, t := range templates {
			if n < t.weight {
				return i
			}
			n -= t.weight
		}
		return 0
	}
	theme := pickT()
	w := &writer{}
	w.line(0, "// %s: %s flows of %s (generated by flowgen).", templates[theme].theme, strings.ReplaceAll(p.brand, "_", " "), p.name)
	w.line(0, "package %s", p.name)
	for i := 0; i < k; i++ {
		t := theme
		if p.chance(35) {
			t = pickT()
		}
		if last && i == k-1 && (p.events["charge.succeeded"] || p.events["invoice.paid"]) && !p.events["charge.refunded"] {
			t = 1 // refunds
		}
		w.line(0, "")
		templates[t].write(p, w)
	}
	name := templates[theme].theme
	p.themes[name]++
	if n := p.themes[name]; n > 1 {
		name = fmt.Sprintf("%s_%d", name, n)
	}
	p.files = append(p.files, File{Path: p.dir + "/" + name + ".flow", Src: []byte(w.b.String()), Flows: k, Exprs: w.exprs})
}

// --- templates ---

// orderToCash: charge.succeeded -> customer lookup-or-create -> sales order
// upsert -> customer payment journal header and line.
func (p *pkg) orderToCash(w *writer) {
	name := p.flowName(p.pick("charge_to_sales_order", "order_to_cash", "charge_to_order", "payment_to_sales_order"))
	ev := p.pick("ev", "ev", "evt", "event")
	ch := p.pick("ch", "ch", "charge", "c")
	event := p.pick("charge.succeeded", "charge.succeeded", "charge.succeeded", "charge.captured")
	p.events[event] = true
	w.line(0, "// %s books a Stripe %s as a sales order and its payment.", name, event)
	w.line(0, "flow %s {", name)
	w.line(1, "on %s.%s as %s", p.st, event, ev)
	if p.chance(70) {
		w.line(1, "order by %s", w.x(ev+".data.object."+p.pick("id", "customer", "payment_intent")))
	}
	w.line(1, "let %s = %s", ch, w.x(ev+".data.object"))
	cur := "upper(" + ch + ".currency)"
	if p.chance(50) {
		w.line(1, "let cur = %s", w.x(cur))
		cur = "cur"
	}
	amt := "money(" + ch + ".amount, " + ch + ".currency)"
	if p.chance(50) {
		w.line(1, "let amt = %s", w.x(amt))
		amt = "amt"
	}
	orderNo := ch + `.metadata["order_id"]`
	withOrderID := p.chance(60)
	if withOrderID && p.chance(50) {
		w.line(1, "let order_no = %s", w.x(`"order_id" in `+ch+`.metadata ? `+ch+`.metadata["order_id"] : `+ch+`.id`))
		orderNo = "order_no"
		withOrderID = false
	} else if !withOrderID {
		orderNo = "truncate(" + ch + ".id, 20)"
	}
	conds := []string{ch + ".paid"}
	if withOrderID {
		conds = append(conds, `"order_id" in `+ch+`.metadata`)
	}
	switch p.r.IntN(5) {
	case 0:
		conds = append(conds, ch+".amount > "+p.g("min_amount"))
	case 1:
		conds = append(conds, ch+`.status == "succeeded"`, "!"+ch+".refunded")
	case 2:
		curs := []string{`"usd"`, `"eur"`}
		if p.cur != "usd" && p.cur != "eur" {
			curs = append([]string{q(p.cur)}, curs...)
		}
		conds = append(conds, ch+".currency in ["+strings.Join(curs, ", ")+"]")
	case 3:
		conds = append(conds, ch+".livemode", ch+`.outcome.type == "authorized"`)
	}
	w.line(1, "when %s", w.x(strings.Join(conds, " && ")))
	if p.chance(20) {
		w.line(1, "when %s", w.x(ch+`.outcome.risk_level != "highest"`))
	}
	cust := p.customerLookup(w, ch, "billing_details", cur)
	if p.chance(40) {
		w.line(1, "upsert so = %s.SalesOrderHeadersV2 key %s {", p.erp, w.x(`"stripe:" + `+ch+".id"))
	} else {
		w.line(1, "upsert %s.SalesOrderHeadersV2 key %s {", p.erp, w.x(`"stripe:" + `+ch+".id"))
	}
	w.field(2, "SalesOrderNumber", orderNo)
	w.field(2, "OrderingCustomerAccountNumber", cust+".CustomerAccount")
	w.field(2, "CurrencyCode", cur)
	w.field(2, "CustomersOrderReference", ch+".id")
	opt := []func(){
		func() { w.field(2, "RequestedShippingDate", "date("+ch+".created, "+p.tzExpr()+")") },
		func() { w.field(2, "OrderCreationDateTime", "unix("+ch+".created)") },
		func() { w.field(2, "OrderTotalAmount", amt) },
		func() { w.field(2, "Email", ch+".receipt_email") },
		func() { w.field(2, "DeliveryAddressName", "truncate("+ch+".shipping.name, 60)") },
		func() { w.field(2, "DeliveryAddressCity", ch+".shipping.address.city") },
		func() { w.field(2, "DeliveryAddressZipCode", ch+".shipping.address.postal_code") },
		func() {
			w.field(2, "DeliveryAddressStreet", "street("+ch+".shipping.address.line1, "+ch+".shipping.address.line2)")
		},
		func() { w.field(2, "DeliveryAddressCountryRegionId", "country3("+ch+".shipping.address.country)") },
		func() { w.field(2, "SalesOrderName", "truncate(trim("+ch+".description), 60)") },
		func() { w.field(2, "PaymentTermsName", p.g("payment_terms")) },
		func() { w.field(2, "CustomerRequisitionNumber", ch+".payment_intent") },
		func() { w.field(2, "LanguageId", p.g("language")) },
		func() { w.field(2, "IsOneTimeCustomer", `"No"`) },
		func() {
			w.field(2, "TotalDiscountAmount", "abs(money("+ch+".amount_captured - "+ch+".amount, "+ch+".currency))")
		},
	}
	journal := p.chance(85)
	if amt == "amt" && !journal {
		// The let is read by the order total when no journal line reads it.
		opt[2] = func() {}
		w.field(2, "OrderTotalAmount", amt)
	}
	p.some(opt, 2, 6)
	w.line(1, "}")
	if journal {
		p.paymentJournal(w, ch, cust, cur, amt, "CreditAmount", "stripe-pay:")
	}
	w.line(0, "}")
}

// customerLookup writes `lookup cust = erp.CustomersV3 ... else ...` and
// returns the name it binds.
func (p *pkg) customerLookup(w *writer, obj, details, cur string) string {
	cust := p.pick("cust", "cust", "customer", "account")
	prefix := `"ST-"`
	if p.chance(50) {
		prefix = p.g("account_prefix")
	}
	idField := obj + ".customer"
	w.line(1, "lookup %s = %s.CustomersV3 where CustomerAccount == %s", cust, p.erp, w.x(prefix+" + "+idField))
	switch p.r.IntN(10) {
	case 0:
		w.line(2, "else fail")
		return cust
	case 1:
		w.line(2, "else wait for %s", p.pick("1h", "24h", "72h"))
		return cust
	}
	w.line(2, "else create {")
	bd := obj + "." + details
	group := p.g("customer_group")
	if p.chance(30) {
		country := bd + ".address.country"
		group = country + " in " + p.g("group_for_country") + " ? group_for_country[" + country + "] : " + p.g("customer_group")
	}
	w.field(3, "CustomerGroupId", group)
	w.field(3, "SalesCurrencyCode", cur)
	opt := []func(){
		func() { w.field(3, "OrganizationName", "truncate("+bd+".name, 100)") },
		func() { w.field(3, "PrimaryContactEmail", "lower("+bd+".email)") },
		func() { w.field(3, "PrimaryContactPhone", bd+".phone") },
		func() { w.field(3, "AddressCountryRegionId", "country3("+bd+".address.country)") },
		func() { w.field(3, "AddressCity", bd+".address.city") },
		func() { w.field(3, "AddressZipCode", bd+".address.postal_code") },
		func() { w.field(3, "AddressState", bd+".address.state") },
		func() { w.field(3, "AddressStreet", "street("+bd+".address.line1, "+bd+".address.line2)") },
		func() { w.field(3, "PersonFirstName", "first_name("+bd+".name)") },
		func() { w.field(3, "PersonLastName", "last_name("+bd+".name)") },
		func() { w.field(3, "NameAlias", "upper(truncate("+bd+".name, 20))") },
		func() { w.field(3, "LanguageId", p.g("language")) },
		func() { w.field(3, "CustomerType", `"None"`) },
	}
	p.some(opt, 1, 6)
	w.line(2, "}")
	return cust
}

// paymentJournal writes a customer payment journal header and its line.
func (p *pkg) paymentJournal(w *writer, obj, cust, cur, amt, side, keyPrefix string) {
	pay := p.pick("pay", "pay", "hdr", "batch")
	w.line(1, "create %s = %s.CustomerPaymentJournalHeaders key %s {", pay, p.erp, w.x(`"`+keyPrefix+`" + `+obj+".id"))
	journal := p.g("payment_journal")
	if p.chance(30) {
		journal = obj + ".currency in " + p.g("journal_for_currency") + " ? journal_for_currency[" + obj + ".currency] : " + p.g("payment_journal")
	}
	w.field(2, "JournalName", journal) // Description holds the key
	w.line(1, "}")
	w.line(1, "create %s.CustomerPaymentJournalLines key %s {", p.erp, w.x(`"`+strings.TrimSuffix(keyPrefix, ":")+`-line:" + `+obj+".id"))
	w.field(2, "JournalBatchNumber", pay+".JournalBatchNumber")
	w.field(2, "LineNumber", "1")
	w.field(2, "AccountType", `"Cust"`)
	w.field(2, "AccountDisplayValue", cust+".CustomerAccount")
	w.field(2, side, amt)
	w.field(2, "CurrencyCode", cur)
	w.field(2, "TransactionDate", "date("+obj+".created, "+p.tzExpr()+")")
	opt := []func(){
		func() {
			w.field(2, "OffsetAccountType", `"Ledger"`)
			w.field(2, "OffsetAccountDisplayValue", p.g("stripe_clearing"))
		},
		func() { w.field(2, "PaymentReference", obj+".id") },
		func() {
			w.field(2, "TransactionText", "truncate("+`"Stripe " + `+obj+`.id + " " + `+obj+".description, "+p.g("text_length")+")")
		},
		func() { w.field(2, "PaymentNotes", "format_time("+obj+`.created, "YYYY-MM-DD HH:mm", `+p.tzExpr()+")") },
		func() { w.field(2, "PaymentMethodName", p.g("payment_method")) },
		func() { w.field(2, "IsPrepayment", `"No"`) },
	}
	p.some(opt, 1, 4)
	w.line(1, "}")
}

// refund: charge.refunded -> find the sales order -> return order header,
// sometimes with a payment journal line that books the refund.
func (p *pkg) refund(w *writer) {
	name := p.flowName(p.pick("refund_to_return_order", "refund_to_credit", "charge_refunded"))
	ev := p.pick("ev", "ev", "evt")
	ch := p.pick("ch", "ch", "charge", "refunded")
	p.events["charge.refunded"] = true
	w.line(0, "// %s turns a refunded charge into a return order.", name)
	w.line(0, "flow %s {", name)
	w.line(1, "on %s.charge.refunded as %s", p.st, ev)
	if p.chance(60) {
		w.line(1, "order by %s", w.x(ev+".data.object.id"))
	}
	w.line(1, "let %s = %s", ch, w.x(ev+".data.object"))
	conds := []string{`"order_id" in ` + ch + ".metadata"}
	if p.chance(50) {
		conds = append(conds, ch+".amount_refunded > 0")
	}
	if p.chance(20) {
		conds = append(conds, ch+".refunded || "+ch+".amount_refunded < "+ch+".amount")
	}
	w.line(1, "when %s", w.x(strings.Join(conds, " && ")))
	order := p.pick("order", "so", "sales_order")
	w.line(1, "lookup %s = %s.SalesOrderHeadersV2 where SalesOrderNumber == %s", order, p.erp, w.x(ch+`.metadata["order_id"]`))
	w.line(2, "else %s", p.pick("wait for 72h", "wait for 24h", "wait for 48h", "skip", "fail"))
	w.line(1, "create %s.ReturnOrderHeaders key %s {", p.erp, w.x(`"stripe-refund:" + `+ch+`.id + ":" + string(`+ch+".amount_refunded)"))
	w.field(2, "CustomerAccountNumber", order+".OrderingCustomerAccountNumber")
	opt := []func(){
		func() { w.field(2, "CurrencyCode", "upper("+ch+".currency)") },
		func() { w.field(2, "CustomersOrderReference", order+".SalesOrderNumber") },
		func() { w.field(2, "ReturnDeadline", "date("+ch+".created, "+p.tzExpr()+")") },
		func() { w.field(2, "CustomerReturnReasonCode", p.g("return_reason")) },
		func() { w.field(2, "Email", ch+".receipt_email") },
		func() { w.field(2, "ReturnAddressCity", ch+".shipping.address.city") },
		func() { w.field(2, "ReturnAddressName", "truncate("+ch+".shipping.name, 60)") },
		func() { w.field(2, "RMANumber", `"RMA-" + `+ch+".id") },
		func() { w.field(2, "LanguageId", order+".LanguageId") },
	}
	p.some(opt, 2, 5)
	w.line(1, "}")
	if p.chance(40) {
		cust := order + ".OrderingCustomerAccountNumber"
		pay := p.pick("pay", "hdr")
		w.line(1, "create %s = %s.CustomerPaymentJournalHeaders key %s {", pay, p.erp, w.x(`"stripe-refund-pay:" + `+ch+`.id + ":" + string(`+ch+".amount_refunded)"))
		w.field(2, "JournalName", p.g("payment_journal"))
		w.line(1, "}")
		w.line(1, "create %s.CustomerPaymentJournalLines key %s {", p.erp, w.x(`"stripe-refund-line:" + `+ch+`.id + ":" + string(`+ch+".amount_refunded)"))
		w.field(2, "JournalBatchNumber", pay+".JournalBatchNumber")
		w.field(2, "LineNumber", "1")
		w.field(2, "AccountType", `"Cust"`)
		w.field(2, "AccountDisplayValue", cust)
		w.field(2, "DebitAmount", "money("+ch+".amount_refunded, "+ch+".currency)")
		w.field(2, "CurrencyCode", "upper("+ch+".currency)")
		w.field(2, "TransactionDate", "date("+ch+".created, "+p.tzExpr()+")")
		w.field(2, "OffsetAccountType", `"Ledger"`)
		w.field(2, "OffsetAccountDisplayValue", p.g("stripe_clearing"))
		w.line(1, "}")
	}
	w.line(0, "}")
}

// payoutLedger: payout.paid -> every balance transaction of the payout,
// grouped, on one balanced general journal with table-mapped accounts.
func (p *pkg) payoutLedger(w *writer) {
	name := p.flowName(p.pick("payout_to_journal", "payout_ledger", "settlement_journal"))
	ev := p.pick("ev", "ev", "evt")
	po := p.pick("po", "po", "payout")
	bt := p.pick("bt", "bt", "txn", "item")
	p.events["payout.paid"] = true
	w.line(0, "// %s posts every balance transaction of a paid payout, by category.", name)
	w.line(0, "ledger %s {", name)
	w.line(1, "on %s.payout.paid as %s", p.st, ev)
	w.line(1, "let %s = %s", po, w.x(ev+".data.object"))
	switch p.r.IntN(4) {
	case 0:
		w.line(1, "when %s", w.x(po+".amount > 0"))
	case 1:
		w.line(1, "when %s", w.x(po+`.status == "paid" && `+po+`.type == "bank_account"`))
	case 2:
		w.line(1, "when %s", w.x("!"+po+".automatic || "+po+`.method == "standard"`))
	}
	args := "payout: " + w.x(po+".id")
	if p.chance(15) {
		args += ", type: " + w.x(`"charge"`)
	}
	w.line(1, "for %s in %s.balance_transactions(%s)", bt, p.st, args)
	byCurrency := p.chance(60)
	currency := "upper(" + po + ".currency)"
	cur := po + ".currency"
	if byCurrency {
		w.line(1, "group by %s as category, %s as currency", w.x(bt+".reporting_category"), w.x(bt+".currency"))
		currency, cur = "upper(currency)", "currency"
	} else {
		w.line(1, "group by %s as category", w.x(bt+".reporting_category"))
	}
	lines := "LedgerJournalLines"
	date := "TransDate"
	text := "Text"
	if p.chance(15) {
		lines, date, text = "CustomerPaymentJournalLines", "TransactionDate", "TransactionText"
	}
	w.line(1, "journal %s.%s key %s {", p.erp, lines, w.x(`"stripe-payout:" + `+po+".id"))
	w.line(2, "header {")
	if lines == "LedgerJournalLines" {
		w.field(3, "JournalName", p.g("general_journal"))
	} else {
		w.field(3, "JournalName", p.g("payment_journal"))
	}
	if lines == "LedgerJournalLines" && p.chance(20) {
		w.field(3, "PostingLayer", `"Current"`)
	}
	w.line(2, "}")
	w.field(2, "CurrencyCode", currency)
	w.field(2, date, "date("+po+".arrival_date, "+p.tzExpr()+")")
	w.field(2, text, "truncate("+`"Stripe " + category + " " + `+po+".id, "+p.g("text_length")+")")
	if lines == "LedgerJournalLines" {
		opt := []func(){
			func() { w.field(2, "Document", po+".id") },
			func() { w.field(2, "DocumentDate", "unix("+po+".created)") },
			func() { w.field(2, "PaymentReference", "truncate("+po+".statement_descriptor, 60)") },
			func() { w.field(2, "ReverseEntry", `"No"`) },
		}
		p.some(opt, 0, 2)
	}
	acct := p.g("account_for") + "[category]"
	switch p.r.IntN(3) {
	case 0:
		w.line(2, "credit %s amount %s", w.x(acct), w.x("money(sum("+bt+".net), "+cur+")"))
		w.line(2, "debit %s", w.x(p.g("stripe_clearing")))
	case 1:
		w.line(2, "credit %s amount %s", w.x(acct), w.x("money(sum("+bt+".amount), "+cur+")"))
		w.line(2, "debit %s amount %s", w.x(p.g("fee_account")), w.x("money(sum("+bt+".fee), "+cur+")"))
		w.line(2, "debit %s", w.x(p.g("stripe_clearing")))
	default:
		w.line(2, "debit %s", w.x(p.g("stripe_clearing")))
		w.line(2, "credit %s amount %s", w.x(acct), w.x("money(sum("+bt+".amount) - sum("+bt+".fee), "+cur+")"))
	}
	w.line(1, "}")
	w.line(0, "}")
}

// invoicePaid: invoice.paid -> customer -> free text invoice, and the
// payment on the customer payment journal.
func (p *pkg) invoicePaid(w *writer) {
	name := p.flowName(p.pick("invoice_paid", "invoice_to_free_text_invoice", "subscription_invoice"))
	ev := p.pick("ev", "ev", "evt")
	inv := p.pick("inv", "inv", "invoice")
	p.events["invoice.paid"] = true
	w.line(0, "// %s books a paid Stripe invoice.", name)
	w.line(0, "flow %s {", name)
	w.line(1, "on %s.invoice.paid as %s", p.st, ev)
	if p.chance(60) {
		w.line(1, "order by %s", w.x(ev+".data.object.customer"))
	}
	w.line(1, "let %s = %s", inv, w.x(ev+".data.object"))
	conds := []string{inv + ".amount_paid > 0"}
	switch p.r.IntN(3) {
	case 0:
		conds = append(conds, inv+`.status == "paid"`)
	case 1:
		conds = append(conds, inv+`.billing_reason != "manual"`, "!"+inv+".paid_out_of_band")
	}
	w.line(1, "when %s", w.x(strings.Join(conds, " && ")))
	cust := p.pick("cust", "customer")
	prefix := `"ST-"`
	if p.chance(50) {
		prefix = p.g("account_prefix")
	}
	w.line(1, "lookup %s = %s.CustomersV3 where CustomerAccount == %s", cust, p.erp, w.x(prefix+" + "+inv+".customer"))
	if p.chance(70) {
		w.line(2, "else create {")
		w.field(3, "CustomerGroupId", p.g("customer_group"))
		w.field(3, "SalesCurrencyCode", "upper("+inv+".currency)")
		opt := []func(){
			func() { w.field(3, "OrganizationName", "truncate("+inv+".customer_name, 100)") },
			func() { w.field(3, "PrimaryContactEmail", inv+".customer_email") },
			func() { w.field(3, "PrimaryContactPhone", inv+".customer_phone") },
			func() { w.field(3, "AddressCountryRegionId", "country3("+inv+".customer_address.country)") },
			func() { w.field(3, "AddressCity", inv+".customer_address.city") },
			func() {
				w.field(3, "AddressStreet", "street("+inv+".customer_address.line1, "+inv+".customer_address.line2)")
			},
		}
		p.some(opt, 1, 4)
		w.line(2, "}")
	} else {
		w.line(2, "else %s", p.pick("fail", "wait for 24h"))
	}
	w.line(1, "create %s.FreeTextInvoiceHeaders key %s {", p.erp, w.x(`"stripe-inv:" + `+inv+".id"))
	w.field(2, "CustomerAccount", cust+".CustomerAccount")
	w.field(2, "CurrencyCode", "upper("+inv+".currency)")
	w.field(2, "InvoiceDate", "date("+inv+".status_transitions.paid_at, "+p.tzExpr()+")")
	opt := []func(){
		func() { w.field(2, "CustomerReference", inv+".number") },
		func() { w.field(2, "DueDate", "date("+inv+".due_date, "+p.tzExpr()+")") },
		func() { w.field(2, "ExternalInvoiceId", inv+".id") },
		func() { w.field(2, "InvoiceName", "truncate("+inv+".description, 60)") },
		func() { w.field(2, "DocumentDate", "unix("+inv+".created)") },
		func() { w.field(2, "TermsOfPayment", p.g("payment_terms")) },
		func() { w.field(2, "LanguageId", p.g("language")) },
	}
	p.some(opt, 1, 5)
	w.line(1, "}")
	if p.chance(60) {
		pay := p.pick("pay", "hdr")
		w.line(1, "create %s = %s.CustomerPaymentJournalHeaders key %s {", pay, p.erp, w.x(`"stripe-inv-pay:" + `+inv+".id"))
		w.field(2, "JournalName", p.g("payment_journal"))
		w.line(1, "}")
		w.line(1, "create %s.CustomerPaymentJournalLines key %s {", p.erp, w.x(`"stripe-inv-line:" + `+inv+".id"))
		w.field(2, "JournalBatchNumber", pay+".JournalBatchNumber")
		w.field(2, "LineNumber", "1")
		w.field(2, "AccountType", `"Cust"`)
		w.field(2, "AccountDisplayValue", cust+".CustomerAccount")
		w.field(2, "CreditAmount", "money("+inv+".amount_paid, "+inv+".currency)")
		w.field(2, "CurrencyCode", "upper("+inv+".currency)")
		w.field(2, "TransactionDate", "date("+inv+".status_transitions.paid_at, "+p.tzExpr()+")")
		w.field(2, "MarkedInvoice", inv+".number")
		if p.chance(50) {
			w.field(2, "OffsetAccountType", `"Ledger"`)
			w.field(2, "OffsetAccountDisplayValue", p.g("stripe_clearing"))
		}
		w.line(1, "}")
	}
	w.line(0, "}")
}

// customerSync: customer.created / customer.updated -> CustomersV3.
func (p *pkg) customerSync(w *writer) {
	event := p.pick("customer.created", "customer.created", "customer.updated")
	name := p.flowName(p.pick("customer_to_d365", "customer_sync", "new_customer"))
	ev := p.pick("ev", "ev", "evt")
	c := p.pick("c", "cu", "customer", "sc")
	p.events[event] = true
	w.line(0, "// %s keeps the F&O customer master in step with Stripe.", name)
	w.line(0, "flow %s {", name)
	w.line(1, "on %s.%s as %s", p.st, event, ev)
	if p.chance(50) {
		w.line(1, "order by %s", w.x(ev+".data.object.id"))
	}
	w.line(1, "let %s = %s", c, w.x(ev+".data.object"))
	conds := []string{c + `.email != ""`}
	if p.chance(50) {
		conds = append(conds, "!"+c+".deleted")
	}
	if p.chance(30) {
		conds = append(conds, c+`.currency != ""`)
	}
	w.line(1, "when %s", w.x(strings.Join(conds, " && ")))
	acct := `truncate("ST-" + ` + c + ".id, 20)"
	if p.chance(50) {
		acct = "truncate(" + p.g("account_prefix") + " + " + c + ".id, 20)"
	}
	if p.chance(40) {
		w.line(1, "let account_no = %s", w.x(acct))
		acct = "account_no"
	}
	w.line(1, "upsert %s.CustomersV3 key %s {", p.erp, w.x(`"stripe-cust:" + `+c+".id"))
	w.field(2, "CustomerAccount", acct)
	group := p.g("customer_group")
	if p.chance(30) {
		group = c + ".address.country in " + p.g("group_for_country") + " ? group_for_country[" + c + ".address.country] : " + p.g("customer_group")
	}
	w.field(2, "CustomerGroupId", group)
	if p.chance(50) {
		w.field(2, "SalesCurrencyCode", "upper("+c+".currency)")
	} else {
		w.field(2, "SalesCurrencyCode", c+`.currency != "" ? upper(`+c+`.currency) : `+p.g("home_currency"))
	}
	opt := []func(){
		func() { w.field(2, "OrganizationName", "truncate("+c+".name, 100)") },
		func() { w.field(2, "PrimaryContactEmail", "lower("+c+".email)") },
		func() { w.field(2, "PrimaryContactPhone", c+".phone") },
		func() { w.field(2, "AddressCountryRegionId", "country3("+c+".address.country)") },
		func() { w.field(2, "AddressCity", c+".address.city") },
		func() { w.field(2, "AddressZipCode", c+".address.postal_code") },
		func() { w.field(2, "AddressState", c+".address.state") },
		func() { w.field(2, "AddressStreet", "street("+c+".address.line1, "+c+".address.line2)") },
		func() { w.field(2, "NameAlias", "upper(truncate("+c+".name, 20))") },
		func() { w.field(2, "CreditLimit", "money("+c+".balance, "+c+".currency)") },
		func() {
			w.field(2, "LanguageId", c+".preferred_locales.size() > 0 ? "+c+".preferred_locales[0] : "+p.g("language"))
		},
		func() { w.field(2, "TaxExemptNumber", c+`.tax_exempt == "exempt" ? `+c+".id : \"\"") },
		func() { w.field(2, "SalesMemo", "truncate("+c+".description, 200)") },
		func() { w.field(2, "DeliveryAddressCity", c+".shipping.address.city") },
		func() { w.field(2, "CustomerType", `"None"`) },
	}
	p.some(opt, 3, 9)
	w.line(1, "}")
	w.line(0, "}")
}

// dispute: charge.dispute.created -> the disputed amount on the customer
// payment journal.
func (p *pkg) dispute(w *writer) {
	name := p.flowName(p.pick("dispute_to_journal", "chargeback", "dispute_opened"))
	ev := p.pick("ev", "evt")
	d := p.pick("d", "dispute", "dp")
	p.events["charge.dispute.created"] = true
	w.line(0, "// %s books a chargeback against the customer.", name)
	w.line(0, "flow %s {", name)
	w.line(1, "on %s.charge.dispute.created as %s", p.st, ev)
	if p.chance(50) {
		w.line(1, "order by %s", w.x(ev+".data.object.charge"))
	}
	w.line(1, "let %s = %s", d, w.x(ev+".data.object"))
	if p.chance(60) {
		w.line(1, "when %s", w.x(d+`.amount > 0 && `+d+`.reason != "duplicate"`))
	}
	cust := p.pick("cust", "customer")
	w.line(1, "lookup %s = %s.CustomersV3 where CustomerAccount == %s", cust, p.erp, w.x(`"ST-" + `+d+".charge"))
	w.line(2, "else %s", p.pick("fail", "skip", "wait for 24h"))
	pay := p.pick("pay", "hdr")
	w.line(1, "create %s = %s.CustomerPaymentJournalHeaders key %s {", pay, p.erp, w.x(`"stripe-dispute:" + `+d+".id"))
	w.field(2, "JournalName", p.g("payment_journal"))
	w.line(1, "}")
	w.line(1, "create %s.CustomerPaymentJournalLines key %s {", p.erp, w.x(`"stripe-dispute-line:" + `+d+".id"))
	w.field(2, "JournalBatchNumber", pay+".JournalBatchNumber")
	w.field(2, "LineNumber", "1")
	w.field(2, "AccountType", `"Cust"`)
	w.field(2, "AccountDisplayValue", cust+".CustomerAccount")
	w.field(2, "DebitAmount", "money("+d+".amount, "+d+".currency)")
	w.field(2, "CurrencyCode", "upper("+d+".currency)")
	w.field(2, "TransactionDate", "date("+d+".created, "+p.tzExpr()+")")
	opt := []func(){
		func() { w.field(2, "TransactionText", `truncate("Dispute " + `+d+`.reason + " " + `+d+".charge, 60)") },
		func() {
			w.field(2, "OffsetAccountType", `"Ledger"`)
			w.field(2, "OffsetAccountDisplayValue", p.g("dispute_account"))
		},
		func() { w.field(2, "PaymentReference", d+".payment_intent") },
	}
	p.some(opt, 1, 3)
	w.line(1, "}")
	w.line(0, "}")
}

// tzExpr is the time zone argument of date(): usually the param, sometimes
// a literal.
func (p *pkg) tzExpr() string {
	if p.chance(80) {
		return p.g("timezone")
	}
	return `"` + p.tz + `"`
}

// some runs between lo and hi of the optional field writers, in order.
func (p *pkg) some(opts []func(), lo, hi int) {
	hi = min(hi, len(opts))
	n := lo + p.r.IntN(hi-lo+1)
	idx := p.r.Perm(len(opts))[:n]
	sort.Ints(idx)
	for _, i := range idx {
		opts[i]()
	}
}

// --- package.flow ---

// global is a param or table declaration.
type global struct {
	name  string
	decl  func(p *pkg) (typ, value string)
	table bool
	prod  func(p *pkg) string // the value in env prod, "" for none
}

var globals = []global{
	{name: "customer_group", decl: func(p *pkg) (string, string) { return "string", q(p.pick("10", "20", "30", "40", "WEB", "RETAIL")) },
		prod: func(p *pkg) string { return q(p.pick("10", "20", "WEB")) }},
	{name: "account_prefix", decl: func(p *pkg) (string, string) { return "string", q(p.pick("ST-", "STR-", "S", "WEB-")) }},
	{name: "payment_journal", decl: func(p *pkg) (string, string) { return "string", q(p.pick("CustPay", "CPay", "StripePay")) },
		prod: func(p *pkg) string { return q(p.pick("CustPay", "ARPay")) }},
	{name: "general_journal", decl: func(p *pkg) (string, string) { return "string", q(p.pick("GenJrn", "GJ", "Daily")) }},
	{name: "stripe_clearing", decl: func(p *pkg) (string, string) { return "string", q(p.pick("110150", "110160", "101900")) }},
	{name: "fee_account", decl: func(p *pkg) (string, string) { return "string", q(p.pick("618100", "618150", "605500")) }},
	{name: "dispute_account", decl: func(p *pkg) (string, string) { return "string", q(p.pick("130900", "618900")) }},
	{name: "timezone", decl: func(p *pkg) (string, string) { return "string", q(p.tz) }},
	{name: "home_currency", decl: func(p *pkg) (string, string) { return "string", q(strings.ToUpper(p.cur)) }},
	{name: "language", decl: func(p *pkg) (string, string) { return "string", q(p.pick("en-us", "de", "fr", "nl", "ja", "es-mx")) }},
	{name: "payment_terms", decl: func(p *pkg) (string, string) { return "string", q(p.pick("Net30", "Net14", "COD", "Prepaid")) }},
	{name: "payment_method", decl: func(p *pkg) (string, string) { return "string", q(p.pick("CARD", "STRIPE", "ELECTRONIC")) }},
	{name: "return_reason", decl: func(p *pkg) (string, string) { return "string", q(p.pick("RR", "Refund", "Stripe")) }},
	{name: "min_amount", decl: func(p *pkg) (string, string) { return "int", p.pick("0", "50", "100", "500") },
		prod: func(p *pkg) string { return p.pick("50", "100") }},
	{name: "text_length", decl: func(p *pkg) (string, string) { return "int", p.pick("60", "60", "100", "255") }},
	{name: "account_for", table: true, decl: accountTable},
	{name: "journal_for_currency", table: true, decl: func(p *pkg) (string, string) {
		return "map(string, string)", `{"usd": "USPay", "eur": "EUPay", "gbp": "GBPay", "cad": "CAPay", "jpy": "JPPay"}`
	}},
	{name: "group_for_country", table: true, decl: func(p *pkg) (string, string) {
		return "map(string, string)", `{"US": "10", "CA": "10", "GB": "20", "DE": "20", "FR": "20", "NL": "20", "JP": "30", "AU": "30"}`
	}},
}

func q(s string) string { return `"` + s + `"` }

// categories are Stripe's reporting categories, and the account each maps
// to in a standard chart; the extra entries are categories older API
// versions send.
var categories = [][2]string{
	{"advance", "110150"}, {"advance_funding", "110150"}, {"anticipation_repayment", "110150"},
	{"charge", "130100"}, {"charge_failure", "130100"}, {"climate_order_purchase", "618300"},
	{"climate_order_refund", "618300"}, {"connect_collection_transfer", "110150"}, {"connect_reserved_funds", "110150"},
	{"contribution", "618300"}, {"dispute", "130100"}, {"dispute_reversal", "130100"}, {"fee", "618100"},
	{"financing_paydown", "110150"}, {"financing_paydown_reversal", "110150"}, {"financing_payout", "110150"},
	{"financing_payout_reversal", "110150"}, {"issuing_authorization_hold", "110150"}, {"issuing_authorization_release", "110150"},
	{"issuing_dispute", "110150"}, {"issuing_transaction", "110150"}, {"network_cost", "618100"},
	{"other_adjustment", "618900"}, {"partial_capture_reversal", "130100"}, {"payout", "110110"},
	{"payout_reversal", "110110"}, {"platform_earning", "401900"}, {"platform_earning_refund", "401900"},
	{"refund", "130100"}, {"refund_failure", "130100"}, {"risk_reserved_funds", "110150"}, {"tax", "222100"},
	{"topup", "110150"}, {"topup_reversal", "110150"}, {"transfer", "110150"}, {"transfer_reversal", "110150"},
	{"unreconciled_customer_funds", "110150"},
}

func accountTable(p *pkg) (string, string) {
	var b strings.Builder
	b.WriteString("{\n")
	// Charts differ per company: shift some accounts.
	shift := map[string]string{}
	if p.chance(50) {
		shift["618100"] = p.pick("618100", "618110", "605100")
		shift["130100"] = p.pick("130100", "130200")
	}
	for _, c := range categories {
		acct := c[1]
		if s, ok := shift[acct]; ok {
			acct = s
		}
		fmt.Fprintf(&b, "    %q: %q,\n", c[0], acct)
	}
	b.WriteString("}")
	return "map(string, string)", b.String()
}

// finish writes package.flow with the globals the flows read and returns
// the package's files.
func (p *pkg) finish() []File {
	w := &writer{}
	w.line(0, "// %s: Stripe -> Dynamics 365 F&O (%s), generated by flowgen.", p.name, p.company)
	w.line(0, "package %s", p.name)
	w.line(0, "")
	if p.stAlias != "" {
		w.line(0, "import \"stripe\" as %s {", p.stAlias)
	} else {
		w.line(0, "import \"stripe\" {")
	}
	w.line(1, "webhook_secret: stripe_webhook_secret,")
	w.line(1, "api_key: stripe_api_key,")
	w.line(0, "}")
	w.line(0, "")
	w.line(0, "import \"d365fo\" as %s {", p.erp)
	w.line(1, "company: %q,", p.company)
	w.line(0, "}")
	w.line(0, "")
	w.line(0, "secret stripe_webhook_secret")
	w.line(0, "secret stripe_api_key")
	w.line(0, "")
	var prod []string
	for _, g := range globals {
		if g.table || !p.used[g.name] {
			continue
		}
		typ, val := g.decl(p)
		w.line(0, "param %s: %s = %s", g.name, typ, w.x(val))
		if g.prod != nil && p.chance(50) {
			prod = append(prod, g.name)
		}
	}
	if len(prod) > 0 {
		w.line(0, "")
		w.line(0, "env prod {")
		for _, name := range prod {
			for _, g := range globals {
				if g.name == name {
					w.field(1, name, g.prod(p))
				}
			}
		}
		w.line(0, "}")
	}
	for _, g := range globals {
		if !g.table || !p.used[g.name] {
			continue
		}
		typ, val := g.decl(p)
		w.line(0, "")
		w.line(0, "table %s: %s = %s", g.name, typ, w.x(val))
	}
	files := append([]File{{Path: p.dir + "/package.flow", Src: []byte(w.b.String()), Exprs: w.exprs}}, p.files...)
	return files
}
