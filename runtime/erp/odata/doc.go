// Package odata holds the OData v4 wire pieces that the F&O driver
// (runtime/erp/d365fo) and the F&O stand-in (runtime/erp/sandbox) share: the
// multipart/mixed $batch format and F&O's error body.
//
// A $batch body is a list of Parts; a Part is either one independent request
// or a changeset whose requests the service applies atomically. The answer
// mirrors it: one ResponsePart per Part, one Response per Request, matched by
// Content-ID. WriteRequest/ReadRequest are the client's and server's view of
// the request body, WriteResponse/ReadResponse of the answer. The readers
// are strict: anything that is not a well-formed batch is an error, never a
// panic, and never a partial result.
package odata
