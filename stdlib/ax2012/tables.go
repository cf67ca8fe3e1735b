package ax2012

import "github.com/flowhq/flow/stdlib/schema"

// Namespaces of AIF's document services (http, as the WSDLs have them).
const (
	ServicesNS      = "http://schemas.microsoft.com/dynamics/2008/01/services"
	DocumentsNS     = "http://schemas.microsoft.com/dynamics/2008/01/documents/" // + document name
	EntityKeyListNS = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList"
	EntityKeyNS     = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey"
	QueryCriteriaNS = "http://schemas.microsoft.com/dynamics/2006/02/documents/QueryCriteria"
	CallContextNS   = "http://schemas.microsoft.com/dynamics/2010/01/datacontracts"
	FaultNS         = "http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"
	InfologNS       = "http://schemas.datacontract.org/2004/07/Microsoft.Dynamics.AX.Framework.Services"
	XSINS           = "http://www.w3.org/2001/XMLSchema-instance"
)

// Table is how one AIF table travels in its document: a root table
// (CustTable in Customer) or a child of one (SalesLine in SalesOrder).
type Table struct {
	Name     string // the table element and the flow's entity set: "SalesTable"
	Service  string // external name of the document service: "SalesOrderService"
	Document string // document element: "SalesOrder" (namespace DocumentsNS + Document)
	Doc      string
	// Parent is the root table a child table is nested in; "" for a root.
	Parent string
	// Key is the field that identifies a record: for a root table the one
	// AIF returns in its EntityKeyList (SalesId); for a child the one that
	// tells the lines of one parent apart (LineNum).
	Key string
	// Link is the field of a child that holds its parent's key (SalesId).
	Link string
	// Anchor is the string field where the runtime keeps a write's
	// idempotency key when AX numbers the key (SalesId from a number
	// sequence): a retry after a crash finds the record by it. "" when the
	// flow sets the key or the table has no such field.
	Anchor string
	// Updatable says the service has the update operation, so children
	// can be added to an existing document (SalesOrderService can;
	// GeneralJournalService is create and read only).
	Updatable bool
	Fields    []Field // in document order
	// Wrappers are the elements that nest flattened fields (DirParty),
	// with the attributes AIF wants on them.
	Wrappers map[string]Wrapper
}

// Field is one field of a table: its type for the checker and its place
// in the document.
type Field struct {
	Name      string
	Type      *schema.Type
	MaxLength int
	Required  bool // a create must set it
	Doc       string
	// Path is the element path under the table element; nil means the
	// element named Name. ["DirParty", "Name"] nests it in DirParty.
	Path []string
	// Date marks an xs:date (2024-01-31) rather than an xs:dateTime.
	Date bool
	// ReadOnly fields are filled by AX and never sent.
	ReadOnly bool
}

// Wrapper is an element that nests flattened fields.
type Wrapper struct {
	Entity  bool   // class="entity": a child entity rather than a complex type
	XSIType string // xsi:type, "AxdEntity_DirParty_DirOrganization"; "" for none
}

// ElementPath returns f's element path under its table element.
func (f *Field) ElementPath() []string {
	if len(f.Path) > 0 {
		return f.Path
	}
	return []string{f.Name}
}

// Field returns the named field.
func (t *Table) Field(name string) (*Field, bool) {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i], true
		}
	}
	return nil, false
}

// Namespace is the document's XML namespace.
func (t *Table) Namespace() string { return DocumentsNS + t.Document }

var (
	str       = schema.StringType
	dec       = schema.DecimalType
	ts        = schema.TimestampType
	integer   = schema.IntType
	noYes     = schema.EnumOf("No", "Yes")
	acType    = schema.EnumOf("Ledger", "Cust", "Vend", "Project", "FixedAssets", "Bank")
	salesType = schema.EnumOf("Journal", "Subscription", "Sales", "ReturnItem", "ItemReq")
)

// tables is every table the connector knows. Fields are in the Axd
// schemas' order: alphabetical, flattened child entities last.
var tables = []Table{
	{
		Name: "CustTable", Service: "CustomerService", Document: "Customer", Key: "AccountNum", Updatable: true,
		Doc: "A customer (CustCustomerService, document AxdCustomer): the CustTable record and its party (DirParty), created as an organization.",
		Fields: []Field{
			{Name: "AccountNum", Type: str, MaxLength: 20, Doc: "Customer account; AX numbers it from the customer number sequence when a create leaves it out."},
			{Name: "Blocked", Type: schema.EnumOf("No", "Invoice", "All"), Doc: "Whether the customer is on hold (CustVendorBlocked)."},
			{Name: "CreditMax", Type: dec, Doc: "Credit limit in the accounting currency."},
			{Name: "Currency", Type: str, MaxLength: 3, Required: true, Doc: "The customer's currency (ISO code)."},
			{Name: "CustGroup", Type: str, MaxLength: 10, Required: true, Doc: "Customer group: decides the posting profile."},
			{Name: "InvoiceAccount", Type: str, MaxLength: 20, Doc: "The account invoiced instead of this one, if any."},
			{Name: "PaymMode", Type: str, MaxLength: 10, Doc: "Method of payment."},
			{Name: "PaymTermId", Type: str, MaxLength: 10, Doc: "Terms of payment."},
			{Name: "RecId", Type: integer, ReadOnly: true, Doc: "Record id, assigned by AX."},
			{Name: "TaxGroup", Type: str, MaxLength: 10, Doc: "Sales tax group."},
			{Name: "VATNum", Type: str, MaxLength: 20, Doc: "Tax exempt number."},
			{Name: "LanguageId", Type: str, MaxLength: 7, Path: []string{"DirParty", "LanguageId"}, Doc: "The party's language, en-us."},
			{Name: "Name", Type: str, MaxLength: 100, Required: true, Path: []string{"DirParty", "Name"}, Doc: "The customer's name, kept on its party (DirParty.Name)."},
			{Name: "NameAlias", Type: str, MaxLength: 20, Path: []string{"DirParty", "NameAlias"}, Doc: "Search name; AX derives it from Name when unset."},
			{Name: "PartyNumber", Type: str, MaxLength: 20, ReadOnly: true, Path: []string{"DirParty", "PartyNumber"}, Doc: "The party's number, assigned by AX."},
		},
		Wrappers: map[string]Wrapper{"DirParty": {Entity: true, XSIType: "AxdEntity_DirParty_DirOrganization"}},
	},
	{
		Name: "SalesTable", Service: "SalesOrderService", Document: "SalesOrder", Key: "SalesId", Anchor: "CustomerRef", Updatable: true,
		Doc: "A sales order header (SalesSalesOrderService, document AxdSalesOrder). A negative line quantity makes it a credit note.",
		Fields: []Field{
			{Name: "CurrencyCode", Type: str, MaxLength: 3, Required: true, Doc: "Currency of the order (ISO code)."},
			{Name: "CustAccount", Type: str, MaxLength: 20, Required: true, Doc: "The ordering customer's account."},
			{Name: "CustomerRef", Type: str, MaxLength: 60, Doc: "Customer reference; the runtime keeps the write's idempotency key here when AX numbers the order."},
			{Name: "DeliveryDate", Type: ts, Date: true, Required: true, Doc: "Requested delivery date (a date)."},
			{Name: "DlvMode", Type: str, MaxLength: 10, Doc: "Mode of delivery."},
			{Name: "InventLocationId", Type: str, MaxLength: 10, Doc: "Warehouse."},
			{Name: "InventSiteId", Type: str, MaxLength: 10, Doc: "Site."},
			{Name: "InvoiceAccount", Type: str, MaxLength: 20, Doc: "The account invoiced; AX takes the customer's when unset."},
			{Name: "Payment", Type: str, MaxLength: 10, Doc: "Terms of payment."},
			{Name: "PaymMode", Type: str, MaxLength: 10, Doc: "Method of payment."},
			{Name: "PurchOrderFormNum", Type: str, MaxLength: 20, Doc: "Customer requisition: the customer's (the shop's) order number."},
			{Name: "RecId", Type: integer, ReadOnly: true, Doc: "Record id, assigned by AX."},
			{Name: "ReturnItemNum", Type: str, MaxLength: 20, Doc: "RMA number of a return order."},
			{Name: "SalesId", Type: str, MaxLength: 20, Doc: "Sales order number; AX numbers it from the number sequence when a create leaves it out."},
			{Name: "SalesName", Type: str, MaxLength: 60, Doc: "Name on the order; AX takes the customer's when unset."},
			{Name: "SalesStatus", Type: schema.EnumOf("None", "Backorder", "Delivered", "Invoiced", "Canceled"), ReadOnly: true, Doc: "Status, kept by AX."},
			{Name: "SalesType", Type: salesType, Doc: "Order type; Sales when unset."},
		},
	},
	{
		Name: "SalesLine", Service: "SalesOrderService", Document: "SalesOrder", Parent: "SalesTable", Key: "LineNum", Link: "SalesId", Updatable: true,
		Doc: "A sales order line. A create adds it to its order with an update of the SalesOrder document (action=\"create\" on the line).",
		Fields: []Field{
			{Name: "CurrencyCode", Type: str, MaxLength: 3, Doc: "Currency; the order's when unset."},
			{Name: "InventTransId", Type: str, MaxLength: 20, ReadOnly: true, Doc: "Lot id of the line, assigned by AX."},
			{Name: "ItemId", Type: str, MaxLength: 20, Required: true, Doc: "Item number."},
			{Name: "LineAmount", Type: dec, Doc: "Net amount of the line; AX computes it from quantity and price when unset."},
			{Name: "LineNum", Type: dec, Doc: "Line number within the order; numbered after the last line when unset."},
			{Name: "Name", Type: str, MaxLength: 1000, Doc: "Line text; AX takes the item's name when unset."},
			{Name: "RecId", Type: integer, ReadOnly: true, Doc: "Record id, assigned by AX."},
			{Name: "SalesId", Type: str, MaxLength: 20, Required: true, Doc: "The order the line belongs to."},
			{Name: "SalesPrice", Type: dec, Doc: "Unit price."},
			{Name: "SalesQty", Type: dec, Required: true, Doc: "Quantity; negative on a credit note."},
			{Name: "SalesUnit", Type: str, MaxLength: 10, Doc: "Unit; the item's sales unit when unset."},
		},
	},
	{
		Name: "LedgerJournalTable", Service: "GeneralJournalService", Document: "LedgerGeneralJournal", Key: "JournalNum", Anchor: "Name",
		Doc: "A general journal header (LedgerGeneralJournalService, document AxdLedgerGeneralJournal): created together with its lines in one document.",
		Fields: []Field{
			{Name: "JournalName", Type: str, MaxLength: 10, Required: true, Doc: "Journal name (the setup that gives the voucher series and defaults)."},
			{Name: "JournalNum", Type: str, MaxLength: 10, Doc: "Journal batch number, assigned by AX."},
			{Name: "Name", Type: str, MaxLength: 60, Doc: "Description; the runtime keeps the journal's idempotency key here."},
			{Name: "RecId", Type: integer, ReadOnly: true, Doc: "Record id, assigned by AX."},
		},
	},
	{
		Name: "LedgerJournalTrans", Service: "GeneralJournalService", Document: "LedgerGeneralJournal", Parent: "LedgerJournalTable", Key: "LineNum", Link: "JournalNum",
		Doc: "A general journal line. Lines are posted with their header in one journal (a flow's ledger block); the service cannot add lines to a journal later.",
		Fields: []Field{
			{Name: "AccountType", Type: acType, Doc: "Type of LedgerDimension's account; Ledger when unset."},
			{Name: "AmountCurCredit", Type: dec, Doc: "Credit in the line's currency."},
			{Name: "AmountCurDebit", Type: dec, Doc: "Debit in the line's currency."},
			{Name: "Company", Type: str, MaxLength: 4, Doc: "Company of the account (intercompany lines); the journal's when unset."},
			{Name: "CurrencyCode", Type: str, MaxLength: 3, Required: true, Doc: "Currency of the amounts (ISO code)."},
			{Name: "DocumentNum", Type: str, MaxLength: 20, Doc: "Document number."},
			{Name: "ExchRate", Type: dec, Doc: "Exchange rate; AX takes the day's rate when unset."},
			{Name: "JournalNum", Type: str, MaxLength: 10, Doc: "The journal the line belongs to."},
			{Name: "LedgerDimension", Type: str, MaxLength: 500, Required: true, Path: []string{"LedgerDimension", "DisplayValue"},
				Doc: "The account: a main account with its dimensions (110150-001), or a customer, vendor or bank account as AccountType says; sent as the MultiTypeAccount's DisplayValue."},
			{Name: "LineNum", Type: dec, Doc: "Line number within the journal."},
			{Name: "OffsetAccountType", Type: acType, Doc: "Type of OffsetLedgerDimension's account."},
			{Name: "OffsetCompany", Type: str, MaxLength: 4, Doc: "Company of the offset account."},
			{Name: "OffsetLedgerDimension", Type: str, MaxLength: 500, Path: []string{"OffsetLedgerDimension", "DisplayValue"},
				Doc: "The offset account, as OffsetAccountType says; sent as the MultiTypeAccount's DisplayValue."},
			{Name: "TransDate", Type: ts, Date: true, Required: true, Doc: "Transaction date (a date)."},
			{Name: "Txt", Type: str, MaxLength: 60, Doc: "Transaction text."},
			{Name: "Voucher", Type: str, MaxLength: 20, Doc: "Voucher; AX numbers it from the journal name's series when unset."},
		},
		Wrappers: map[string]Wrapper{"LedgerDimension": {}, "OffsetLedgerDimension": {}},
	},
}

// Tables returns every table, by name. The map is new on every call; the
// tables are shared and must not be changed.
func Tables() map[string]*Table {
	out := make(map[string]*Table, len(tables))
	for i := range tables {
		out[tables[i].Name] = &tables[i]
	}
	return out
}

// Children returns the child tables of a root table, in definition order.
func Children(root string) []*Table {
	var out []*Table
	for i := range tables {
		if tables[i].Parent == root {
			out = append(out, &tables[i])
		}
	}
	return out
}
