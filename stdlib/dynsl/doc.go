// Package dynsl is the schema of the Microsoft Dynamics SL connector: the SL
// tables a flow can look up and write, typed for the checker.
//
// SL has no cloud API. Its integration surface is its SQL Server application
// database (and screen-driven Transaction Import), so an SL "entity" here is
// an SL table and a field is a column, spelled as SL spells it (CustId on
// Customer, CustID on SOHeader). The column lists come from
// sl_tables.json, a subset of the reference extracted from Microsoft's
// HybridSL migration app (see runtime/erp/dynsl/README.md), which replicates the SL tables
// one to one.
//
// It takes nothing in and gives back a *schema.Connector named "dynsl" with
// six entities (Customer, ARDoc, SOHeader, SOLine, Batch, GLTran) and one
// journal (Batch + GLTran). Tables returns the column lists of those tables
// and of the setup tables the driver reads (ARSetup, GLSetup, Account), for
// DDL and for the driver's full-row inserts.
//
// Mapping rules (HybridSL AL type to schema):
//
//   - Text[n] (SL char(n)): string with MaxLength n.
//   - Integer (SL smallint/int, also 0/1 flags): int.
//   - Decimal (SL float): decimal; amounts never cross as floats.
//   - DateTime, Date (SL smalldatetime): timestamp.
//
// Key parts the driver numbers (ARDoc RefNbr/BatNbr/BatSeq, Batch BatNbr,
// SOLine LineRef, GLTran LineNbr) and the company (CpnyID, from the import's
// company setting) are Key but not Required. Every value returned is
// immutable once built and safe for concurrent use.
package dynsl
