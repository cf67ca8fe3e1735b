package paytrace

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrUnavailable is wrapped by the errors worth retrying later: PayTrace
// could not be reached, timed out, answered 429 or 5xx, or answered with
// something that is not its JSON.
var ErrUnavailable = errors.New("paytrace: unavailable")

// unavailable wraps ErrUnavailable with what happened.
type unavailable struct {
	msg string
	// status is the HTTP status of the answer (429, 5xx, or one that is
	// not PayTrace's JSON); 0 when there was none.
	status     int
	retryAfter time.Duration // a 429's or 503's Retry-After
}

func (e *unavailable) Error() string { return "paytrace: " + e.msg }
func (e *unavailable) Unwrap() error { return ErrUnavailable }

func unavailablef(format string, args ...any) error {
	return &unavailable{msg: fmt.Sprintf(format, args...)}
}

// lostAnswer is a request that was sent (written in full) whose answer
// never arrived or could not be read to its end: PayTrace may have carried
// it out.
type lostAnswer struct{ err error }

func (e *lostAnswer) Error() string { return e.err.Error() }
func (e *lostAnswer) Unwrap() error { return e.err }

// notSent is a failure before the request was sent: getting a token.
type notSent struct{ err error }

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }

// Decline is a transaction PayTrace processed and did not approve: a
// declined sale (102), an approval voided for a CSC mismatch (103), a
// refund, void or capture that was not made (107, 110, 113), a check not
// processed (125). Retrying the same request does not help.
type Decline struct {
	Code          int    // PayTrace's response_code
	Status        string // status_message
	Approval      string // approval_message, e.g. "DECLINE - Do not honor"
	TransactionID string // the declined transaction, when PayTrace made one
}

func (e *Decline) Error() string {
	msg := fmt.Sprintf("paytrace: declined (response_code %d): %s", e.Code, e.Status)
	if e.Approval != "" {
		msg += ": " + e.Approval
	}
	if e.TransactionID != "" {
		msg += " (transaction " + e.TransactionID + ")"
	}
	return msg
}

// APIError is a request PayTrace refused: response_code 1 with success
// false and an errors map (code -> messages), such as 58 "Please provide a
// valid Transaction ID.", or an OAuth error (invalid_grant). Fix the
// request or the credentials; retrying it unchanged does not help.
type APIError struct {
	Code   int                 // response_code (1), or the HTTP status of an OAuth error
	Status string              // status_message, or the OAuth error ("invalid_grant")
	Errors map[string][]string // PayTrace's error code -> messages
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "paytrace: request refused (response_code %d): %s", e.Code, e.Status)
	codes := make([]string, 0, len(e.Errors))
	for c := range e.Errors {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "; error %s: %s", c, strings.Join(e.Errors[c], " "))
	}
	return b.String()
}

// Has reports whether PayTrace gave the error code ("58").
func (e *APIError) Has(code string) bool {
	_, ok := e.Errors[code]
	return ok
}

// declineCodes are the response codes of a processed request that did
// not go through.
var declineCodes = map[int]bool{102: true, 103: true, 107: true, 110: true, 113: true, 125: true}

// successCodes are the response codes of a request that did what it asked.
var successCodes = map[int]bool{1: true, 101: true, 106: true, 108: true, 109: true, 112: true, 120: true, 122: true, 124: true, 160: true, 170: true}
