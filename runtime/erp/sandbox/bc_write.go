package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	bcschema "github.com/flowhq/flow/stdlib/bc"
)

// bcNumbers are the number series that fill a document's number when the
// request leaves it out.
var bcNumbers = map[string]string{
	"customers":        "C",
	"salesOrders":      "S-ORD1",
	"salesInvoices":    "S-INV1",
	"salesCreditMemos": "S-CR1",
}

// bcLineNumbers are the child sets numbered 10000, 20000, ... within their
// parent when the request leaves the number out.
var bcLineNumbers = map[string]string{
	"journalLines":         "lineNumber",
	"customerPayments":     "lineNumber",
	"salesOrderLines":      "sequence",
	"salesInvoiceLines":    "sequence",
	"salesCreditMemoLines": "sequence",
}

// bcCustomerDocs are the sets whose records belong to a customer.
var bcCustomerDocs = map[string]bool{"salesOrders": true, "salesInvoices": true, "salesCreditMemos": true, "customerPayments": true}

// bcCreate answers POST of a collection.
func (s *Server) bcCreate(ctx context.Context, q querier, c call, sc bcScope) reply {
	e := sc.e
	rec, herr := bcDecode(e, c.body)
	if herr != nil {
		return herr.reply()
	}
	if sc.parentField != "" {
		if v, set := rec[sc.parentField]; set && !strings.EqualFold(fmt.Sprint(v), sc.parentID) {
			return bcError(http.StatusBadRequest, "BadRequest", "The %s in the request body does not match the URL.", sc.parentField).reply()
		}
		rec[sc.parentField] = sc.parentID
	}
	id, err := s.newGUID(ctx, q)
	if err != nil {
		return s.bcInternal(err)
	}
	rec["id"] = id
	if herr := s.bcComplete(ctx, q, e, rec, nil); herr != nil {
		return herr.reply()
	}
	data := e.encode(rec, false, nil)
	recid, err := insert(ctx, q, e.set, s.bc.companyID, canonical(id), data)
	if err != nil {
		return s.bcInternal(err)
	}
	return s.bcEntityReply(http.StatusCreated, sc, row{recid: recid, version: 1, data: data}, rec, nil)
}

// bcComplete fills what BC fills on a write (numbers, the customer's id
// and name, the journal's name, lastModifiedDateTime) and checks what BC
// checks (a customer exists, numbers and codes are unique, the parent
// exists). old is the stored record on an update, nil on a create.
func (s *Server) bcComplete(ctx context.Context, q querier, e *entity, rec, old record) *httpError {
	str := func(r record, f string) string { v, _ := r[f].(string); return v }
	if _, ok := e.obj.Field("lastModifiedDateTime"); ok {
		rec["lastModifiedDateTime"] = s.cfg.Now().UTC()
	}
	// A parent must exist; a child takes its journal's name.
	if p, ok := bcschema.Parents[e.set]; ok && old == nil {
		pid := str(rec, p.Field)
		if pid == "" {
			return bcError(http.StatusBadRequest, "Application_DialogException", "A %s must be provided.", p.Field)
		}
		_, parent, found, err := s.bcGet(ctx, q, s.ents[p.Set], pid)
		if err != nil {
			return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.")
		}
		if !found {
			return bcError(http.StatusBadRequest, "Internal_RecordNotFound", "The %s does not exist. Identification fields and values: Id='{%s}'", s.ents[p.Set].typ, strings.ToUpper(pid))
		}
		if _, ok := e.obj.Field("journalDisplayName"); ok {
			rec["journalDisplayName"] = parent["code"]
		}
		if lf, numbered := bcLineNumbers[e.set]; numbered {
			n, _ := rec[lf].(int64)
			last, taken, err := lineNumbers(ctx, q, e.set, s.bc.companyID, p.Field, pid, lf, n)
			if err != nil {
				return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.")
			}
			if taken {
				return bcError(http.StatusBadRequest, "Internal_EntityWithSameKeyExists", "The %s already exists. Identification fields and values: Id='{%s}',%s='%d'", e.typ, strings.ToUpper(pid), lf, n)
			}
			if n == 0 {
				rec[lf] = last + 10000
			}
		}
	}
	// A customer's document names an existing customer.
	if bcCustomerDocs[e.set] && (old == nil || rec["customerNumber"] != nil || rec["customerId"] != nil) {
		num, cid := str(rec, "customerNumber"), str(rec, "customerId")
		if num == "" && cid == "" && e.set != "customerPayments" {
			return bcError(http.StatusBadRequest, "Application_DialogException", "A customerNumber or a customerID must be provided.")
		}
		if num != "" || cid != "" {
			by, val := "number", num
			if num == "" {
				by, val = "id", cid
			}
			_, custs, err := s.bcRowsWhere(ctx, q, s.ents["customers"], by, val, func(r record) bool {
				return (num == "" || strings.EqualFold(str(r, "number"), num)) && (cid == "" || strings.EqualFold(str(r, "id"), cid))
			})
			if err != nil {
				return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.")
			}
			if len(custs) == 0 {
				return bcError(http.StatusBadRequest, "Internal_RecordNotFound", "The Customer does not exist. Identification fields and values: No.='%s'", num)
			}
			rec["customerNumber"], rec["customerId"] = custs[0]["number"], custs[0]["id"]
			if _, ok := e.obj.Field("customerName"); ok {
				rec["customerName"] = custs[0]["displayName"]
			}
		}
	}
	if _, ok := e.obj.Field("status"); ok && old == nil && rec["status"] == nil {
		rec["status"] = "Draft"
	}
	if e.set == "journals" && old == nil {
		rec["templateDisplayName"] = "GENERAL"
	}
	// Numbers and codes: filled from a series, unique in the company.
	field := bcschema.Identities[e.set]
	if field == "" {
		return nil
	}
	v := str(rec, field)
	if v == "" && old == nil {
		prefix, series := bcNumbers[e.set]
		if !series {
			return bcError(http.StatusBadRequest, "Application_FieldValidationException", "%s must have a value in %s: %s=. It cannot be zero or empty.", field, e.typ, field)
		}
		n, err := nextNumber(ctx, q, "bc."+e.set)
		if err != nil {
			return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.")
		}
		rec[field] = fmt.Sprintf("%s%05d", prefix, 10000+n)
		return nil
	}
	if v == "" {
		return nil
	}
	_, dups, err := s.bcRowsWhere(ctx, q, e, field, v, func(r record) bool {
		return strings.EqualFold(str(r, field), v) && (old == nil || str(r, "id") != str(old, "id"))
	})
	if err != nil {
		return bcError(http.StatusInternalServerError, "Internal_ServerError", "An unexpected error occurred on the server.")
	}
	if len(dups) > 0 {
		return bcError(http.StatusBadRequest, "Internal_EntityWithSameKeyExists", "The %s already exists. Identification fields and values: %s='%s'", e.typ, field, v)
	}
	return nil
}

// bcUpdate answers PATCH of an entity: If-Match must name the current
// version (or be "*").
func (s *Server) bcUpdate(ctx context.Context, q querier, c call, sc bcScope, r row, old record) reply {
	if herr := bcIfMatch(c, r); herr != nil {
		return herr.reply()
	}
	patch, herr := bcDecode(sc.e, c.body)
	if herr != nil {
		return herr.reply()
	}
	if sc.parentField != "" {
		if v, set := patch[sc.parentField]; set && !strings.EqualFold(fmt.Sprint(v), sc.parentID) {
			return bcError(http.StatusBadRequest, "BadRequest", "The %s cannot be changed.", sc.parentField).reply()
		}
	}
	merged := make(record, len(old)+len(patch))
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range patch {
		merged[k] = v
	}
	check := merged
	if patch["customerNumber"] == nil && patch["customerId"] == nil {
		check = patch // the customer stays
	}
	if herr := s.bcComplete(ctx, q, sc.e, check, old); herr != nil {
		return herr.reply()
	}
	for k, v := range check {
		merged[k] = v
	}
	data := sc.e.encode(merged, false, nil)
	if err := update(ctx, q, r.recid, data); err != nil {
		return s.bcInternal(err)
	}
	r.version++
	r.data = data
	return s.bcEntityReply(http.StatusOK, sc, r, merged, nil)
}

// bcAction answers POST <set>({id})/Microsoft.NAV.<action>.
func (s *Server) bcAction(ctx context.Context, q querier, e *entity, id, action string) reply {
	r, rec, found, err := s.bcGet(ctx, q, e, id)
	if err != nil {
		return s.bcInternal(err)
	}
	if !found {
		return bcNotFound(e, id)
	}
	switch {
	case e.set == "journals" && action == "post":
		return s.bcPostJournal(ctx, q, rec)
	case (e.set == "salesInvoices" || e.set == "salesCreditMemos") && action == "post":
		rec["status"] = "Open"
		rec["lastModifiedDateTime"] = s.cfg.Now().UTC()
		if err := update(ctx, q, r.recid, e.encode(rec, false, nil)); err != nil {
			return s.bcInternal(err)
		}
		return reply{status: http.StatusNoContent}
	}
	return bcError(http.StatusBadRequest, "BadRequest_MethodNotImplemented", "Entity does not support the bound action '%s' in the sandbox.", action).reply()
}

// bcPostJournal posts a journal's lines to generalLedgerEntries, all or
// none, and deletes them, as Microsoft.NAV.post does: every line needs an
// account, a document number and a posting date, and each document must
// balance.
func (s *Server) bcPostJournal(ctx context.Context, q querier, journal record) reply {
	lines := s.ents["journalLines"]
	jid, _ := journal["id"].(string)
	code, _ := journal["code"].(string)
	rows, recs, err := s.bcRowsWhere(ctx, q, lines, "journalId", jid, func(r record) bool { v, _ := r["journalId"].(string); return strings.EqualFold(v, jid) })
	if err != nil {
		return s.bcInternal(err)
	}
	if len(recs) == 0 {
		return bcError(http.StatusBadRequest, "Application_DialogException", "There is nothing to post.").reply()
	}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, _ := recs[order[a]]["lineNumber"].(int64)
		y, _ := recs[order[b]]["lineNumber"].(int64)
		return x < y
	})
	byDoc := map[string]decimal.Decimal{}
	var docs []string
	for _, i := range order {
		l := recs[i]
		n, _ := l["lineNumber"].(int64)
		where := fmt.Sprintf("Gen. Journal Line: Journal Template Name=GENERAL, Journal Batch Name=%s, Line No.=%d", code, n)
		for _, f := range []string{"accountNumber", "documentNumber"} {
			if v, _ := l[f].(string); v == "" {
				return bcError(http.StatusBadRequest, "Application_FieldValidationException", "%s must have a value in %s. It cannot be zero or empty.", f, where).reply()
			}
		}
		if _, ok := l["postingDate"]; !ok {
			return bcError(http.StatusBadRequest, "Application_FieldValidationException", "postingDate must have a value in %s. It cannot be zero or empty.", where).reply()
		}
		if t, _ := l["accountType"].(string); t != "" && t != "G/L Account" {
			return bcError(http.StatusBadRequest, "Application_DialogException", "The sandbox posts G/L Account lines only; %s is %q.", where, t).reply()
		}
		doc, _ := l["documentNumber"].(string)
		amt, _ := l["amount"].(decimal.Decimal)
		if _, seen := byDoc[doc]; !seen {
			docs = append(docs, doc)
		}
		byDoc[doc] = byDoc[doc].Add(amt)
	}
	for _, d := range docs {
		if !byDoc[d].IsZero() {
			return bcError(http.StatusBadRequest, "Application_DialogException", "Document No. %s is out of balance by %s. Please check that Posting Date, Document Type, Document No. and Amount are correct for each line.", d, byDoc[d].StringFixed(2)).reply()
		}
	}
	gle := s.ents["generalLedgerEntries"]
	for _, i := range order {
		l := recs[i]
		id, err := s.newGUID(ctx, q)
		if err != nil {
			return s.bcInternal(err)
		}
		n, err := nextNumber(ctx, q, "bc.glEntry")
		if err != nil {
			return s.bcInternal(err)
		}
		amt, _ := l["amount"].(decimal.Decimal)
		entry := record{"id": id, "entryNumber": n, "postingDate": l["postingDate"], "documentNumber": l["documentNumber"],
			"documentType": "", "accountNumber": l["accountNumber"], "description": l["description"],
			"debitAmount": decimal.Max(amt, decimal.Zero), "creditAmount": decimal.Max(amt.Neg(), decimal.Zero),
			"lastModifiedDateTime": s.cfg.Now().UTC()}
		if v, ok := l["accountId"]; ok {
			entry["accountId"] = v
		}
		for k, v := range entry {
			if v == nil {
				delete(entry, k)
			}
		}
		if _, err := insert(ctx, q, gle.set, s.bc.companyID, canonical(id), gle.encode(entry, false, nil)); err != nil {
			return s.bcInternal(err)
		}
		if err := remove(ctx, q, rows[i].recid); err != nil {
			return s.bcInternal(err)
		}
	}
	return reply{status: http.StatusNoContent}
}

// bcBatchRequest is one operation of a JSON $batch.
type bcBatchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

type bcBatchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// bcMaxBatch is BC's limit of operations per $batch.
const bcMaxBatch = 100

// bcBatch answers POST /api/v2.0/$batch (JSON). With Isolation: snapshot
// the whole batch is one transaction: when an operation fails, nothing of
// the batch is applied, though each operation's answer is the one it got
// (as BC answers). Without it each operation stands alone.
func (s *Server) bcBatch(ctx context.Context, c call) reply {
	var in struct {
		Requests []bcBatchRequest `json:"requests"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil || in.Requests == nil {
		return bcError(http.StatusBadRequest, "BadRequest", "Invalid Request Body").reply()
	}
	if len(in.Requests) > bcMaxBatch {
		return bcError(http.StatusBadRequest, "BadRequest", "The batch request holds %d operations; at most %d are allowed.", len(in.Requests), bcMaxBatch).reply()
	}
	snapshot := strings.EqualFold(strings.TrimSpace(c.header.Get("Isolation")), "snapshot")
	out := make([]bcBatchResponse, len(in.Requests))
	run := func(op call) reply { return s.bcDo(ctx, op) }
	var tx interface {
		querier
		Commit() error
		Rollback() error
	}
	if snapshot {
		t, err := s.st.db.BeginTx(ctx, nil)
		if err != nil {
			return s.bcInternal(err)
		}
		tx = t
		run = func(op call) reply { return s.bcExec(ctx, t, op) }
	}
	failed := false
	for i, r := range in.Requests {
		rep := s.bcBatchOp(c, r, run)
		failed = failed || rep.status >= 400
		h := map[string]string{}
		for k, v := range rep.header {
			h[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		out[i] = bcBatchResponse{ID: r.ID, Status: rep.status, Headers: h}
		if len(bytes.TrimSpace(rep.body)) > 0 && json.Valid(rep.body) {
			out[i].Body = rep.body
		}
	}
	if tx != nil {
		if failed {
			_ = tx.Rollback()
		} else if err := tx.Commit(); err != nil {
			return s.bcInternal(err)
		}
	}
	body, err := json.Marshal(map[string]any{"responses": out})
	if err != nil {
		return s.bcInternal(err)
	}
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body}
}

// bcBatchOp turns an operation of a batch into a call and runs it.
func (s *Server) bcBatchOp(c call, r bcBatchRequest, run func(call) reply) reply {
	u, err := url.Parse(r.URL)
	if err != nil || r.Method == "" {
		return bcError(http.StatusBadRequest, "BadRequest", "The URL '%s' of operation %s is not valid.", r.URL, r.ID).reply()
	}
	path := u.Path
	if i := strings.Index(path, bcAPI); i >= 0 {
		path = path[i+len(bcAPI):]
	}
	path = strings.TrimPrefix(path, "/")
	if path == "" || strings.HasPrefix(path, "$") {
		return bcError(http.StatusBadRequest, "BadRequest", "The URL '%s' of operation %s cannot be used inside a batch.", r.URL, r.ID).reply()
	}
	method := strings.ToUpper(r.Method)
	s.count("batch " + method + " " + bcKind(path))
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	body := []byte(r.Body)
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		body = nil
	}
	return run(call{method: method, path: path, query: u.Query(), header: h, body: body, root: c.root})
}

// serveTokenV2 is Microsoft Entra's v2.0 token endpoint for the
// client-credentials grant: form fields grant_type, client_id,
// client_secret and scope (<resource>/.default); expires_in is a number.
func (s *Server) serveTokenV2(w http.ResponseWriter, r *http.Request, tenant string) {
	s.count("POST token")
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	scope := r.PostForm.Get("scope")
	switch {
	case s.cfg.Tenant != "" && tenant != s.cfg.Tenant:
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	case r.PostForm.Get("grant_type") != "client_credentials":
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case s.cfg.ClientID != "" && r.PostForm.Get("client_id") != s.cfg.ClientID:
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", r.PostForm.Get("client_id"), tenant))
	case s.cfg.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(s.cfg.ClientSecret)) != 1:
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", r.PostForm.Get("client_id")))
	case !strings.HasSuffix(scope, "/.default"):
		aadError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
	default:
		var b [32]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		tok := hex.EncodeToString(b[:])
		s.mu.Lock()
		s.tokens[tok] = s.cfg.Now().Add(s.cfg.TokenTTL)
		s.mu.Unlock()
		secs := int(s.cfg.TokenTTL.Seconds())
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store, no-cache")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%s,"ext_expires_in":%s,"access_token":%q}`, strconv.Itoa(secs), strconv.Itoa(secs), tok)
	}
}
