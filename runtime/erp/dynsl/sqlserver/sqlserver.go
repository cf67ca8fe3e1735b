// Package sqlserver opens the Dynamics SL driver on its production
// database: SQL Server, through github.com/microsoft/go-mssqldb (registered
// as the database/sql driver "sqlserver"). It is a separate package so that
// runtime/erp/dynsl and its tests do not depend on a SQL Server driver.
package sqlserver

import (
	"context"
	"fmt"

	_ "github.com/microsoft/go-mssqldb" // database/sql driver "sqlserver"

	"github.com/flowhq/flow/runtime/erp/dynsl"
)

// Open connects to the SL application database named by dsn, a go-mssqldb
// connection string such as
//
//	sqlserver://flow:secret@sl-sql01:1433?database=SLAPP60&app+name=flowd
//
// checks that it answers and holds SL's GL and AR setup rows, and returns
// the driver. cfg.DB and cfg.Dialect are set here.
func Open(ctx context.Context, dsn string, cfg dynsl.Config) (*dynsl.Driver, error) {
	d, err := dynsl.Open("sqlserver", dsn, cfg)
	if err != nil {
		return nil, err
	}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("dynsl: SL database: %w", err)
	}
	return d, nil
}
