package dynsl

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the sandbox's database

	"github.com/flowhq/flow/runtime/erp"
)

// schemaSQL is the SL tables the driver uses, as SQLite DDL (see
// README.md for what it is and is not).
//
//go:embed testdata/sl_schema.sql
var schemaSQL string

// SandboxRows are the setup of the sandbox's one company, 0060: GL in USD,
// period 2022-03 current and 2021 closed, AR numbering automatic.
var SandboxRows = []struct {
	Table  string
	Record erp.Record
}{
	{"GLSetup", erp.Record{"SetupId": "GL", "BaseCuryId": "USD", "CpnyId": "0060", "CpnyName": "Contoso Retail", "LedgerID": "ACTUAL",
		"LastBatNbr": "000041", "PerNbr": "202203", "LastClosePerNbr": "202112", "NbrPer": int64(12), "MCActive": int64(1)}},
	{"ARSetup", erp.Record{"SetupId": "AR", "PerNbr": "202203", "LastBatNbr": "000107", "LastRefNbr": "001200",
		"LastCrMemoNbr": "CM0009", "LastDrMemoNbr": "DM0001", "AutoRef": int64(1), "ArAcct": "1300", "ArSub": "00-000",
		"ChkAcct": "1060", "ChkSub": "00-000", "PrePayAcct": "2350", "PrePaySub": "00-000", "DfltClass": "WEB",
		"DfltStmtCycle": "01", "DfltStmtType": "O", "DfltAutoApply": int64(1), "GLPostOpt": "D"}},
}

// SandboxAccounts is the sandbox's chart of accounts (all active; 9999 is
// a closed one, for tests).
var SandboxAccounts = []string{"1060", "1300", "1310", "1320", "2310", "2315", "4000", "4900", "6110", "6120", "6130", "6190"}

// OpenSandbox opens (creating it when new) a local SQLite database with the
// SL schema and the setup of company 0060, and a driver over it: what
// `flowd --demo --erp dynsl` and the tests run against instead of an SL
// database on SQL Server.
func OpenSandbox(path string, cfg Config) (*Driver, error) {
	db, err := sql.Open("sqlite", SandboxDSN(path))
	if err != nil {
		return nil, err
	}
	return NewSandbox(db, path, cfg)
}

// SandboxDSN is the modernc.org/sqlite data source name OpenSandbox opens
// the database at path with: WAL, a busy timeout, and transactions that
// take the write lock when they begin (as SQL Server's would block).
func SandboxDSN(path string) string {
	return "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

// NewSandbox is OpenSandbox over a database the caller opened on
// SandboxDSN(path), for instance through a connector of its own (a test's
// that fails some transactions); the driver closes db. path only names
// the database in errors.
func NewSandbox(db *sql.DB, path string, cfg Config) (*Driver, error) {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'GLSetup'`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("SL sandbox %s: %w", path, err)
	}
	if n == 0 {
		if _, err := db.Exec(schemaSQL); err != nil {
			db.Close()
			return nil, fmt.Errorf("SL sandbox schema: %w", err)
		}
	}
	cfg.DB, cfg.Dialect = db, SQLite
	d, err := New(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n == 0 {
		if err := d.seedSandbox(context.Background()); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func (d *Driver) seedSandbox(ctx context.Context) error {
	return d.inTx(ctx, "seed", func(x *txn) error {
		for _, r := range SandboxRows {
			if err := x.insert(d.tables[r.Table], r.Record); err != nil {
				return err
			}
		}
		for _, a := range SandboxAccounts {
			if err := x.insert(d.tables["Account"], erp.Record{"Acct": a, "Descr": "Account " + a, "Active": int64(1), "CuryId": "USD"}); err != nil {
				return err
			}
		}
		return x.insert(d.tables["Account"], erp.Record{"Acct": "9999", "Descr": "Closed", "Active": int64(0)})
	})
}

// Count returns how many rows an SL table holds (the demo's report).
func (d *Driver) Count(ctx context.Context, table string) (int, error) {
	if _, ok := d.tables[table]; !ok {
		return 0, fmt.Errorf("dynsl: unknown table %q", table)
	}
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n)
	return n, err
}

// Records returns every row of an SL table, decoded as the driver reads
// them, in key order (tests and the demo look at what was written).
func (d *Driver) Records(ctx context.Context, table string) ([]erp.Record, error) {
	t, ok := d.tables[table]
	if !ok {
		return nil, fmt.Errorf("dynsl: unknown table %q", table)
	}
	var out []erp.Record
	err := d.inTx(ctx, "records of "+table, func(x *txn) error {
		var err error
		out, err = x.selectRows(t, nil, 0)
		return err
	})
	return out, err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
