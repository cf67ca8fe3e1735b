// Package aif reads and writes the SOAP messages of Dynamics AX 2012's AIF
// document services, for the driver (runtime/erp/ax2012) and its sandbox.
//
// It takes and gives bytes and small values: an envelope with its
// CallContext header (SOAP 1.1 as the HTTP adapter's basicHttpBinding
// speaks it, or SOAP 1.2 with WS-Addressing), EntityKeyLists,
// QueryCriteria, AIF documents (a document element holding table entities,
// with nested child entities) whose field values stay strings, and SOAP
// faults carrying an AifFault (InfologMessageList, FaultMessageListArray,
// XppExceptionType).
//
// Everything is written with encoding/xml's token encoder, which escapes
// text and attributes; nothing is built from strings. Answers are parsed
// into a small element tree by encoding/xml's decoder with limits on size
// and depth, so that malformed or hostile XML is an error, never a panic.
package aif
