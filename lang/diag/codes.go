package diag

// Code identifies a kind of diagnostic. Codes are stable: once released a code
// keeps its meaning and is never reused. The groups: F00xx syntax, F01xx names,
// F02xx types, F03xx ERP fields, F04xx idempotency keys, F05xx ledgers, F06xx
// flow structure and hygiene.
type Code string

const (
	// SyntaxError: the parser met a token it did not expect.
	SyntaxError Code = "F0001"
	// InvalidToken: a character that cannot start any token.
	InvalidToken Code = "F0002"

	// UndefinedName: an identifier that names no let, param, table, variable or function.
	UndefinedName Code = "F0101"
	// DuplicateDecl: two declarations of the same name in one scope.
	DuplicateDecl Code = "F0102"
	// UnknownConnector: an import of a connector flow does not have.
	UnknownConnector Code = "F0103"
	// UnknownEvent: a trigger event type the gateway does not send.
	UnknownEvent Code = "F0104"
	// UnknownEntity: an ERP entity set the connector's schema does not have.
	UnknownEntity Code = "F0105"
	// UnknownField: a field path that does not exist on a gateway object or ERP entity.
	UnknownField Code = "F0106"
	// UnknownList: a list source (for ... in) or one of its arguments that does not exist.
	UnknownList Code = "F0107"
	// UnknownConfig: an import configuration key the connector does not take.
	UnknownConfig Code = "F0108"
	// Misplaced: a statement where it cannot be (journal outside a ledger, two triggers, ...).
	Misplaced Code = "F0109"
	// UnknownType: a type name in a param or table declaration that does not exist.
	UnknownType Code = "F0110"

	// TypeMismatch: a value of one type where another is required.
	TypeMismatch Code = "F0201"
	// MinorUnitsAsDecimal: integer minor units (Stripe's amount) where a decimal amount is required.
	MinorUnitsAsDecimal Code = "F0202"
	// FloatMoney: a floating-point number mixed with money.
	FloatMoney Code = "F0203"
	// StringAsDate: a string where a date or timestamp is required.
	StringAsDate Code = "F0204"
	// InvalidEnumValue: a literal that is not a member of the field's enumeration.
	InvalidEnumValue Code = "F0205"
	// InvalidExpression: an expression that is not valid CEL.
	InvalidExpression Code = "F0206"
	// NotConstant: a table or param value that is not a constant.
	NotConstant Code = "F0207"

	// MissingRequiredField: an ERP write that does not set a required field.
	MissingRequiredField Code = "F0301"
	// FieldSetTwice: one field assigned twice in a block.
	FieldSetTwice Code = "F0302"
	// ValueTooLong: a literal longer than the field's maximum length.
	ValueTooLong Code = "F0303"
	// AnchorFieldSet: a write sets the field where the runtime keeps its
	// idempotency key.
	AnchorFieldSet Code = "F0304"

	// MissingKey: an ERP write without an idempotency key.
	MissingKey Code = "F0401"
	// NondeterministicKey: a key that uses the current time or randomness.
	NondeterministicKey Code = "F0402"
	// KeyWithoutEvent: a key built from nothing in the event, so every event gets the same key.
	KeyWithoutEvent Code = "F0403"

	// OneSidedPosting: a ledger journal that has only debits or only credits.
	OneSidedPosting Code = "F0501"
	// UnmappedCategory: source categories that no posting rule maps.
	UnmappedCategory Code = "F0502"
	// AmbiguousBalance: more than one posting without an amount to take the balance.
	AmbiguousBalance Code = "F0503"
	// UngroupedReference: a per-item value in a posting that is neither grouped nor aggregated.
	UngroupedReference Code = "F0504"

	// Unused: a param, secret, table or let that nothing reads (warning).
	Unused Code = "F0601"
	// UnhandledReverse: a flow handles an event but no flow handles its reversal (warning).
	UnhandledReverse Code = "F0602"
	// MissingTrigger: a flow without an "on" trigger.
	MissingTrigger Code = "F0603"
	// MissingMissPolicy: a lookup that does not say what to do when nothing is found.
	MissingMissPolicy Code = "F0604"
	// TooManyErrors: the checker stopped early (information).
	TooManyErrors Code = "F0699"
)

const (
	// UnknownEnv: `--env NAME` names no env block of the package.
	UnknownEnv Code = "F0111"
	// MissingParamValue: a param without a default and no value for the selected env.
	MissingParamValue Code = "F0112"
	// ConnectorError: a connector's schema could not be loaded (a missing or broken metadata file).
	ConnectorError Code = "F0113"
	// PackageMismatch: files of one directory declare different packages.
	PackageMismatch Code = "F0114"
)
