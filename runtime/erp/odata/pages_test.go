package odata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowhq/flow/runtime/erp"
)

// ReadPages follows @odata.nextLink within the service, stops when told,
// and refuses a page that is not one or a link that leaves the service.
func TestReadPages(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path + "?" + r.URL.RawQuery {
		case "/data/Things?":
			fmt.Fprintf(w, `{"value":[{"n":1},{"n":2}],"@odata.nextLink":"%s/data/Things?page=2"}`, srv.URL)
		case "/data/Things?page=2":
			fmt.Fprint(w, `{"value":[{"n":3}]}`)
		case "/data/Away?":
			fmt.Fprint(w, `{"value":[],"@odata.nextLink":"https://elsewhere.example/data/Things"}`)
		case "/data/Html?":
			fmt.Fprint(w, `<html>sign in</html>`)
		default:
			http.Error(w, "no", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	s := &Sender{Client: srv.Client(), Service: srv.URL + "/data"}
	ctx := context.Background()
	failed := errors.New("the driver's failure")
	fail := func(Answer) error { return failed }
	read := func(path string, stopAt int) ([]int, error) {
		var got []int
		err := s.ReadPages(ctx, srv.URL+"/data/"+path, "GET "+path, fail, func(raw json.RawMessage) (bool, error) {
			var v struct{ N int }
			if err := json.Unmarshal(raw, &v); err != nil {
				return false, err
			}
			got = append(got, v.N)
			return stopAt > 0 && len(got) >= stopAt, nil
		})
		return got, err
	}
	if got, err := read("Things", 0); err != nil || fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("every page: %v, %v", got, err)
	}
	if got, err := read("Things", 1); err != nil || fmt.Sprint(got) != "[1]" {
		t.Errorf("stop after one: %v, %v", got, err)
	}
	var e *erp.Error
	if _, err := read("Away", 0); !errors.As(err, &e) || e.Kind != erp.Permanent || !strings.Contains(err.Error(), "leaves the service") {
		t.Errorf("a link elsewhere: %v", err)
	}
	if _, err := read("Html", 0); !errors.As(err, &e) || !strings.Contains(err.Error(), "want a JSON object with a value array") {
		t.Errorf("a page that is not one: %v", err)
	}
	if _, err := read("Missing", 0); !errors.Is(err, failed) {
		t.Errorf("a 404 goes to fail: %v", err)
	}
	err := s.ReadPages(ctx, srv.URL+"/data/Things", "GET Things", fail, func(json.RawMessage) (bool, error) { return false, errors.New("bad item") })
	if !errors.As(err, &e) || e.Kind != erp.Permanent || !strings.Contains(err.Error(), "GET Things: unexpected answer: bad item") {
		t.Errorf("an item's error: %v", err)
	}
}
