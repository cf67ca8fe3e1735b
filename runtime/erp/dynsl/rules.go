package dynsl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/stdlib/dynsl"
)

// setup is what the driver reads from GLSetup and ARSetup, once per
// transaction.
type setup struct {
	gl, ar erp.Record
}

func (s *setup) baseCury() string { return s.gl["BaseCuryId"].(string) }

func (x *txn) setup() (*setup, error) {
	if x.cache != nil {
		return x.cache, nil
	}
	s := &setup{}
	for _, name := range []string{"GLSetup", "ARSetup"} {
		rec, ok, err := x.selectOne(x.d.tables[name], erp.Record{})
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalid("%s has no row: SL's %s module is not set up in this database", name, name[:2])
		}
		if name == "GLSetup" {
			s.gl = rec
		} else {
			s.ar = rec
		}
	}
	if s.baseCury() == "" {
		return nil, invalid("GLSetup.BaseCuryId is blank")
	}
	x.cache = s
	return s, nil
}

// company is the CpnyID the driver writes and looks up.
func (x *txn) company() (string, error) {
	if x.d.cfg.Company != "" {
		return x.d.cfg.Company, nil
	}
	s, err := x.setup()
	if err != nil {
		return "", err
	}
	return s.gl["CpnyId"].(string), nil
}

// defaults fills what identifies a row before it is looked for: the
// company, and the module of batches and GL lines.
func (x *txn) defaults(t *dynsl.Table, f erp.Record) error {
	if has(t, "CpnyID") && (f["CpnyID"] == nil || f["CpnyID"] == "") {
		c, err := x.company()
		if err != nil {
			return err
		}
		f["CpnyID"] = c
	}
	if (t.Name == "Batch" || t.Name == "GLTran") && (f["Module"] == nil || f["Module"] == "") {
		f["Module"] = "GL"
	}
	return nil
}

// stamp sets SL's audit columns.
func (x *txn) stamp(f erp.Record, created bool) {
	now := x.d.cfg.Now()
	if created {
		f["Crtd_DateTime"], f["Crtd_Prog"], f["Crtd_User"] = now, x.d.cfg.Prog, x.d.cfg.User
	}
	f["LUpd_DateTime"], f["LUpd_Prog"], f["LUpd_User"] = now, x.d.cfg.Prog, x.d.cfg.User
}

func (x *txn) today() time.Time {
	n := x.d.cfg.Now()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// next takes the next number of a setup counter (GLSetup.LastBatNbr, ...)
// and stores it, in the caller's transaction: the number is used by the
// rows this transaction writes, or by nobody. On SQL Server the read takes
// an update lock, so concurrent writers queue instead of colliding; the
// update also checks the old value, so that a writer that read a stale
// number fails (Transient) instead of reusing it.
func (x *txn) next(table, col string) (string, error) {
	q := &query{d: x.d.dialect}
	q.sql("SELECT ", ident("SetupId"), ", ", ident(col), " FROM ", ident(table))
	if x.d.dialect == SQLServer {
		q.sql(" WITH (UPDLOCK, HOLDLOCK)")
	}
	var id, cur string
	if err := x.tx.QueryRowContext(x.ctx, q.String()).Scan(&id, &cur); err != nil {
		return "", err
	}
	c, _ := column(x.d.tables[table], col)
	nxt, err := increment(strings.TrimRight(cur, " "), c.Size)
	if err != nil {
		return "", invalid("%s.%s: %v", table, col, err)
	}
	n, err := x.update(x.d.tables[table], erp.Record{col: nxt}, erp.Record{"SetupId": strings.TrimRight(id, " "), col: cur})
	if err != nil {
		return "", err
	}
	if n != 1 {
		return "", &erp.Error{Kind: erp.Transient, Message: fmt.Sprintf("dynsl: %s.%s changed while it was being numbered; try again", table, col)}
	}
	return nxt, nil
}

// increment adds one to the number at the end of s, keeping its width and
// any prefix ("000041" -> "000042", "AR0099" -> "AR0100"); a blank counter
// starts at "000001", SL's six-digit numbering.
func increment(s string, size int) (string, error) {
	if strings.TrimSpace(s) == "" {
		s = "000000"
	}
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	prefix, digits := s[:i], s[i:]
	if digits == "" {
		return "", fmt.Errorf("%q does not end in a number", s)
	}
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil {
		return "", fmt.Errorf("%q: %v", s, err)
	}
	out := prefix + fmt.Sprintf("%0*d", len(digits), n+1)
	if len(out) > len(s) || (size > 0 && len(out) > size) {
		return "", fmt.Errorf("numbering after %q is exhausted", s)
	}
	return out, nil
}

var periodRE = regexp.MustCompile(`^\d{4}(0[1-9]|1[0-3])$`)

// period returns the period to post of a document dated date (or the
// flow's own PerPost) and the period entered (the module's current
// period), refusing a period the module has closed.
func (x *txn) period(module string, f erp.Record, date time.Time) (perPost, perEnt string, err error) {
	s, err := x.setup()
	if err != nil {
		return "", "", err
	}
	cur := s.gl["PerNbr"].(string)
	if module == "AR" {
		cur = s.ar["PerNbr"].(string)
	}
	perPost, _ = f["PerPost"].(string)
	if perPost == "" {
		perPost = x.d.cfg.PerPost(date)
	}
	if !periodRE.MatchString(perPost) {
		return "", "", invalid("PerPost %q is not a period (YYYYPP)", perPost)
	}
	if !x.d.cfg.AllowPriorPeriods && cur != "" && perPost < cur {
		return "", "", invalid("period %s is closed in %s: its current period is %s", perPost, module, cur)
	}
	if module == "GL" {
		if closed, _ := s.gl["LastClosePerNbr"].(string); closed != "" && perPost <= closed {
			return "", "", invalid("period %s is closed in GL (last closed %s)", perPost, closed)
		}
	}
	return perPost, cur, nil
}

// curyPairs are, per table, the amount columns whose Cury* twin holds the
// amount in the transaction currency: base column, currency column.
var curyPairs = map[string][][2]string{
	"ARDoc":    {{"OrigDocAmt", "CuryOrigDocAmt"}, {"DocBal", "CuryDocBal"}},
	"SOHeader": {{"TotMerch", "CuryTotMerch"}, {"TotOrd", "CuryTotOrd"}, {"BalDue", "CuryBalDue"}, {"UnshippedBalance", "CuryUnshippedBalance"}, {"TotPmt", "CuryTotPmt"}, {"TotFrt", "CuryTotFrt"}, {"TotMisc", "CuryTotMisc"}, {"TotTax", "CuryTotTax"}},
	"SOLine":   {{"SlsPrice", "CurySlsPrice"}, {"TotOrd", "CuryTotOrd"}, {"ListPrice", "CuryListPrice"}},
	"Batch":    {{"CtrlTot", "CuryCtrlTot"}, {"DrTot", "CuryDrTot"}, {"CrTot", "CuryCrTot"}},
	"GLTran":   {{"DrAmt", "CuryDrAmt"}, {"CrAmt", "CuryCrAmt"}},
}

// curyField is the table's currency column (SOHeader spells it CuryID).
func curyField(t *dynsl.Table) string {
	if has(t, "CuryID") {
		return "CuryID"
	}
	if has(t, "CuryId") {
		return "CuryId"
	}
	return ""
}

// cury is a transaction currency and its rate to the base currency.
type cury struct {
	id, base string
	rate     decimal.Decimal
	multDiv  string // M: base = amount * rate; D: base = amount / rate
}

// currency settles the currency of a new row: the base currency with rate
// 1 (M) when the flow names none or the base one, else the flow's CuryRate
// and CuryMultDiv (M unless given), which SL needs for any other currency.
func (x *txn) currency(t *dynsl.Table, f erp.Record, date time.Time) (cury, error) {
	s, err := x.setup()
	if err != nil {
		return cury{}, err
	}
	c := cury{base: s.baseCury()}
	field := curyField(t)
	id, _ := f[field].(string)
	c.id = strings.ToUpper(strings.TrimSpace(id))
	if c.id == "" || c.id == c.base {
		c.id, c.rate, c.multDiv = c.base, decimal.NewFromInt(1), "M"
	} else {
		rate, _ := f["CuryRate"].(decimal.Decimal)
		if !rate.IsPositive() {
			return cury{}, invalid("%s in %s needs a positive CuryRate to the base currency %s", t.Name, c.id, c.base)
		}
		c.rate = rate
		c.multDiv, _ = f["CuryMultDiv"].(string)
		if c.multDiv == "" {
			c.multDiv = "M"
		}
		if c.multDiv != "M" && c.multDiv != "D" {
			return cury{}, invalid("CuryMultDiv %q: want M or D", c.multDiv)
		}
	}
	c.write(t, f, date)
	return c, nil
}

// curyOf is the currency of a stored row.
func curyOf(t *dynsl.Table, row erp.Record, base string) cury {
	c := cury{base: base, multDiv: "M", rate: decimal.NewFromInt(1)}
	c.id, _ = row[curyField(t)].(string)
	if r, ok := row["CuryRate"].(decimal.Decimal); ok && r.IsPositive() {
		c.rate = r
	}
	if m, _ := row["CuryMultDiv"].(string); m == "D" {
		c.multDiv = m
	}
	if c.id == "" {
		c.id = base
	}
	return c
}

// write stores the currency columns a table has.
func (c cury) write(t *dynsl.Table, f erp.Record, date time.Time) {
	if field := curyField(t); field != "" {
		f[field] = c.id
	}
	if has(t, "CuryRate") {
		f["CuryRate"], f["CuryMultDiv"] = c.rate, c.multDiv
	}
	if has(t, "CuryEffDate") && f["CuryEffDate"] == nil {
		f["CuryEffDate"] = date
	}
	if has(t, "BaseCuryID") {
		f["BaseCuryID"] = c.base
	}
}

// toBase converts an amount in the transaction currency to the base
// currency, rounded to 2 places (SL's Currncy table, which holds the base
// currency's precision, is not in the reference schema).
func (c cury) toBase(v decimal.Decimal) decimal.Decimal {
	if c.id == c.base {
		return v
	}
	if c.multDiv == "D" {
		return v.DivRound(c.rate, 2)
	}
	return v.Mul(c.rate).Round(2)
}

// amounts fills the Cury* twins: an amount the flow set is in the
// transaction currency; its base column gets the converted amount.
func (c cury) amounts(t *dynsl.Table, f erp.Record) {
	for _, p := range curyPairs[t.Name] {
		if v, ok := f[p[0]].(decimal.Decimal); ok {
			if _, own := f[p[1]]; !own {
				f[p[1]] = v
			}
			f[p[0]] = c.toBase(v)
		} else if v, ok := f[p[1]].(decimal.Decimal); ok {
			f[p[0]] = c.toBase(v)
		}
	}
}

func dec(f erp.Record, name string) decimal.Decimal {
	v, _ := f[name].(decimal.Decimal)
	return v
}

func str(f erp.Record, name string) string {
	s, _ := f[name].(string)
	return s
}

func setDefault(f erp.Record, name string, v any) {
	if cur, ok := f[name]; !ok || cur == nil || cur == "" {
		f[name] = v
	}
}

// create inserts a new row of t with SL's rules and returns it as stored.
func (x *txn) create(t *dynsl.Table, f erp.Record) (erp.Record, error) {
	var err error
	switch t.Name {
	case "Customer":
		err = x.newCustomer(f)
	case "ARDoc":
		err = x.newARDoc(f)
	case "SOHeader":
		err = x.newSOHeader(f)
	case "SOLine":
		return x.newSOLine(f)
	case "Batch":
		if err = x.newBatch(f); err == nil {
			f["Status"] = "H" // no lines yet
		}
	case "GLTran":
		return x.newGLTran(f)
	}
	if err != nil {
		return nil, err
	}
	x.stamp(f, true)
	if err := x.insert(t, f); err != nil {
		return nil, err
	}
	return x.reread(t, f)
}

// reread returns the row with the key of f as stored.
func (x *txn) reread(t *dynsl.Table, f erp.Record) (erp.Record, error) {
	k, ok := keyOf(t, f)
	if !ok {
		return nil, invalid("%s: the row has no complete key (%s)", t.Name, strings.Join(t.Key, ", "))
	}
	rec, found, err := x.selectOne(t, k)
	if err == nil && !found {
		err = invalid("%s %s was written but cannot be read back", t.Name, describe(k))
	}
	return rec, err
}

// customer returns a Customer row that must exist.
func (x *txn) customer(id string) (erp.Record, error) {
	if id == "" {
		return nil, invalid("the customer ID is empty")
	}
	c, ok, err := x.selectOne(x.d.tables["Customer"], erp.Record{"CustId": id})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid("customer %q does not exist in SL", id)
	}
	return c, nil
}

// newCustomer applies Customer Maintenance's defaults from ARSetup.
func (x *txn) newCustomer(f erp.Record) error {
	if strings.TrimSpace(str(f, "CustId")) == "" || strings.TrimSpace(str(f, "Name")) == "" {
		return invalid("a customer needs a CustId and a Name")
	}
	s, err := x.setup()
	if err != nil {
		return err
	}
	setDefault(f, "Status", "A")
	setDefault(f, "CuryId", s.baseCury())
	setDefault(f, "SetupDate", x.today())
	for col, from := range map[string]string{
		"ClassId": "DfltClass", "StmtCycleId": "DfltStmtCycle", "StmtType": "DfltStmtType",
		"ArAcct": "ArAcct", "ArSub": "ArSub", "PrePayAcct": "PrePayAcct", "PrePaySub": "PrePaySub",
	} {
		setDefault(f, col, s.ar[from])
	}
	setDefault(f, "AutoApply", s.ar["DfltAutoApply"])
	setDefault(f, "BillName", f["Name"])
	return nil
}

// refCounters maps an AR document type to the ARSetup counter numbering
// its RefNbr (by the counters' names; which screen uses which is not in
// the reference).
var refCounters = map[string]string{"CM": "LastCrMemoNbr", "DM": "LastDrMemoNbr", "FI": "LastFinChrgRefNbr", "SB": "LastWORefNbr", "SC": "LastWORefNbr"}

// newARDoc applies the rules of AR Invoice and Memo (08.010) and Payment
// Application (08.030): a known customer, a known DocType, a positive
// amount, the period, the currency, a RefNbr and a batch of its own,
// numbered from ARSetup, with the document's amount as its control total.
func (x *txn) newARDoc(f erp.Record) error {
	s, err := x.setup()
	if err != nil {
		return err
	}
	cust, err := x.customer(str(f, "CustId"))
	if err != nil {
		return err
	}
	docType := str(f, "DocType")
	if _, ok := dynsl.DocTypes[docType]; !ok {
		return invalid("DocType %q is not an SL AR document type", docType)
	}
	amt := dec(f, "OrigDocAmt")
	if !amt.IsPositive() {
		return invalid("OrigDocAmt must be positive (the DocType gives the sign); got %s", amt)
	}
	date, ok := f["DocDate"].(time.Time)
	if !ok {
		return invalid("an AR document needs a DocDate")
	}
	perPost, perEnt, err := x.period("AR", f, date)
	if err != nil {
		return err
	}
	f["PerPost"], f["PerEnt"] = perPost, perEnt
	setDefault(f, "DocBal", amt)
	c, err := x.currency(x.d.tables["ARDoc"], f, date)
	if err != nil {
		return err
	}
	c.amounts(x.d.tables["ARDoc"], f)
	if str(f, "RefNbr") == "" {
		if auto, _ := s.ar["AutoRef"].(int64); auto == 0 {
			return invalid("ARSetup.AutoRef is off (this company numbers AR documents by hand): set RefNbr")
		}
		counter := refCounters[docType]
		if counter == "" {
			counter = "LastRefNbr"
		}
		if f["RefNbr"], err = x.next("ARSetup", counter); err != nil {
			return err
		}
	}
	dup, found, err := x.selectOne(x.d.tables["ARDoc"], erp.Record{"CustId": f["CustId"], "DocType": docType, "RefNbr": f["RefNbr"]})
	if err != nil {
		return err
	}
	if found {
		return invalid("customer %s already has %s %s (batch %s)", f["CustId"], docType, f["RefNbr"], dup["BatNbr"])
	}
	batNbr, err := x.next("ARSetup", "LastBatNbr")
	if err != nil {
		return err
	}
	f["BatNbr"], f["BatSeq"] = batNbr, int64(0)
	setDefault(f, "DueDate", date)
	setDefault(f, "DiscDate", date)
	setDefault(f, "Terms", cust["Terms"])
	setDefault(f, "SlsperId", cust["SlsperId"])
	setDefault(f, "DocClass", "N")
	f["OpenDoc"], f["Rlsed"] = int64(1), int64(0)
	screen := "08010"
	if docType == "PA" || docType == "PP" {
		screen = "08030"
	}
	if docType == "PA" || docType == "PP" || docType == "CS" {
		setDefault(f, "BankAcct", s.ar["ChkAcct"])
		setDefault(f, "BankSub", s.ar["ChkSub"])
	}
	batch := erp.Record{
		"Module": "AR", "BatNbr": batNbr, "CpnyID": f["CpnyID"], "BatType": "N", "JrnlType": "AR",
		"EditScrnNbr": screen, "OrigScrnNbr": screen, "DateEnt": x.today(), "PerEnt": perEnt, "PerPost": perPost,
		"Status": x.d.cfg.BatchStatus, "Rlsed": int64(0), "LedgerID": s.gl["LedgerID"], "GLPostOpt": s.ar["GLPostOpt"],
		"CtrlTot": f["OrigDocAmt"], "DrTot": f["OrigDocAmt"], "CrTot": f["OrigDocAmt"],
		"CuryCtrlTot": f["CuryOrigDocAmt"], "CuryDrTot": f["CuryOrigDocAmt"], "CuryCrTot": f["CuryOrigDocAmt"],
		"Descr": dynsl.DocTypes[docType],
	}
	c.write(x.d.tables["Batch"], batch, date)
	x.stamp(batch, true)
	return x.insert(x.d.tables["Batch"], batch)
}

// newSOHeader applies Sales Order entry's defaults: a known customer, the
// order type, status open, the currency, the customer's AR account.
func (x *txn) newSOHeader(f erp.Record) error {
	cust, err := x.customer(str(f, "CustID"))
	if err != nil {
		return err
	}
	setDefault(f, "SOTypeID", x.d.cfg.SOTypeID)
	setDefault(f, "Status", "O")
	setDefault(f, "OrdDate", x.today())
	date := f["OrdDate"].(time.Time)
	setDefault(f, "ARAcct", cust["ArAcct"])
	setDefault(f, "ARSub", cust["ArSub"])
	setDefault(f, "BillName", cust["Name"])
	setDefault(f, "TermsID", cust["Terms"])
	setDefault(f, "SlsperID", cust["SlsperId"])
	t := x.d.tables["SOHeader"]
	c, err := x.currency(t, f, date)
	if err != nil {
		return err
	}
	c.amounts(t, f)
	return nil
}

// order returns the open sales order a line belongs to.
func (x *txn) order(f erp.Record) (erp.Record, error) {
	h, ok, err := x.selectOne(x.d.tables["SOHeader"], erp.Record{"CpnyID": f["CpnyID"], "OrdNbr": f["OrdNbr"]})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid("sales order %v does not exist in company %v", f["OrdNbr"], f["CpnyID"])
	}
	if h["Cancelled"] == int64(1) || (h["Status"] != "O" && h["Status"] != "") {
		return nil, invalid("sales order %v is not open (status %q)", f["OrdNbr"], h["Status"])
	}
	return h, nil
}

// newSOLine numbers the line from its order's LineCntr, prices it in the
// order's currency, and brings the order's totals up to date.
func (x *txn) newSOLine(f erp.Record) (erp.Record, error) {
	h, err := x.order(f)
	if err != nil {
		return nil, err
	}
	if !dec(f, "QtyOrd").IsPositive() {
		return nil, invalid("QtyOrd must be positive")
	}
	cnt, _ := h["LineCntr"].(int64)
	setDefault(f, "LineRef", fmt.Sprintf("%05d", cnt+1))
	setDefault(f, "LineNbr", cnt+1)
	if _, ok := f["TotOrd"]; !ok {
		f["TotOrd"] = dec(f, "QtyOrd").Mul(dec(f, "SlsPrice")).Round(2)
	}
	setDefault(f, "Status", "O")
	setDefault(f, "SlsperID", h["SlsperID"])
	setDefault(f, "QtyOpenShip", f["QtyOrd"])
	t := x.d.tables["SOLine"]
	s, err := x.setup()
	if err != nil {
		return nil, err
	}
	curyOf(x.d.tables["SOHeader"], h, s.baseCury()).amounts(t, f)
	x.stamp(f, true)
	if err := x.insert(t, f); err != nil {
		return nil, err
	}
	if err := x.orderTotals(h); err != nil {
		return nil, err
	}
	return x.reread(t, f)
}

// orderTotals sums an order's lines into its header, as Sales Orders does
// when a line is saved.
func (x *txn) orderTotals(h erp.Record) error {
	lines, err := x.selectRows(x.d.tables["SOLine"], erp.Record{"CpnyID": h["CpnyID"], "OrdNbr": h["OrdNbr"]}, 0)
	if err != nil {
		return err
	}
	var merch, curyMerch decimal.Decimal
	cnt, _ := h["LineCntr"].(int64)
	for _, l := range lines {
		merch = merch.Add(dec(l, "TotOrd"))
		curyMerch = curyMerch.Add(dec(l, "CuryTotOrd"))
		if ref, err := strconv.ParseInt(str(l, "LineRef"), 10, 64); err == nil && ref > cnt {
			cnt = ref
		}
	}
	extra := dec(h, "TotFrt").Add(dec(h, "TotMisc")).Add(dec(h, "TotTax")).Sub(dec(h, "WholeOrdDisc"))
	curyExtra := dec(h, "CuryTotFrt").Add(dec(h, "CuryTotMisc")).Add(dec(h, "CuryTotTax")).Sub(dec(h, "CuryWholeOrdDisc"))
	set := erp.Record{
		"LineCntr": max(cnt, int64(len(lines))),
		"TotMerch": merch, "CuryTotMerch": curyMerch,
		"TotOrd": merch.Add(extra), "CuryTotOrd": curyMerch.Add(curyExtra),
		"UnshippedBalance": merch.Add(extra), "CuryUnshippedBalance": curyMerch.Add(curyExtra),
	}
	x.stamp(set, false)
	_, err = x.update(x.d.tables["SOHeader"], set, erp.Record{"CpnyID": h["CpnyID"], "OrdNbr": h["OrdNbr"]})
	return err
}

// newBatch numbers a GL batch from GLSetup and fills what Journal
// Transactions (01.010) fills: type, journal type, period, ledger,
// currency. Its totals and status come from its lines (glTotals).
func (x *txn) newBatch(f erp.Record) error {
	if str(f, "Module") != "GL" {
		return invalid("flows write GL batches; %s batches come with their documents", f["Module"])
	}
	if str(f, "BatNbr") != "" {
		return invalid("SL numbers GL batches (GLSetup.LastBatNbr): leave BatNbr out")
	}
	s, err := x.setup()
	if err != nil {
		return err
	}
	setDefault(f, "DateEnt", x.today())
	date := f["DateEnt"].(time.Time)
	perPost, perEnt, err := x.period("GL", f, date)
	if err != nil {
		return err
	}
	if f["BatNbr"], err = x.next("GLSetup", "LastBatNbr"); err != nil {
		return err
	}
	f["PerPost"], f["PerEnt"] = perPost, perEnt
	setDefault(f, "BatType", "N")
	setDefault(f, "JrnlType", "GL")
	setDefault(f, "EditScrnNbr", "01010")
	setDefault(f, "OrigScrnNbr", "01010")
	setDefault(f, "LedgerID", s.gl["LedgerID"])
	setDefault(f, "BalanceType", "A")
	f["Rlsed"] = int64(0)
	for _, p := range curyPairs["Batch"] {
		f[p[0]], f[p[1]] = decimal.Zero, decimal.Zero
	}
	_, err = x.currency(x.d.tables["Batch"], f, date)
	return err
}

// batch returns an unreleased GL batch.
func (x *txn) batch(module, batNbr string) (erp.Record, error) {
	if batNbr == "" {
		return nil, invalid("a GL line needs the BatNbr of its batch")
	}
	b, ok, err := x.selectOne(x.d.tables["Batch"], erp.Record{"Module": module, "BatNbr": batNbr})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid("batch %s %s does not exist", module, batNbr)
	}
	if b["Rlsed"] == int64(1) {
		return nil, invalid("batch %s %s is released; SL does not add lines to it", module, batNbr)
	}
	return b, nil
}

// newGLTran adds one line to an existing batch and updates its totals.
func (x *txn) newGLTran(f erp.Record) (erp.Record, error) {
	b, err := x.batch(str(f, "Module"), str(f, "BatNbr"))
	if err != nil {
		return nil, err
	}
	if _, ok := f["LineNbr"]; !ok {
		lines, err := x.selectRows(x.d.tables["GLTran"], erp.Record{"Module": b["Module"], "BatNbr": b["BatNbr"]}, 0)
		if err != nil {
			return nil, err
		}
		var last int64
		for _, l := range lines {
			last = max(last, l["LineNbr"].(int64))
		}
		f["LineNbr"] = last + 1
	}
	if err := x.addLine(b, f); err != nil {
		return nil, err
	}
	if _, err := x.glTotals(b); err != nil {
		return nil, err
	}
	return x.reread(x.d.tables["GLTran"], f)
}

// addLine checks and inserts one GL line of batch b: a known, active
// account; one side only, positive; the batch's period, ledger and
// currency.
func (x *txn) addLine(b, f erp.Record) error {
	t := x.d.tables["GLTran"]
	dr, cr := dec(f, "DrAmt"), dec(f, "CrAmt")
	if dr.IsNegative() || cr.IsNegative() || dr.IsZero() == cr.IsZero() {
		return invalid("GL line %v: set one of DrAmt or CrAmt, positive (DrAmt %s, CrAmt %s)", f["LineNbr"], dr, cr)
	}
	acct := str(f, "Acct")
	a, ok, err := x.selectOne(x.d.tables["Account"], erp.Record{"Acct": acct})
	if err != nil {
		return err
	}
	if !ok {
		return invalid("account %q is not in the chart of accounts", acct)
	}
	if a["Active"] != int64(1) {
		return invalid("account %q is inactive", acct)
	}
	if str(f, "Sub") == "" {
		return invalid("GL line %v: account %s needs a subaccount (Sub)", f["LineNbr"], acct)
	}
	s, err := x.setup()
	if err != nil {
		return err
	}
	c := curyOf(x.d.tables["Batch"], b, s.baseCury())
	if id := strings.ToUpper(str(f, "CuryId")); id != "" && id != c.id {
		return invalid("GL line %v is in %s but its batch is in %s", f["LineNbr"], id, c.id)
	}
	date := b["DateEnt"].(time.Time)
	setDefault(f, "TranDate", date)
	c.write(t, f, date)
	c.amounts(t, f)
	f["Module"], f["BatNbr"], f["PerPost"], f["PerEnt"] = b["Module"], b["BatNbr"], b["PerPost"], b["PerEnt"]
	f["FiscYr"] = str(b, "PerPost")[:4]
	setDefault(f, "CpnyID", b["CpnyID"])
	setDefault(f, "LedgerID", b["LedgerID"])
	setDefault(f, "JrnlType", b["JrnlType"])
	setDefault(f, "BalanceType", "A")
	setDefault(f, "LineId", f["LineNbr"])
	f["Posted"], f["Rlsed"] = "U", int64(0)
	x.stamp(f, true)
	return x.insert(t, f)
}

// glTotals sums a batch's lines into its totals: the control total is the
// sum of the debits, and the batch is balanced (Config.BatchStatus) only
// when its debits equal its credits, else on hold (H).
func (x *txn) glTotals(b erp.Record) (balanced bool, err error) {
	lines, err := x.selectRows(x.d.tables["GLTran"], erp.Record{"Module": b["Module"], "BatNbr": b["BatNbr"]}, 0)
	if err != nil {
		return false, err
	}
	var dr, cr, cdr, ccr decimal.Decimal
	for _, l := range lines {
		dr, cr = dr.Add(dec(l, "DrAmt")), cr.Add(dec(l, "CrAmt"))
		cdr, ccr = cdr.Add(dec(l, "CuryDrAmt")), ccr.Add(dec(l, "CuryCrAmt"))
	}
	balanced = dr.Equal(cr) && cdr.Equal(ccr) && dr.IsPositive()
	status := "H"
	if balanced {
		status = x.d.cfg.BatchStatus
	}
	set := erp.Record{"DrTot": dr, "CrTot": cr, "CtrlTot": dr, "CuryDrTot": cdr, "CuryCrTot": ccr, "CuryCtrlTot": cdr, "Status": status}
	x.stamp(set, false)
	_, err = x.update(x.d.tables["Batch"], set, erp.Record{"Module": b["Module"], "BatNbr": b["BatNbr"]})
	return balanced, err
}

// frozen are columns a write may not change on an existing row: keys, and
// what SL fixes when the document is entered.
var frozen = map[string][]string{
	"ARDoc":    {"OrigDocAmt", "CuryOrigDocAmt", "CuryId", "CuryRate", "CuryMultDiv", "BatNbr", "PerPost"},
	"Batch":    {"Module", "BatNbr", "CuryId", "CuryRate", "CuryMultDiv", "PerPost"},
	"GLTran":   {"Module", "BatNbr", "LineNbr", "CuryId", "CuryRate", "CuryMultDiv", "PerPost"},
	"SOHeader": {"CuryID", "CuryRate", "CuryMultDiv", "CustID"},
}

// change updates an existing row with the columns f sets (an upsert that
// found its row, or an update).
func (x *txn) change(t *dynsl.Table, old, f erp.Record) (erp.Record, error) {
	if old["Rlsed"] == int64(1) {
		k, _ := keyOf(t, old)
		return nil, invalid("%s %s is released in SL and cannot change", t.Name, describe(k))
	}
	set := erp.Record{}
	for k, v := range f {
		if !equalValue(old[k], v) {
			set[k] = v
		}
	}
	for _, k := range append(append([]string{}, t.Key...), frozen[t.Name]...) {
		if _, ok := set[k]; ok {
			return nil, invalid("%s: %s cannot change once the row exists (%v -> %v)", t.Name, k, old[k], set[k])
		}
	}
	if a := x.d.anchors[t.Name]; a != "" {
		delete(set, a) // the row keeps the key of the write that made it
	}
	if len(set) == 0 {
		return old, nil
	}
	s, err := x.setup()
	if err != nil {
		return nil, err
	}
	c := curyOf(t, old, s.baseCury())
	if t.Name == "SOLine" {
		if h, ok, err := x.selectOne(x.d.tables["SOHeader"], erp.Record{"CpnyID": old["CpnyID"], "OrdNbr": old["OrdNbr"]}); err != nil {
			return nil, err
		} else if ok {
			c = curyOf(x.d.tables["SOHeader"], h, s.baseCury())
		}
		_, q := set["QtyOrd"]
		_, p := set["SlsPrice"]
		if _, own := set["TotOrd"]; (q || p) && !own {
			qty, price := dec(old, "QtyOrd"), dec(old, "CurySlsPrice")
			if q {
				qty = dec(set, "QtyOrd")
			}
			if p {
				price = dec(set, "SlsPrice")
			}
			set["TotOrd"] = qty.Mul(price).Round(2)
		}
	}
	c.amounts(t, set)
	x.stamp(set, false)
	k, _ := keyOf(t, old)
	if _, err := x.update(t, set, k); err != nil {
		return nil, err
	}
	switch t.Name {
	case "SOLine":
		h, err := x.order(old)
		if err != nil {
			return nil, err
		}
		if err := x.orderTotals(h); err != nil {
			return nil, err
		}
	case "GLTran":
		b, err := x.batch(str(old, "Module"), str(old, "BatNbr"))
		if err != nil {
			return nil, err
		}
		if _, err := x.glTotals(b); err != nil {
			return nil, err
		}
	}
	return x.reread(t, old)
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(time.Date(y.Year(), y.Month(), y.Day(), y.Hour(), y.Minute(), 0, 0, time.UTC))
	}
	return a == b
}
