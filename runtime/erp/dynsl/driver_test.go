package dynsl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
)

var (
	ctx   = context.Background()
	mar26 = time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC)
)

func mustWrite(t *testing.T, d *Driver, w erp.Write) erp.Record {
	t.Helper()
	rec, err := d.Write(ctx, w)
	if err != nil {
		t.Fatalf("%s %s: %v", w.Op, w.Entity, err)
	}
	return rec
}

func wantKind(t *testing.T, err error, kind erp.Kind, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error with %q, got none", kind, text)
	}
	if erp.KindOf(err) != kind || !strings.Contains(err.Error(), text) {
		t.Fatalf("want a %s error with %q, got %s: %v", kind, text, erp.KindOf(err), err)
	}
}

func customer(t *testing.T, d *Driver, id string) erp.Record {
	return mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "Customer", Key: "c:" + id, Fields: erp.Record{"CustId": id, "Name": "Ada Lovelace"}})
}

func TestCustomerTakesARSetupDefaults(t *testing.T) {
	d, _ := testDB(t, Config{})
	c := customer(t, d, "C00001")
	for k, want := range map[string]any{"Status": "A", "CuryId": "USD", "ClassId": "WEB", "ArAcct": "1300", "StmtCycleId": "01",
		"BillName": "Ada Lovelace", "AutoApply": int64(1), "Crtd_User": "FLOW", "Crtd_Prog": "FLOWD", "SetupDate": time.Date(2022, 3, 28, 0, 0, 0, 0, time.UTC)} {
		if c[k] != want {
			t.Errorf("%s = %#v, want %#v", k, c[k], want)
		}
	}
	got, ok, err := d.Lookup(ctx, "Customer", erp.Record{"CustId": "C00001"})
	if err != nil || !ok || got["Name"] != "Ada Lovelace" {
		t.Fatalf("lookup = %v %v %v", got, ok, err)
	}
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Key: "other", Fields: erp.Record{"CustId": "C00001", "Name": "Someone"}})
	wantKind(t, err, erp.Permanent, "exists already")
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Fields: erp.Record{"CustId": "C00002", "Name": strings.Repeat("x", 61)}})
	wantKind(t, err, erp.Permanent, "char(60)")
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customer", Fields: erp.Record{"CustId": "C00002", "Name": "x", "Nickname": "y"}})
	wantKind(t, err, erp.Permanent, `no column "Nickname"`)
}

func TestARDocNumbersPeriodAndBatch(t *testing.T) {
	d, db := testDB(t, Config{})
	customer(t, d, "C00001")
	w := erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "stripe-pay:ch_000000000000000000000001",
		Fields: erp.Record{"CustId": "C00001", "DocType": "PA", "DocDate": mar26, "OrigDocAmt": amount("20.00"), "CustOrdNbr": "ORD-1001"}}
	doc := mustWrite(t, d, w)
	for k, want := range map[string]any{"RefNbr": "001201", "BatNbr": "000108", "BatSeq": int64(0), "PerPost": "202203", "PerEnt": "202203",
		"CpnyID": "0060", "CuryId": "USD", "CuryMultDiv": "M", "OpenDoc": int64(1), "Rlsed": int64(0), "BankAcct": "1060",
		"User1": "stripe-pay:ch_00000000000000", "DueDate": mar26} {
		if k == "User1" {
			want = anchorValue(w.Key, 30)
		}
		if doc[k] != want {
			t.Errorf("%s = %#v, want %#v", k, doc[k], want)
		}
	}
	for _, f := range []string{"OrigDocAmt", "CuryOrigDocAmt", "DocBal", "CuryDocBal"} {
		if !dec(doc, f).Equal(amount("20")) {
			t.Errorf("%s = %v", f, doc[f])
		}
	}
	if !dec(doc, "CuryRate").Equal(decimal.NewFromInt(1)) {
		t.Errorf("CuryRate = %v", doc["CuryRate"])
	}
	if n := count(t, db, "Batch", "Module = 'AR' AND BatNbr = '000108' AND Status = 'B' AND CtrlTot = 20 AND EditScrnNbr = '08030' AND Rlsed = 0"); n != 1 {
		t.Errorf("AR batch rows = %d", n)
	}
	if n := count(t, db, "ARSetup", "LastBatNbr = '000108' AND LastRefNbr = '001201'"); n != 1 {
		t.Error("ARSetup counters not advanced")
	}

	// The same write again (a retry whose ledger entry was lost) finds
	// the document by its anchor and writes nothing.
	again := mustWrite(t, d, w)
	if again["RefNbr"] != "001201" || count(t, db, "ARDoc", "") != 1 || count(t, db, "Batch", "") != 1 {
		t.Errorf("second write: %v, %d docs", again["RefNbr"], count(t, db, "ARDoc", ""))
	}
	found, ok, err := d.Find(ctx, w)
	if err != nil || !ok || found["RefNbr"] != "001201" {
		t.Fatalf("find = %v %v %v", found["RefNbr"], ok, err)
	}

	// A credit memo is numbered from its own counter.
	cm := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "stripe-refund:re_1",
		Fields: erp.Record{"CustId": "C00001", "DocType": "CM", "DocDate": mar26, "OrigDocAmt": amount("5.00")}})
	if cm["RefNbr"] != "CM0010" || cm["BatNbr"] != "000109" || cm["BankAcct"] != "" {
		t.Errorf("credit memo = %v %v %q", cm["RefNbr"], cm["BatNbr"], cm["BankAcct"])
	}
}

func TestARDocRules(t *testing.T) {
	d, db := testDB(t, Config{})
	customer(t, d, "C00001")
	doc := func(f erp.Record) erp.Record {
		base := erp.Record{"CustId": "C00001", "DocType": "IN", "DocDate": mar26, "OrigDocAmt": amount("10")}
		for k, v := range f {
			base[k] = v
		}
		return base
	}
	for _, tc := range []struct {
		name   string
		fields erp.Record
		want   string
	}{
		{"unknown customer", doc(erp.Record{"CustId": "NOPE"}), `customer "NOPE" does not exist`},
		{"unknown doc type", doc(erp.Record{"DocType": "ZZ"}), `DocType "ZZ"`},
		{"negative amount", doc(erp.Record{"OrigDocAmt": amount("-1")}), "must be positive"},
		{"closed period", doc(erp.Record{"DocDate": time.Date(2022, 2, 28, 0, 0, 0, 0, time.UTC)}), "period 202202 is closed in AR"},
		{"foreign currency without rate", doc(erp.Record{"CuryId": "EUR"}), "needs a positive CuryRate"},
		{"bad period", doc(erp.Record{"PerPost": "2022-3"}), "is not a period"},
	} {
		_, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: tc.name, Fields: tc.fields})
		wantKind(t, err, erp.Permanent, tc.want)
	}
	if n := count(t, db, "ARDoc", ""); n != 0 {
		t.Errorf("%d documents written by refused writes", n)
	}
	if n := count(t, db, "ARSetup", "LastBatNbr = '000107' AND LastRefNbr = '001200'"); n != 1 {
		t.Error("a refused write consumed a number")
	}

	// A euro invoice: amounts in EUR in the Cury columns, USD in the base.
	eur := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "eur",
		Fields: doc(erp.Record{"CuryId": "eur", "CuryRate": amount("1.1"), "OrigDocAmt": amount("10.05")})})
	if eur["CuryId"] != "EUR" || !dec(eur, "CuryOrigDocAmt").Equal(amount("10.05")) || !dec(eur, "OrigDocAmt").Equal(amount("11.06")) {
		t.Errorf("EUR invoice: %v %v %v", eur["CuryId"], eur["CuryOrigDocAmt"], eur["OrigDocAmt"])
	}
	_, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "dup", Fields: doc(erp.Record{"RefNbr": eur["RefNbr"]})})
	wantKind(t, err, erp.Permanent, "already has IN")

	// Manual numbering: RefNbr must come from the flow.
	if _, err := db.Exec("UPDATE [ARSetup] SET [AutoRef] = 0"); err != nil {
		t.Fatal(err)
	}
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "manual", Fields: doc(nil)})
	wantKind(t, err, erp.Permanent, "AutoRef is off")
	manual := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "manual", Fields: doc(erp.Record{"RefNbr": "INV-77"})})
	if manual["RefNbr"] != "INV-77" {
		t.Errorf("manual RefNbr = %v", manual["RefNbr"])
	}
}

func TestSalesOrderTotals(t *testing.T) {
	d, db := testDB(t, Config{})
	customer(t, d, "C00001")
	h := mustWrite(t, d, erp.Write{Op: erp.Upsert, Entity: "SOHeader", Key: "so:1", Fields: erp.Record{"OrdNbr": "ORD-1001", "CustID": "C00001", "OrdDate": mar26}})
	if h["Status"] != "O" || h["SOTypeID"] != "SO" || h["CpnyID"] != "0060" || h["ARAcct"] != "1300" || h["CuryID"] != "USD" {
		t.Errorf("header = %v %v %v %v %v", h["Status"], h["SOTypeID"], h["CpnyID"], h["ARAcct"], h["CuryID"])
	}
	l1 := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "SOLine", Key: "so:1:1", Fields: erp.Record{"OrdNbr": "ORD-1001", "InvtID": "WEB", "QtyOrd": amount("2"), "SlsPrice": amount("7.25")}})
	l2 := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "SOLine", Key: "so:1:2", Fields: erp.Record{"OrdNbr": "ORD-1001", "InvtID": "SHIP", "QtyOrd": amount("1"), "SlsPrice": amount("5.5")}})
	if l1["LineRef"] != "00001" || l2["LineRef"] != "00002" || !dec(l1, "TotOrd").Equal(amount("14.5")) || !dec(l1, "CurySlsPrice").Equal(amount("7.25")) {
		t.Errorf("lines = %v %v %v", l1["LineRef"], l2["LineRef"], l1["TotOrd"])
	}
	h, _, _ = d.Lookup(ctx, "SOHeader", erp.Record{"OrdNbr": "ORD-1001"})
	if h["LineCntr"] != int64(2) || !dec(h, "TotMerch").Equal(amount("20")) || !dec(h, "CuryTotOrd").Equal(amount("20")) {
		t.Errorf("header totals: LineCntr %v TotMerch %v CuryTotOrd %v", h["LineCntr"], h["TotMerch"], h["CuryTotOrd"])
	}
	// An upsert of the same order changes it in place; an order's
	// customer cannot change.
	mustWrite(t, d, erp.Write{Op: erp.Upsert, Entity: "SOHeader", Key: "so:1", Fields: erp.Record{"OrdNbr": "ORD-1001", "CustID": "C00001", "CustOrdNbr": "ch_1"}})
	_, err := d.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "SOHeader", Key: "so:1", Fields: erp.Record{"OrdNbr": "ORD-1001", "CustID": "C00009"}})
	wantKind(t, err, erp.Permanent, "CustID cannot change")
	// A changed price updates the order.
	mustWrite(t, d, erp.Write{Op: erp.Update, Entity: "SOLine", Fields: erp.Record{"OrdNbr": "ORD-1001", "LineRef": "00002", "SlsPrice": amount("6")}})
	h, _, _ = d.Lookup(ctx, "SOHeader", erp.Record{"OrdNbr": "ORD-1001"})
	if !dec(h, "TotOrd").Equal(amount("20.5")) || count(t, db, "SOHeader", "") != 1 {
		t.Errorf("after update: TotOrd %v", h["TotOrd"])
	}
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "SOLine", Key: "x", Fields: erp.Record{"OrdNbr": "ORD-404", "InvtID": "WEB", "QtyOrd": amount("1"), "SlsPrice": amount("1")}})
	wantKind(t, err, erp.Permanent, "ORD-404 does not exist")
}

func journal(key string, lines ...erp.Record) erp.Journal {
	return erp.Journal{Key: key, HeaderEntity: "Batch", LineEntity: "GLTran", LinkField: "BatNbr",
		Header: erp.Record{"Descr": "Stripe payout"}, Lines: lines}
}

func line(acct, side, amt string) erp.Record {
	l := erp.Record{"Acct": acct, "Sub": "00-000", "TranDate": mar26, "TranDesc": "Stripe"}
	if side == "dr" {
		l["DrAmt"] = amount(amt)
	} else {
		l["CrAmt"] = amount(amt)
	}
	return l
}

func TestPostJournal(t *testing.T) {
	d, db := testDB(t, Config{})
	j := journal("stripe-payout:po_000000000000000000000006",
		line("1310", "cr", "203.29"), line("6110", "dr", "6.50"), line("1310", "dr", "196.79"))
	h, lines, err := d.PostJournal(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"Module": "GL", "BatNbr": "000042", "Status": "B", "Rlsed": int64(0), "PerPost": "202203", "PerEnt": "202203",
		"JrnlType": "GL", "LedgerID": "ACTUAL", "CuryId": "USD", "BaseCuryID": "USD", "CpnyID": "0060", "EditScrnNbr": "01010"} {
		if h[k] != want {
			t.Errorf("batch %s = %#v, want %#v", k, h[k], want)
		}
	}
	for _, f := range []string{"CtrlTot", "DrTot", "CrTot", "CuryCtrlTot"} {
		if !dec(h, f).Equal(amount("203.29")) {
			t.Errorf("batch %s = %v", f, h[f])
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if l["BatNbr"] != "000042" || l["LineNbr"] != int64(i+1) || l["FiscYr"] != "2022" || l["Posted"] != "U" || l["PerPost"] != "202203" || l["LedgerID"] != "ACTUAL" {
			t.Errorf("line %d = %v %v %v %v", i+1, l["BatNbr"], l["LineNbr"], l["FiscYr"], l["Posted"])
		}
	}
	if !dec(lines[2], "CuryDrAmt").Equal(amount("196.79")) {
		t.Errorf("CuryDrAmt = %v", lines[2]["CuryDrAmt"])
	}
	// Posting the same key again writes nothing and returns the batch.
	h2, lines2, err := d.PostJournal(ctx, j)
	if err != nil || h2["BatNbr"] != "000042" || len(lines2) != 3 {
		t.Fatalf("again: %v %d %v", h2["BatNbr"], len(lines2), err)
	}
	if count(t, db, "Batch", "") != 1 || count(t, db, "GLTran", "") != 3 || count(t, db, "GLSetup", "LastBatNbr = '000042'") != 1 {
		t.Error("second post wrote rows or took a number")
	}

	for _, tc := range []struct {
		name string
		j    erp.Journal
		want string
	}{
		{"unbalanced", journal("u", line("1310", "dr", "1"), line("4000", "cr", "2")), "does not balance"},
		{"unknown account", journal("a", line("1310", "dr", "1"), line("4711", "cr", "1")), `account "4711" is not in the chart`},
		{"inactive account", journal("i", line("1310", "dr", "1"), line("9999", "cr", "1")), `account "9999" is inactive`},
		{"both sides", journal("b", erp.Record{"Acct": "1310", "Sub": "0", "DrAmt": amount("1"), "CrAmt": amount("1")}), "set one of DrAmt or CrAmt"},
		{"closed GL period", journal("p", line("1310", "dr", "1"), erp.Record{"Acct": "4000", "Sub": "0", "CrAmt": amount("1")}), ""},
	} {
		if tc.name == "closed GL period" {
			tc.j.Header["PerPost"] = "202112"
			tc.want = "closed"
		}
		_, _, err := d.PostJournal(ctx, tc.j)
		wantKind(t, err, erp.Permanent, tc.want)
	}
	if count(t, db, "Batch", "") != 1 || count(t, db, "GLTran", "") != 3 || count(t, db, "GLSetup", "LastBatNbr = '000042'") != 1 {
		t.Error("a refused journal left rows or took a number")
	}
}

func TestBatchLinesOneByOne(t *testing.T) {
	d, db := testDB(t, Config{})
	b := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "Batch", Key: "stripe-dispute-out:dp_1", Fields: erp.Record{"Descr": "dispute", "DateEnt": mar26}})
	if b["BatNbr"] != "000042" || b["Status"] != "H" {
		t.Fatalf("batch = %v %v", b["BatNbr"], b["Status"])
	}
	l1 := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "GLTran", Key: "l1", Fields: erp.Record{"BatNbr": "000042", "Acct": "1310", "Sub": "00", "DrAmt": amount("15")}})
	if l1["LineNbr"] != int64(1) || count(t, db, "Batch", "Status = 'H' AND DrTot = 15 AND CrTot = 0") != 1 {
		t.Errorf("after one line: LineNbr %v", l1["LineNbr"])
	}
	mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "GLTran", Key: "l2", Fields: erp.Record{"BatNbr": "000042", "Acct": "1060", "Sub": "00", "CrAmt": amount("15")}})
	if count(t, db, "Batch", "Status = 'B' AND CtrlTot = 15 AND CrTot = 15") != 1 {
		t.Error("balanced batch is not B")
	}
	// Found again by its anchor: the same write does not number another batch.
	again := mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "Batch", Key: "stripe-dispute-out:dp_1", Fields: erp.Record{"Descr": "dispute"}})
	if again["BatNbr"] != "000042" || count(t, db, "Batch", "") != 1 {
		t.Errorf("again: %v", again["BatNbr"])
	}
	if _, err := db.Exec("UPDATE [Batch] SET [Rlsed] = 1"); err != nil {
		t.Fatal(err)
	}
	_, err := d.Write(ctx, erp.Write{Op: erp.Create, Entity: "GLTran", Key: "l3", Fields: erp.Record{"BatNbr": "000042", "Acct": "1060", "Sub": "00", "CrAmt": amount("1")}})
	wantKind(t, err, erp.Permanent, "is released")
	_, err = d.Write(ctx, erp.Write{Op: erp.Create, Entity: "Batch", Key: "x", Fields: erp.Record{"BatNbr": "123"}})
	wantKind(t, err, erp.Permanent, "leave BatNbr out")
}

func TestErrorsAreClassified(t *testing.T) {
	d, db := testDB(t, Config{})
	// A constraint the database enforces (not the driver): Permanent.
	err := d.inTx(ctx, "dup", func(x *txn) error {
		return x.insert(d.tables["Account"], erp.Record{"Acct": "1060"})
	})
	wantKind(t, err, erp.Permanent, "UNIQUE")
	// A database that went away: Transient before the commit.
	db.Close()
	_, _, err = d.Lookup(ctx, "Customer", erp.Record{"CustId": "C1"})
	if erp.KindOf(err) != erp.Transient {
		t.Errorf("closed database: %s %v", erp.KindOf(err), err)
	}
	// A cancelled context before the commit: nothing landed, Transient.
	d2, _ := testDB(t, Config{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = d2.Write(cctx, erp.Write{Op: erp.Create, Entity: "Customer", Fields: erp.Record{"CustId": "C1", "Name": "n"}})
	var ee *erp.Error
	if !errors.As(err, &ee) || ee.Kind != erp.Transient {
		t.Errorf("cancelled: %v", err)
	}
	if k := classify(errors.New("connection reset"), atCommit, "commit"); erp.KindOf(k) != erp.InDoubt {
		t.Errorf("commit failure is %s", erp.KindOf(k))
	}
	if k := classify(sqlServerErr(2627), beforeCommit, "insert"); erp.KindOf(k) != erp.Permanent {
		t.Errorf("SQL Server 2627 is %s", erp.KindOf(k))
	}
	if k := classify(sqlServerErr(1205), beforeCommit, "insert"); erp.KindOf(k) != erp.Transient {
		t.Errorf("SQL Server deadlock is %s", erp.KindOf(k))
	}
}

type sqlServerErr int32

func (e sqlServerErr) Error() string         { return "mssql error" }
func (e sqlServerErr) SQLErrorNumber() int32 { return int32(e) }

func TestIncrementAndAnchor(t *testing.T) {
	for in, want := range map[string]string{"": "000001", "000041": "000042", "AR0099": "AR0100", "9": "", "CM9": ""} {
		got, err := increment(in, 10)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("increment(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if a := anchorValue("stripe-payout:po_000000000000000000000006", 30); len(a) != 19 || !strings.HasPrefix(a, "fk-") {
		t.Errorf("anchor = %q", a)
	}
	if a := anchorValue("short", 30); a != "short" {
		t.Errorf("anchor = %q", a)
	}
}

func TestDialectPlaceholders(t *testing.T) {
	q := &query{d: SQLServer}
	q.sql("SELECT 1 WHERE a = ").arg(1).sql(" AND b = ").arg(2)
	if q.String() != "SELECT 1 WHERE a = @p1 AND b = @p2" {
		t.Error(q.String())
	}
	q = &query{d: SQLite}
	q.sql("a = ").arg(1)
	if q.String() != "a = ?" {
		t.Error(q.String())
	}
	if _, err := DialectOf("postgres"); err == nil {
		t.Error("postgres has a dialect")
	}
}

// A flow may not take the anchor column of a row SL numbers: a retry after
// a lost answer could not find the row again, and would write it twice.
func TestAFlowCannotTakeTheAnchor(t *testing.T) {
	d, db := testDB(t, Config{})
	customer(t, d, "C00001")
	_, err := d.Write(context.Background(), erp.Write{Op: erp.Create, Entity: "ARDoc", Key: "stripe-pay:ch_1",
		Fields: erp.Record{"CustId": "C00001", "DocType": "PA", "DocDate": mar26, "OrigDocAmt": amount("20.00"), "User1": "PO-77"}})
	var e *erp.Error
	if !errors.As(err, &e) || e.Kind != erp.Permanent || !strings.Contains(err.Error(), "ARDoc.User1 holds the flow's idempotency key") {
		t.Fatalf("err = %v", err)
	}
	if n := count(t, db, "ARDoc", ""); n != 0 {
		t.Fatalf("%d documents written", n)
	}
}

// A query returns every row matching its conditions, in key order.
func TestQueryReturnsEveryMatchingRow(t *testing.T) {
	d, _ := testDB(t, Config{})
	for _, id := range []string{"C00003", "C00001", "C00002"} {
		customer(t, d, id)
	}
	mustWrite(t, d, erp.Write{Op: erp.Create, Entity: "Customer", Key: "c:other", Fields: erp.Record{"CustId": "C00004", "Name": "Grace Hopper"}})
	rows, err := d.Query(ctx, "Customer", erp.Record{"Name": "Ada Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r["CustId"].(string))
	}
	if strings.Join(got, ",") != "C00001,C00002,C00003" {
		t.Errorf("Ada's customers: %v", got)
	}
	rows, err = d.QueryRange(ctx, "Customer", erp.Record{"Name": "Ada Lovelace"}, []erp.Range{{Field: "CustId", Op: "<", Value: "C00003"}, {Field: "CustId", Op: "!=", Value: "C00001"}})
	if err != nil || len(rows) != 1 || rows[0]["CustId"] != "C00002" {
		t.Errorf("Ada's customers below C00003 but C00001: %v, %v", rows, err)
	}
	if _, err := d.QueryRange(ctx, "Customer", nil, []erp.Range{{Field: "Colour", Op: "<", Value: "x"}}); err == nil {
		t.Error("comparing a column the table has not: no error")
	}
}
