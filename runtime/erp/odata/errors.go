package odata

import (
	"encoding/json"
	"strings"
)

// ErrorBody is F&O's error answer:
//
//	{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type ...","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":""}}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" member of an ErrorBody.
type ErrorDetail struct {
	Code       string      `json:"code"`
	Message    string      `json:"message"`
	InnerError *InnerError `json:"innererror,omitempty"`
}

// InnerError is F&O's innererror: the X++ exception behind the answer.
type InnerError struct {
	Message    string `json:"message"`
	Type       string `json:"type"`
	StackTrace string `json:"stacktrace"`
}

// Exception types F&O names in innererror.type.
const (
	// WriteException is what validateWrite and insert failures raise.
	WriteException = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
	// ODataException is what the OData layer raises for malformed requests.
	ODataException = "Microsoft.OData.ODataException"
)

// NewError builds an error body; inner may be empty.
func NewError(message, innerType, inner string) ErrorBody {
	b := ErrorBody{Error: ErrorDetail{Message: message}}
	if inner != "" || innerType != "" {
		b.Error.InnerError = &InnerError{Message: inner, Type: innerType}
	}
	return b
}

// ParseError decodes an F&O error body. ok is false when body is not one.
func ParseError(body []byte) (detail ErrorDetail, ok bool) {
	var b struct {
		Error *ErrorDetail `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error == nil {
		return ErrorDetail{}, false
	}
	return *b.Error, true
}

// Text is the most specific message of d: the inner message when there is
// one (F&O's outer message is often just "An error has occurred.").
func (d ErrorDetail) Text() string {
	outer := strings.TrimSpace(d.Message)
	if d.InnerError == nil || strings.TrimSpace(d.InnerError.Message) == "" {
		return outer
	}
	inner := strings.TrimSpace(d.InnerError.Message)
	if outer == "" || outer == "An error has occurred." || strings.Contains(inner, outer) {
		return inner
	}
	return outer + ": " + inner
}

// Quote returns s as an OData string literal: single quotes around it, a
// quote inside doubled (O'Brien -> 'O”Brien').
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
