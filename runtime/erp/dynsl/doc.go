// Package dynsl is the erp.Driver for Microsoft Dynamics SL. SL has no cloud
// API: the driver writes SL's SQL application database through
// database/sql, with the rules SL's entry screens enforce, and leaves
// release and posting to SL.
//
// It takes a Config (an *sql.DB and its Dialect, the company, the audit
// user) and gives back a *Driver over the tables of stdlib/dynsl:
// Customer, ARDoc, SOHeader, SOLine, Batch and GLTran. Production opens it
// with runtime/erp/dynsl/sqlserver (SQL Server through go-mssqldb); tests
// run the same statements on SQLite with the SL schema of
// testdata/sl_schema.sql. See README.md for what is verified only there.
//
// # Statements
//
// Every Lookup, Write, Find and PostJournal is one SQL transaction. Names
// come from the schema and are bracket-quoted; values are always
// parameters (@p1 on SQL Server, ? on SQLite). Rows are inserted whole:
// SL's columns are NOT NULL without defaults, so every column the flow
// leaves out gets SL's empty value (blank, 0, 1900-01-01). Amounts travel as
// their exact decimal text (SL's amount columns are float) and come back as
// the shortest decimal that reads as the same float; char columns come back
// without their padding; dates are written as wall-clock minutes
// (smalldatetime).
//
// # SL rules
//
//   - Numbering: GL batch numbers from GLSetup.LastBatNbr, AR batch numbers
//     from ARSetup.LastBatNbr, AR document numbers from ARSetup.LastRefNbr
//     (credit memos LastCrMemoNbr, debit memos LastDrMemoNbr, ...) when
//     ARSetup.AutoRef is on, sales order lines from SOHeader.LineCntr,
//     GL lines 1, 2, ... The counter is read and advanced in the write's own
//     transaction (with UPDLOCK on SQL Server, and a compare-and-set on the
//     old value), so a number is used by what commits with it or by nobody.
//   - Periods: PerPost is the flow's, else the document date's month
//     (YYYYMM; Config.PerPost for fiscal calendars); PerEnt is the module's
//     current period. A period before the module's current period, or a GL
//     period at or before GLSetup.LastClosePerNbr, is refused.
//   - Currency: CuryId/CuryID defaults to GLSetup.BaseCuryId with CuryRate 1
//     and CuryMultDiv M. The amounts a flow writes are in that currency and
//     go to the Cury* columns; the base columns get them converted (M:
//     times the rate, D: divided by it, rounded to 2 places). Another
//     currency needs the flow's CuryRate.
//   - Documents: an ARDoc needs an existing customer, a known DocType and a
//     positive OrigDocAmt; it gets DocBal, OpenDoc 1, Rlsed 0, due and
//     discount dates, the customer's terms, a cash account for payments,
//     and a Batch of its own (Module AR) whose control total is its amount.
//     A Customer gets ARSetup's defaults (class, statement cycle, AR and
//     prepayment accounts). A SOHeader needs an existing customer and is
//     open (Status O); its lines are priced in its currency and its totals
//     (LineCntr, TotMerch, TotOrd, UnshippedBalance) follow its lines.
//   - GL batches: lines need an existing, active Account, a Sub and exactly
//     one positive side. The batch's control total is the sum of its
//     debits; it is Status B (balanced, Config.BatchStatus) when debits
//     equal credits and H (hold) otherwise. A journal that does not
//     balance is refused before anything is written.
//   - Released rows (Rlsed 1) do not change, and neither do keys, amounts
//     and currencies of entered documents.
//
// # Idempotency
//
// A Customer, a SOHeader (CpnyID, OrdNbr) and any write that sets its whole
// key are found by that key. Where the driver numbers the key (ARDoc,
// SOLine, Batch, GLTran) the write's idempotency key is kept in User1,
// SL's free user field (char(30); a longer key is stored as "fk-" and 16 hex
// digits of its SHA-256; Config.Anchors picks another column). A create
// whose anchored key exists returns that row and writes nothing; Find
// settles a write in doubt the same way. PostJournal writes the batch, its
// lines and its totals in one transaction, so a batch found by its key is
// complete and posting it again writes nothing.
//
// # Errors
//
// Every failure is an *erp.Error. Permanent: what SL's screens would
// refuse (above), unknown tables or columns, values that do not fit, and
// database errors the same write hits every time (SQL Server 2627, 2601,
// 547, 515, 8152, 2628, conversions, unknown objects; SQLite constraint
// violations and statements it refuses). Transient: anything else before
// the commit (timeouts, dropped connections, deadlocks, busy databases),
// since nothing was committed. InDoubt: a commit that failed without a
// definite answer; Find settles it.
package dynsl
