package diag

// CodeInfo documents a code for tools (SARIF rules, --help, the editor).
type CodeInfo struct {
	Code Code
	Name string
	Help string
}

// Codes returns every code with its documentation, in code order.
func Codes() []CodeInfo {
	return []CodeInfo{
		{SyntaxError, "SyntaxError", "the parser met a token it did not expect."},
		{InvalidToken, "InvalidToken", "a character that cannot start any token."},
		{UndefinedName, "UndefinedName", "an identifier that names no let, param, table, variable or function."},
		{DuplicateDecl, "DuplicateDecl", "two declarations of the same name in one scope."},
		{UnknownConnector, "UnknownConnector", "an import of a connector flow does not have."},
		{UnknownEvent, "UnknownEvent", "a trigger event type the gateway does not send."},
		{UnknownEntity, "UnknownEntity", "an ERP entity set the connector's schema does not have."},
		{UnknownField, "UnknownField", "a field path that does not exist on a gateway object or ERP entity."},
		{UnknownList, "UnknownList", "a list source (for ... in) or one of its arguments that does not exist."},
		{UnknownConfig, "UnknownConfig", "an import configuration key the connector does not take."},
		{Misplaced, "Misplaced", "a statement where it cannot be (journal outside a ledger, two triggers, ...)."},
		{UnknownType, "UnknownType", "a type name in a param or table declaration that does not exist."},
		{UnknownEnv, "UnknownEnv", "`--env NAME` names no env block of the package."},
		{MissingParamValue, "MissingParamValue", "a param without a default and no value for the selected env."},
		{ConnectorError, "ConnectorError", "a connector's schema could not be loaded (a missing or broken metadata file)."},
		{PackageMismatch, "PackageMismatch", "files of one directory declare different packages."},
		{TypeMismatch, "TypeMismatch", "a value of one type where another is required."},
		{MinorUnitsAsDecimal, "MinorUnitsAsDecimal", "integer minor units (Stripe's amount) where a decimal amount is required."},
		{FloatMoney, "FloatMoney", "a floating-point number mixed with money."},
		{StringAsDate, "StringAsDate", "a string where a date or timestamp is required."},
		{InvalidEnumValue, "InvalidEnumValue", "a literal that is not a member of the field's enumeration."},
		{InvalidExpression, "InvalidExpression", "an expression that is not valid CEL."},
		{NotConstant, "NotConstant", "a table or param value that is not a constant."},
		{MissingRequiredField, "MissingRequiredField", "an ERP write that does not set a required field."},
		{FieldSetTwice, "FieldSetTwice", "one field assigned twice in a block."},
		{ValueTooLong, "ValueTooLong", "a literal longer than the field's maximum length."},
		{AnchorFieldSet, "AnchorFieldSet", "a write sets the field where the runtime keeps its idempotency key."},
		{MissingKey, "MissingKey", "an ERP write without an idempotency key."},
		{NondeterministicKey, "NondeterministicKey", "a key that uses the current time or randomness."},
		{KeyWithoutEvent, "KeyWithoutEvent", "a key built from nothing in the event, so every event gets the same key."},
		{OneSidedPosting, "OneSidedPosting", "a ledger journal that has only debits or only credits."},
		{UnmappedCategory, "UnmappedCategory", "source categories that no posting rule maps."},
		{AmbiguousBalance, "AmbiguousBalance", "more than one posting without an amount to take the balance."},
		{UngroupedReference, "UngroupedReference", "a per-item value in a posting that is neither grouped nor aggregated."},
		{Unused, "Unused", "a param, secret, table or let that nothing reads (warning)."},
		{UnhandledReverse, "UnhandledReverse", "a flow handles an event but no flow handles its reversal (warning)."},
		{MissingTrigger, "MissingTrigger", "a flow without an \"on\" trigger."},
		{MissingMissPolicy, "MissingMissPolicy", "a lookup that does not say what to do when nothing is found."},
		{TooManyErrors, "TooManyErrors", "the checker stopped early (information)."},
	}
}
