// Package paytracetest is a loopback PayTrace double for tests: it issues
// OAuth tokens (password grant), exports the transactions a test gives it
// by date range, refunds, and charges customer profiles (sale by
// customer), answering in the shapes PayTrace's help pages and recorded
// answers show (runtime/gateway/paytrace/testdata).
package paytracetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a running double. Its fields may be changed between
// requests through its methods; it is safe for concurrent use.
type Server struct {
	*httptest.Server
	Username, Password string

	mu        sync.Mutex
	txs       []map[string]any
	tokens    map[string]bool
	n         int
	expiresIn any                                    // what /oauth/token says; 7200 by default
	override  map[string]func(w http.ResponseWriter) // path -> canned answer
	counts    map[string]int
	exports   [][2]string                 // start and end dates asked for
	requests  map[string][]map[string]any // path -> bodies received
	profiles  map[string]*profile         // customer profiles, by customer_id
	sales     []map[string]any            // sales made by customer, export-shaped
	lose      int                         // the next sales whose answers are lost
	now       func() time.Time            // when sales are made
	txn       int64                       // the last transaction id given
}

// profile is a customer profile PayTrace keeps.
type profile struct {
	declines int // the next charges declined
}

// New starts a double that accepts username/password.
func New(username, password string) *Server {
	s := &Server{Username: username, Password: password, tokens: map[string]bool{}, expiresIn: 7200,
		override: map[string]func(http.ResponseWriter){}, counts: map[string]int{},
		requests: map[string][]map[string]any{}, profiles: map[string]*profile{}, now: time.Now, txn: 392483065}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /v1/transactions/export/by_date_range", s.authed(s.export))
	mux.HandleFunc("POST /v1/transactions/refund/for_transaction", s.authed(s.refund))
	mux.HandleFunc("POST "+SalePath, s.authed(s.sale))
	s.Server = httptest.NewServer(mux)
	return s
}

// Add makes transactions exportable (raw PayTrace shapes, see Sale).
func (s *Server) Add(txs ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txs = append(s.txs, txs...)
}

// Override answers every later request to path with answer (nil: back to
// normal).
func (s *Server) Override(path string, answer func(w http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if answer == nil {
		delete(s.override, path)
	} else {
		s.override[path] = answer
	}
}

// Count returns how many requests path received.
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// Exports returns the date ranges exported, in order.
func (s *Server) Exports() [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]string(nil), s.exports...)
}

// Requests returns the bodies path received and decoded, in order.
func (s *Server) Requests(path string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.requests[path]...)
}

// SalePath charges a customer profile.
const SalePath = "/v1/transactions/sale/by_customer"

// AddProfile stores customer profiles (their ids, as /v1/customer/create
// would) that sales may charge; their charges are approved unless Decline
// says otherwise.
func (s *Server) AddProfile(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.profiles[id] == nil {
			s.profiles[id] = &profile{}
		}
	}
}

// Decline makes the next n charges of a profile declined (response_code
// 102, "DECLINE - Do not honor", as PayTrace's recorded answer).
func (s *Server) Decline(profileID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.profiles[profileID]; p != nil {
		p.declines = n
	}
}

// LoseAnswers makes the next n sales happen with their answers lost: the
// double charges the profile, then closes the connection without a word.
func (s *Server) LoseAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// SetNow sets the clock sales are made (and exported) by.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Sales returns the sales made by customer, approved or declined, in
// order, as the export shows a transaction. Approved ones are exported.
func (s *Server) Sales() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.sales...)
}

// RevokeTokens makes every issued token invalid (PayTrace answers 401).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// Sale returns a SALE as the export shows one (the help page's example):
// amount as a number, tax_amount as a string, created.at without a zone.
func Sale(id int64, invoice string, amount json.Number, tax, at string) map[string]any {
	return map[string]any{
		"transaction_id":     id,
		"credit_card":        map[string]any{"masked_number": "************5454", "expiration_month": 12, "expiration_year": 20},
		"transaction_type":   "SALE",
		"description":        "",
		"amount":             amount,
		"invoice_id":         invoice,
		"shipping_address":   map[string]any{"name": "", "street_address": "", "street_address2": "", "city": "", "county": "", "state": "", "zip": "85284", "country": "US"},
		"billing_address":    map[string]any{"name": "Kevin", "street_address": "8320 E. West St.", "street_address2": "", "city": "Spokane", "state": "WA", "zip": "85284", "country": "US"},
		"receipt_emailed_to": "", "tax_amount": tax, "customer_reference_id": "PO123456",
		"approval_code": "VTLMC1", "approval_message": "EXACT MATCH - Approved and completed", "avs_response": "Full Exact Match", "csc_response": "Match",
		"status_code": "GB571", "status_message": "GB571",
		"created":     map[string]any{"through": "API", "at": at, "by": "sandbox123", "from_ip": "64.106.246.164"},
		"settled":     "",
		"customer_id": "",
	}
}

// Refund returns a REFUND of an earlier sale, as the export would show it
// (a string amount).
func Refund(id int64, invoice, amount, at string) map[string]any {
	m := Sale(id, invoice, "0", "0.00", at)
	m["transaction_type"], m["amount"] = "REFUND", amount
	m["approval_code"], m["approval_message"] = "", ""
	return m
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts["/oauth/token"]++
	if a := s.override["/oauth/token"]; a != nil {
		a(w)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "password" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."})
		return
	}
	if r.PostForm.Get("username") != s.Username || r.PostForm.Get("password") != s.Password {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."})
		return
	}
	s.n++
	tok := fmt.Sprintf("4656d6f6132333:4656d6f6132333:%064x", s.n)
	s.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": s.expiresIn})
}

// SetExpiresIn changes what later tokens say of their life.
func (s *Server) SetExpiresIn(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiresIn = v
}

func (s *Server) authed(h func(w http.ResponseWriter, body map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.counts[r.URL.Path]++
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var seen map[string]any
		if json.Unmarshal(raw, &seen) == nil {
			s.requests[r.URL.Path] = append(s.requests[r.URL.Path], seen)
		}
		if a := s.override[r.URL.Path]; a != nil {
			a(w)
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.tokens[tok] {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token", "error_description": "The access token provided has expired"})
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "response_code": 1, "status_message": "One or more errors has occurred.", "errors": map[string][]string{"1": {"The request body is not JSON."}}})
			return
		}
		h(w, body)
	}
}

func (s *Server) export(w http.ResponseWriter, body map[string]any) {
	start, _ := body["start_date"].(string)
	end, _ := body["end_date"].(string)
	first, err1 := time.Parse("01/02/2006", start)
	last, err2 := time.Parse("01/02/2006", end)
	if err1 != nil || err2 != nil {
		writeJSON(w, http.StatusOK, map[string]any{"success": false, "response_code": 1, "status_message": "One or more errors has occurred.",
			"errors": map[string][]string{"816": {"Please provide a valid Start Date and End Date."}}})
		return
	}
	s.exports = append(s.exports, [2]string{start, end})
	out := []map[string]any{}
	for _, tx := range s.txs {
		at, _ := tx["created"].(map[string]any)["at"].(string)
		d, _, _ := strings.Cut(at, " ")
		t, err := time.Parse("1/2/2006", d)
		if err != nil || t.Before(first) || t.After(last) {
			continue
		}
		out = append(out, tx)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "response_code": 1, "status_message": "Your request has been successfully completed.",
		"transactions": out, "external_transaction_id": ""})
}

func (s *Server) refund(w http.ResponseWriter, body map[string]any) {
	id := fmt.Sprint(body["transaction_id"])
	for _, tx := range s.txs {
		if fmt.Sprint(tx["transaction_id"]) == id {
			s.n++
			writeJSON(w, http.StatusOK, map[string]any{"success": true, "response_code": 106, "status_message": "Your transaction successfully refunded.",
				"transaction_id": 105968559 + s.n, "external_transaction_id": ""})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": false, "response_code": 1, "status_message": "One or more errors has occurred.",
		"errors": map[string][]string{"58": {"Please provide a valid Transaction ID."}}, "external_transaction_id": ""})
}

// requestError is PayTrace's answer to a request it refuses: response_code
// 1 and an errors map (the recorded failed_customer_creation_response
// shape).
func requestError(w http.ResponseWriter, code, message string) {
	writeJSON(w, http.StatusOK, map[string]any{"success": false, "response_code": 1, "status_message": "One or more errors has occurred.",
		"errors": map[string][]string{code: {message}}, "external_transaction_id": ""})
}

// sale charges a profile. The answers are PayTrace's recorded ones
// (testdata/successful_purchase_response.json and
// failed_purchase_response.json) with a new transaction id each.
func (s *Server) sale(w http.ResponseWriter, body map[string]any) {
	id, _ := body["customer_id"].(string)
	p := s.profiles[id]
	if p == nil {
		// PayTrace's code for an unknown profile is not in the recorded
		// answers: this one is the double's.
		requestError(w, "1001", "Please provide a valid Customer ID.")
		return
	}
	amount, _ := body["amount"].(string)
	if whole, cents, ok := strings.Cut(amount, "."); !ok || len(cents) != 2 || whole == "" || strings.Trim(whole+cents, "0123456789") != "" {
		// Also the double's: the writer sends dollars and cents as a string.
		requestError(w, "1002", "Please provide a valid Transaction Amount.")
		return
	}
	s.txn++
	answer := map[string]any{"success": true, "response_code": 101, "status_message": "Your transaction was successfully approved.",
		"transaction_id": s.txn, "approval_code": "TAS610", "approval_message": "  NO  MATCH - Approved and completed",
		"avs_response": "No Match", "csc_response": "", "external_transaction_id": "", "masked_card_number": "xxxxxxxxxxxx5439"}
	if p.declines > 0 {
		p.declines--
		answer["success"], answer["response_code"], answer["status_message"] = false, 102, "Your transaction was not approved."
		answer["approval_code"], answer["approval_message"] = "", "    DECLINE - Do not honor"
	}
	invoice, _ := body["invoice_id"].(string)
	tx := Sale(s.txn, invoice, json.Number(amount), "", s.now().Format("1/2/2006 3:04:05 PM"))
	tx["customer_id"] = id
	for _, k := range []string{"description", "customer_reference_id"} {
		v, _ := body[k].(string)
		tx[k] = v
	}
	tx["receipt_emailed_to"], _ = body["email"].(string)
	tx["credit_card"] = map[string]any{"masked_number": "************5439", "expiration_month": 12, "expiration_year": 30}
	for _, k := range []string{"approval_code", "approval_message", "avs_response", "csc_response"} {
		tx[k] = answer[k]
	}
	s.sales = append(s.sales, tx)
	if answer["success"] == true {
		s.txs = append(s.txs, tx)
	}
	if s.lose > 0 {
		s.lose--
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close() // charged, but nobody hears of it
			return
		}
	}
	writeJSON(w, http.StatusOK, answer)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
