package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/flowhq/flow/runtime/erp/odata"
)

// httpError is an answer in F&O's error shape.
type httpError struct {
	status int
	body   odata.ErrorBody
	header http.Header
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body.Error.Text())
}

// reply renders the error as an HTTP answer.
func (e *httpError) reply() reply {
	data, _ := json.Marshal(e.body) // strings only
	h := http.Header{"Content-Type": {jsonContentType}}
	for k, v := range e.header {
		h[k] = v
	}
	return reply{status: e.status, header: h, body: data}
}

// badRequest is the OData layer rejecting a request it cannot read (unknown
// property, wrong literal, malformed query): 400.
func badRequest(format string, args ...any) *httpError {
	msg := fmt.Sprintf(format, args...)
	return &httpError{status: http.StatusBadRequest, body: odata.NewError(msg, odata.ODataException, msg)}
}

// writeFailed is validateWrite or the insert failing: F&O answers 500 with
// an AxODataWriteException whose message carries the Infolog.
func writeFailed(e *entity, format string, args ...any) *httpError {
	inner := fmt.Sprintf("Write failed for table row of type '%s'. Infolog: Error: %s", e.tableName(), fmt.Sprintf(format, args...))
	return &httpError{status: http.StatusInternalServerError, body: odata.NewError("An error has occurred.", odata.WriteException, inner)}
}

// notFound answers a path that names no entity set or no record.
func notFound(segment string) *httpError {
	msg := fmt.Sprintf("Resource not found for the segment '%s'.", segment)
	return &httpError{status: http.StatusNotFound, body: odata.NewError(msg, "", "")}
}

// statusError is any other status with a plain message.
func statusError(status int, format string, args ...any) *httpError {
	return &httpError{status: status, body: odata.NewError(fmt.Sprintf(format, args...), "", "")}
}
