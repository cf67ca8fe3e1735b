package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// serveToken is Azure AD's v1 token endpoint for the client-credentials
// grant: form fields grant_type, client_id, client_secret and resource (the
// environment URL); the answer carries expires_in and expires_on as strings,
// as v1 sends them.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	s.count("POST token")
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	resource := strings.TrimSuffix(r.PostForm.Get("resource"), "/")
	switch {
	case s.cfg.Tenant != "" && tenant != s.cfg.Tenant:
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	case r.PostForm.Get("grant_type") != "client_credentials":
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case s.cfg.ClientID != "" && r.PostForm.Get("client_id") != s.cfg.ClientID:
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", r.PostForm.Get("client_id"), tenant))
	case s.cfg.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(s.cfg.ClientSecret)) != 1:
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", r.PostForm.Get("client_id")))
	case resource == "":
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'.")
	case !strings.EqualFold(resource, rootURL(r)):
		aadError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", resource, tenant))
	default:
		s.issueToken(w, resource)
	}
}

func (s *Server) issueToken(w http.ResponseWriter, resource string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	tok := hex.EncodeToString(b[:])
	now := s.cfg.Now()
	exp := now.Add(s.cfg.TokenTTL)
	s.mu.Lock()
	s.tokens[tok] = exp
	s.mu.Unlock()
	secs := strconv.Itoa(int(s.cfg.TokenTTL.Seconds()))
	writeJSON200(w, map[string]string{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"expires_on":     strconv.FormatInt(exp.Unix(), 10),
		"not_before":     strconv.FormatInt(now.Unix(), 10),
		"resource":       resource,
		"access_token":   tok,
	})
}

// authorized reports whether r carries a live access token.
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.cfg.Now().Before(exp)
}

// ExpireTokens revokes every access token issued so far, as if they had
// all expired: the next /data request with one is answered 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// aadError writes an Azure AD error answer.
func aadError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s", aadsts, msg),
		"error_codes":       []int{aadsts},
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}

func writeJSON200(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	_ = json.NewEncoder(w).Encode(v)
}
