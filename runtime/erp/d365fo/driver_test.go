package d365fo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/flowhq/flow/runtime/erp"
	"github.com/flowhq/flow/runtime/erp/d365fo"
	"github.com/flowhq/flow/runtime/erp/sandbox"
)

// env is a sandbox on loopback and a driver pointed at it.
type env struct {
	sb    *sandbox.Server
	base  string
	drv   *d365fo.Driver
	clock *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newEnv(t testing.TB, tweak ...func(*d365fo.Config)) *env {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	cfg := d365fo.Config{
		BaseURL:      base,
		TokenURL:     base + "/contoso/oauth2/token",
		ClientID:     "app",
		ClientSecret: "s3cret",
		Company:      "USMF",
		Timeout:      2 * time.Second,
		Now:          clk.Now,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	drv, err := d365fo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, base: base, drv: drv, clock: clk}
}

func (e *env) count(t *testing.T, entity string) int {
	t.Helper()
	n, err := e.sb.Count(entity)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(t *testing.T, err error) erp.Kind {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *erp.Error", err, err)
	}
	return e.Kind
}

func customer(account string) erp.Record {
	return erp.Record{"CustomerAccount": account, "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}
}

func TestCreateLookupUpdateUpsert(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	fields := customer("US-001")
	fields["OrganizationName"] = "O'Brien & Sons"
	fields["CreditLimit"] = dec("12345678901234567890.123456789")
	fields["IsOneTimeCustomer"] = "Yes"
	fields["CredManLastReviewDate"] = time.Date(2024, 1, 31, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	got, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "cust:1", Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := got["CreditLimit"].(decimal.Decimal); !ok || d.String() != "12345678901234567890.123456789" {
		t.Errorf("CreditLimit came back as %#v", got["CreditLimit"])
	}
	if ts, ok := got["CredManLastReviewDate"].(time.Time); !ok || ts.Format(time.RFC3339) != "2024-01-31T00:00:00Z" {
		t.Errorf("a date at local midnight came back as %v, want the same calendar date at midnight UTC", got["CredManLastReviewDate"])
	}
	if n, ok := got["PersonAnniversaryYear"].(int64); !ok || n != 0 {
		t.Errorf("an Int32 default came back as %#v, want int64 0", got["PersonAnniversaryYear"])
	}
	if got["dataAreaId"] != "usmf" {
		t.Errorf("dataAreaId %v", got["dataAreaId"])
	}

	rec, found, err := e.drv.Lookup(ctx, "CustomersV3", erp.Record{"OrganizationName": "O'Brien & Sons", "IsOneTimeCustomer": "Yes"})
	if err != nil || !found || rec["CustomerAccount"] != "US-001" {
		t.Fatalf("lookup by a name with a quote and an enum: %v %v %v", rec, found, err)
	}
	if _, found, err := e.drv.Lookup(ctx, "CustomersV3", erp.Record{"CustomerAccount": "US-404"}); found || err != nil {
		t.Errorf("lookup of a missing customer: found=%v err=%v", found, err)
	}

	got, err = e.drv.Write(ctx, erp.Write{Op: erp.Update, Entity: "CustomersV3", Key: "cust:1:limit",
		Fields: erp.Record{"CustomerAccount": "US-001", "CreditLimit": dec("99.99")}})
	if err != nil || !got["CreditLimit"].(decimal.Decimal).Equal(dec("99.99")) || got["OrganizationName"] != "O'Brien & Sons" {
		t.Fatalf("update: %v %v", got, err)
	}
	_, err = e.drv.Write(ctx, erp.Write{Op: erp.Update, Entity: "CustomersV3", Fields: erp.Record{"CreditLimit": dec("1")}})
	if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), "key field CustomerAccount") {
		t.Errorf("update without the key: %v", err)
	}

	up := customer("US-001")
	up["NameAlias"] = "OB"
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "CustomersV3", Key: "cust:1", Fields: up}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "CustomersV3", Key: "cust:2", Fields: customer("US-002")}); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.sb.Records("CustomersV3")
	if len(recs) != 2 || recs[0]["NameAlias"] != "OB" || recs[1]["CustomerAccount"] != "US-002" {
		t.Errorf("after two upserts: %v", recs)
	}
}

func TestUpsertByAnchor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	order := erp.Record{"OrderingCustomerAccountNumber": "US-001", "CurrencyCode": "USD"}
	first, err := e.drv.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "SalesOrderHeadersV2", Key: "stripe:ch_1", Fields: order})
	if err != nil {
		t.Fatal(err)
	}
	if first["SalesOrderNumber"] != "SO-000001" || first["CustomerRequisitionNumber"] != "stripe:ch_1" {
		t.Errorf("created order %v / %v", first["SalesOrderNumber"], first["CustomerRequisitionNumber"])
	}
	order["SalesOrderName"] = "second delivery"
	second, err := e.drv.Write(ctx, erp.Write{Op: erp.Upsert, Entity: "SalesOrderHeadersV2", Key: "stripe:ch_1", Fields: order})
	if err != nil {
		t.Fatal(err)
	}
	if second["SalesOrderNumber"] != "SO-000001" || second["SalesOrderName"] != "second delivery" || e.count(t, "SalesOrderHeadersV2") != 1 {
		t.Errorf("upsert by anchor created a second order or did not update: %v", second)
	}
}

func TestAnchorTooLongIsHashed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := "stripe:payout:po_1OaBcDeFgHiJkLmNoPqRsTuV:" + strings.Repeat("x", 40)
	rec, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "LedgerJournalHeaders", Key: key, Fields: erp.Record{"JournalName": "GenJrn"}})
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := rec["Description"].(string)
	if !strings.HasPrefix(desc, "fk-") || len(desc) != 19 {
		t.Errorf("a %d-character key was stored as %q, want fk- and 16 hex digits", len(key), desc)
	}
	short, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "LedgerJournalHeaders", Key: "payout:po_2", Fields: erp.Record{"JournalName": "GenJrn"}})
	if err != nil || short["Description"] != "payout:po_2" {
		t.Errorf("short key stored as %v (%v)", short["Description"], err)
	}
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "LedgerJournalHeaders", Key: "k", Fields: erp.Record{"JournalName": "GenJrn", "Description": "mine"}}); err == nil || kindOf(t, err) != erp.Permanent {
		t.Errorf("a flow setting the anchor field: %v, want a Permanent error", err)
	}
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "ExchangeRates", Key: "k", Fields: erp.Record{"Rate": dec("1.1")}}); err == nil || kindOf(t, err) != erp.Permanent {
		t.Errorf("a keyless create with no anchor field: %v, want a Permanent error", err)
	}
}

func TestClientSideValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		fields erp.Record
		want   string
	}{
		{"unknown field", erp.Record{"CustomerAccount": "X", "Colour": "red"}, `no field "Colour"`},
		{"float amount", erp.Record{"CustomerAccount": "X", "CreditLimit": 1.5}, "amounts must be decimal.Decimal"},
		{"enum member", erp.Record{"CustomerAccount": "X", "IsOneTimeCustomer": "Maybe"}, `"Maybe" is not a member`},
		{"wrong kind", erp.Record{"CustomerAccount": "X", "CreditLimit": "lots"}, "cannot be written to a decimal field"},
	}
	before := e.sb.Requests()["POST collection"]
	for _, tc := range tests {
		_, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "k", Fields: tc.fields})
		if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a Permanent error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "Customers", Fields: erp.Record{}}); err == nil || kindOf(t, err) != erp.Permanent {
		t.Errorf("unknown entity: %v", err)
	}
	if after := e.sb.Requests()["POST collection"]; after != before {
		t.Errorf("invalid writes reached the server (%d requests)", after-before)
	}
}

func TestServerValidationIsPermanent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		fields erp.Record
		status int
		want   string
	}{
		{"too long", erp.Record{"CustomerAccount": "X", "CustomerGroupId": "10", "SalesCurrencyCode": "USDX"}, 500, "is too long"},
		{"missing required", erp.Record{"CustomerAccount": "X", "SalesCurrencyCode": "USD"}, 500, "Field 'CustomerGroupId' must be filled in."},
	}
	for _, tc := range tests {
		_, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "k", Fields: tc.fields})
		var ee *erp.Error
		if !errors.As(err, &ee) || ee.Kind != erp.Permanent || ee.Status != tc.status || !strings.Contains(ee.Message, tc.want) ||
			!strings.Contains(ee.Message, "Write failed for table row of type 'CustomerV3Entity'") {
			t.Errorf("%s: %v, want Permanent HTTP %d with F&O's inner message", tc.name, err, tc.status)
		}
	}
	if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "a", Fields: customer("US-001")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "b", Fields: customer("us-001")})
	if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate key: %v", err)
	}
}

func TestTokenFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 { // concurrent first requests share one token fetch
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{"CurrencyCode": "USD"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for range 12 {
		if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{"CurrencyCode": "EUR"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.Requests()["POST token"]; n != 1 {
		t.Errorf("20 requests fetched %d tokens, want 1", n)
	}

	e.clock.Add(56 * time.Minute) // past 90% of the hour the token lives
	if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{"CurrencyCode": "USD"}); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.Requests()["POST token"]; n != 2 {
		t.Errorf("after the token aged, %d token fetches, want 2", n)
	}

	e.sb.ExpireTokens() // the server forgets the token: one 401, one refresh, one retry
	if _, _, err := e.drv.Lookup(ctx, "Currencies", erp.Record{"CurrencyCode": "USD"}); err != nil {
		t.Fatalf("after a 401: %v", err)
	}
	if r := e.sb.Requests(); r["POST token"] != 3 || r["GET unauthorized"] != 1 {
		t.Errorf("after a 401: %d token fetches and %d refusals, want 3 and 1", r["POST token"], r["GET unauthorized"])
	}
}

func TestBadCredentialsArePermanent(t *testing.T) {
	e := newEnv(t, func(c *d365fo.Config) { c.ClientSecret = "wrong" })
	_, _, err := e.drv.Lookup(context.Background(), "Currencies", erp.Record{})
	if err == nil || kindOf(t, err) != erp.Permanent || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("wrong secret: %v, want a Permanent error naming AADSTS7000215", err)
	}
}

func TestKeysWithAwkwardCharacters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, account := range []string{"O'B 1/2", "A,B=C", "100% #1", "Ünïcødé"} {
		if _, err := e.drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: "c:" + account, Fields: customer(account)}); err != nil {
			t.Fatalf("%q: create: %v", account, err)
		}
		got, err := e.drv.Write(ctx, erp.Write{Op: erp.Update, Entity: "CustomersV3", Fields: erp.Record{"CustomerAccount": account, "NameAlias": account}})
		if err != nil || got["NameAlias"] != account {
			t.Errorf("%q: update by key: %v %v", account, got["NameAlias"], err)
		}
		rec, found, err := e.drv.Lookup(ctx, "CustomersV3", erp.Record{"CustomerAccount": account})
		if err != nil || !found || rec["NameAlias"] != account {
			t.Errorf("%q: lookup: %v %v %v", account, rec["NameAlias"], found, err)
		}
	}
}

// A query reads every page: the sandbox answers 2 records a page here.
func TestQueryReadsEveryPage(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", Seed: 1, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := d365fo.New(d365fo.Config{BaseURL: base, TokenURL: base + "/contoso/oauth2/token", ClientID: "app", ClientSecret: "s3cret", Company: "USMF", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, group := range []string{"10", "20", "10", "10", "10", "20"} {
		c := customer(fmt.Sprintf("US-%03d", i))
		c["CustomerGroupId"] = group
		if _, err := drv.Write(ctx, erp.Write{Op: erp.Create, Entity: "CustomersV3", Key: fmt.Sprintf("q:%d", i), Fields: c}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := drv.Query(ctx, "CustomersV3", erp.Record{"CustomerGroupId": "10"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r["CustomerAccount"].(string))
	}
	if strings.Join(got, ",") != "US-000,US-002,US-003,US-004" {
		t.Errorf("group 10: %v, want the 4 customers over 2 pages", got)
	}
	if recs, err := drv.Query(ctx, "CustomersV3", erp.Record{"CustomerGroupId": "99"}); err != nil || len(recs) != 0 {
		t.Errorf("group 99: %v, %v; want none", recs, err)
	}
	// Comparisons are F&O's: $filter ... and CustomerAccount gt 'US-002'.
	recs, err = drv.QueryRange(ctx, "CustomersV3", erp.Record{"CustomerGroupId": "10"}, []erp.Range{{Field: "CustomerAccount", Op: ">", Value: "US-002"}})
	got = nil
	for _, r := range recs {
		got = append(got, r["CustomerAccount"].(string))
	}
	if err != nil || strings.Join(got, ",") != "US-003,US-004" {
		t.Errorf("group 10 after US-002: %v, %v", got, err)
	}
	if _, err := drv.QueryRange(ctx, "CustomersV3", nil, []erp.Range{{Field: "Colour", Op: "<", Value: "x"}}); err == nil || kindOf(t, err) != erp.Permanent {
		t.Errorf("comparing a field the entity has not: %v, want a permanent error", err)
	}
	if _, err := drv.Query(ctx, "NoSuchEntities", nil); err == nil || kindOf(t, err) != erp.Permanent {
		t.Errorf("an unknown entity: %v, want a permanent error", err)
	}
}
