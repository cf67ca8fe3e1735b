package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/ax2012"
	axsandbox "github.com/flowhq/flow/runtime/erp/ax2012/sandbox"
	"github.com/flowhq/flow/runtime/erp/bc"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/dataverse"
	"github.com/flowhq/flow/runtime/erp/dynsl"
	slserver "github.com/flowhq/flow/runtime/erp/dynsl/sqlserver"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

// erpKind is one ERP flowd drives: how to reach the real one, and how to
// start its sandbox (a local stand-in speaking its protocol) for --demo
// and for --erp sandbox:NAME.
type erpKind struct {
	name     string   // the real ERP, --erp NAME
	label    string   // what the demo calls it
	flows    string   // the example flows the demo runs
	entities []string // what the demo reports
	sandbox  func(ctx context.Context, s erpSetup) (*erpHandle, error)
	connect  func(ctx context.Context, s erpSetup) (erp.Driver, error)
}

// erpSetup is what starting a driver needs.
type erpSetup struct {
	o       options
	company string
	secrets secretValues
	client  *http.Client // instrumented by the daemon
	log     *slog.Logger
}

// erpHandle is a running sandbox and the driver talking to it.
type erpHandle struct {
	driver erp.Driver
	count  func(entity string) (int, error)
	close  func()
}

var erpKinds = []erpKind{
	{
		name: "d365fo", label: "Dynamics 365 F&O, OData", flows: "stripe_d365",
		entities: []string{"CustomersV3", "SalesOrderHeadersV2", "CustomerPaymentJournalHeaders",
			"CustomerPaymentJournalLines", "ReturnOrderHeaders", "LedgerJournalHeaders", "LedgerJournalLines"},
		sandbox: func(ctx context.Context, s erpSetup) (*erpHandle, error) {
			return odataSandbox(s, "", func(base string) (erp.Driver, error) {
				return d365fo.New(d365fo.Config{BaseURL: base, TokenURL: base + "/sandbox/oauth2/token",
					ClientID: "flowd", ClientSecret: "sandbox", HTTPClient: s.client, Company: s.company})
			})
		},
		connect: func(ctx context.Context, s erpSetup) (erp.Driver, error) {
			if s.o.erpURL == "" {
				return nil, errors.New("--erp d365fo needs --erp-url, the environment URL")
			}
			if err := s.secrets.entra("d365fo"); err != nil {
				return nil, err
			}
			return d365fo.New(d365fo.Config{BaseURL: s.o.erpURL,
				TokenURL: "https://login.microsoftonline.com/" + s.secrets.d365Tenant + "/oauth2/token",
				ClientID: s.secrets.d365ClientID, ClientSecret: s.secrets.d365Secret, HTTPClient: s.client, Company: s.company})
		},
	},
	{
		name: "bc", label: "Business Central, API v2.0", flows: "stripe_bc",
		entities: []string{"customers", "salesOrders", "customerPayments", "salesCreditMemos", "journals", "generalLedgerEntries"},
		sandbox: func(ctx context.Context, s erpSetup) (*erpHandle, error) {
			return odataSandbox(s, "bc", func(base string) (erp.Driver, error) {
				return bc.New(bc.Config{BaseURL: base + "/api/v2.0", TokenURL: base + "/sandbox/oauth2/v2.0/token",
					ClientID: "flowd", ClientSecret: "sandbox", HTTPClient: s.client, Company: s.company})
			})
		},
		connect: func(ctx context.Context, s erpSetup) (erp.Driver, error) {
			if s.o.erpURL == "" {
				return nil, errors.New("--erp bc needs --erp-url, e.g. https://api.businesscentral.dynamics.com/v2.0/TENANT/ENVIRONMENT/api/v2.0")
			}
			if err := s.secrets.entra("bc"); err != nil {
				return nil, err
			}
			return bc.New(bc.Config{BaseURL: s.o.erpURL,
				TokenURL: "https://login.microsoftonline.com/" + s.secrets.d365Tenant + "/oauth2/v2.0/token",
				ClientID: s.secrets.d365ClientID, ClientSecret: s.secrets.d365Secret, HTTPClient: s.client, Company: s.company})
		},
	},
	{
		name: "dynsl", label: "Dynamics SL, its SQL tables", flows: "stripe_sl",
		entities: []string{"Customer", "SOHeader", "SOLine", "ARDoc", "Batch", "GLTran"},
		sandbox: func(ctx context.Context, s erpSetup) (*erpHandle, error) {
			db := sandboxPath(s.o)
			d, err := dynsl.OpenSandbox(db, dynsl.Config{Company: s.company})
			if err != nil {
				return nil, err
			}
			s.log.Info("sandbox ERP: the Dynamics SL schema on SQLite", "db", db)
			return &erpHandle{driver: d, close: func() { d.Close() },
				count: func(table string) (int, error) { return d.Count(context.Background(), table) }}, nil
		},
		connect: func(ctx context.Context, s erpSetup) (erp.Driver, error) {
			if s.secrets.slDSN == "" {
				return nil, errors.New("--erp dynsl needs SL_DSN (or SL_DSN_FILE): sqlserver://USER:PASSWORD@HOST:1433?database=SLAPP")
			}
			return slserver.Open(ctx, s.secrets.slDSN, dynsl.Config{Company: s.company})
		},
	},
	{
		name: "ax2012", label: "AX 2012, AIF SOAP", flows: "stripe_ax",
		entities: []string{"CustTable", "SalesTable", "SalesLine", "LedgerJournalTable", "LedgerJournalTrans"},
		sandbox: func(ctx context.Context, s erpSetup) (*erpHandle, error) {
			// Kept in a database file, as the other sandboxes are, so that
			// a restarted flowd finds what it wrote.
			db := sandboxPath(s.o)
			sb, err := axsandbox.Open(db, axsandbox.Config{Company: s.company, Logger: s.log.With("component", "sandbox")})
			if err != nil {
				return nil, err
			}
			base, err := sb.Start("127.0.0.1:0")
			if err != nil {
				sb.Close()
				return nil, err
			}
			d, err := ax2012.New(ax2012.Config{BaseURL: base, Port: "FlowServices", Company: s.company, HTTPClient: s.client})
			if err != nil {
				sb.Close()
				return nil, err
			}
			s.log.Info("sandbox ERP serving AX 2012's AIF SOAP services", "url", base, "db", db)
			return &erpHandle{driver: d, close: func() { sb.Close() }, count: func(table string) (int, error) {
				recs, err := sb.Records(s.company, table)
				return len(recs), err
			}}, nil
		},
		connect: func(ctx context.Context, s erpSetup) (erp.Driver, error) {
			// The inbound port is the URL's last segment:
			// http://aos/MicrosoftDynamicsAXAif60/FlowServices.
			u, err := url.Parse(s.o.erpURL)
			if s.o.erpURL == "" || err != nil || path.Base(u.Path) == "/" || path.Base(u.Path) == "." {
				return nil, errors.New("--erp ax2012 needs --erp-url, the AIF inbound port's URL, e.g. http://aos.contoso.com/MicrosoftDynamicsAXAif60/FlowServices")
			}
			port := path.Base(u.Path)
			u.Path = path.Dir(u.Path)
			return ax2012.New(ax2012.Config{BaseURL: u.String(), Port: port, Company: s.company,
				Username: s.secrets.axUser, Password: s.secrets.axPassword, HTTPClient: s.client})
		},
	},
	{
		name: "dataverse", label: "Dataverse (Dynamics 365 Sales), Web API v9.2", flows: "stripe_dataverse",
		entities: []string{"accounts", "salesorders", "invoices", "new_stripepayments"},
		sandbox: func(ctx context.Context, s erpSetup) (*erpHandle, error) {
			return odataSandbox(s, "dataverse", func(base string) (erp.Driver, error) {
				return dataverse.New(dataverse.Config{BaseURL: base, TokenURL: base + "/sandbox/oauth2/v2.0/token",
					ClientID: "flowd", ClientSecret: "sandbox", HTTPClient: s.client})
			})
		},
		connect: func(ctx context.Context, s erpSetup) (erp.Driver, error) {
			if s.o.erpURL == "" {
				return nil, errors.New("--erp dataverse needs --erp-url, the environment URL, e.g. https://contoso.crm.dynamics.com")
			}
			if err := s.secrets.entra("dataverse"); err != nil {
				return nil, err
			}
			return dataverse.New(dataverse.Config{BaseURL: s.o.erpURL,
				TokenURL: "https://login.microsoftonline.com/" + s.secrets.d365Tenant + "/oauth2/v2.0/token",
				ClientID: s.secrets.d365ClientID, ClientSecret: s.secrets.d365Secret, HTTPClient: s.client})
		},
	},
}

// erpKindOf returns the ERP an --erp value names, and whether it asks for
// its sandbox ("sandbox" is F&O's, "sandbox:bc" Business Central's, ...).
func erpKindOf(name string) (*erpKind, bool, error) {
	want, isSandbox := name, false
	if name == "sandbox" {
		want, isSandbox = "d365fo", true
	} else if n, ok := strings.CutPrefix(name, "sandbox:"); ok {
		want, isSandbox = n, true
	}
	for i := range erpKinds {
		if erpKinds[i].name == want {
			return &erpKinds[i], isSandbox, nil
		}
	}
	var names []string
	for _, k := range erpKinds {
		names = append(names, k.name)
	}
	return nil, false, fmt.Errorf("--erp %q: want %s, or sandbox[:NAME] for a local stand-in", name, strings.Join(names, ", "))
}

// odataSandbox starts the embedded OData sandbox in a dialect and a
// driver over it.
func odataSandbox(s erpSetup, dialect string, driver func(base string) (erp.Driver, error)) (*erpHandle, error) {
	db := sandboxPath(s.o)
	sb, err := sandbox.New(sandbox.Config{Path: db, Dialect: dialect, Company: sandboxCompany(dialect, s.company),
		Tenant: "sandbox", ClientID: "flowd", ClientSecret: "sandbox", Logger: s.log.With("component", "sandbox")})
	if err != nil {
		return nil, err
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, err
	}
	s.log.Info("sandbox ERP", "dialect", cmp.Or(dialect, "d365fo"), "url", base, "db", db)
	d, err := driver(base)
	if err != nil {
		sb.Close()
		return nil, err
	}
	return &erpHandle{driver: d, count: sb.Count, close: func() { sb.Close() }}, nil
}

func sandboxCompany(dialect, company string) string {
	if dialect == "" {
		return "" // F&O's sandbox serves every dataAreaId
	}
	return company
}

// sandboxPath is where a sandbox keeps its data: --sandbox-db, or beside
// the store.
func sandboxPath(o options) string {
	if o.sandboxDB != "" {
		return o.sandboxDB
	}
	if strings.Contains(o.store, "://") {
		return "flow-sandbox.db"
	}
	return strings.TrimSuffix(o.store, filepath.Ext(o.store)) + "-sandbox.db"
}

// entra checks the Entra ID app secrets an ERP needs.
func (s secretValues) entra(erpName string) error {
	if s.d365Tenant == "" || s.d365ClientID == "" || s.d365Secret == "" {
		return fmt.Errorf("--erp %s needs D365_TENANT, D365_CLIENT_ID and D365_CLIENT_SECRET (or their _FILE forms)", erpName)
	}
	return nil
}
