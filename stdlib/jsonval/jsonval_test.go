package jsonval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// deep decodes an Object tree fully, for comparison with encoding/json.
func deep(v any) any {
	switch x := v.(type) {
	case *Object:
		m := map[string]any{}
		for k, e := range x.Map() {
			m[k] = deep(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deep(e)
		}
		return out
	}
	return v
}

func reference(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/stripe/events/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got, want := deep(o), reference(t, b); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: lazy decoding differs from encoding/json", f)
		}
	}
}

func TestValuesAndEdges(t *testing.T) {
	o, err := Parse([]byte(` { "a" : "x\"y\u00e9" , "n": -1.5e3, "b": true, "z": null, "l": [1, {"k": "v"}, []], "a": "last" } `))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := o.Get("a"); v != "last" {
		t.Errorf("repeated name: %v", v)
	}
	if v, _ := o.Get("n"); v != json.Number("-1.5e3") {
		t.Errorf("number: %#v", v)
	}
	if v, ok := o.Get("z"); !ok || v != nil {
		t.Errorf("null: %v %v", v, ok)
	}
	if _, ok := o.Get("missing"); ok {
		t.Error("found a missing member")
	}
	l, _ := o.Get("l")
	if inner, _ := l.([]any)[1].(*Object).Get("k"); inner != "v" {
		t.Errorf("object in a list: %v", inner)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a":}`, `{"a":1,}`, `"s"`, `{"a":1} x`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"a":[1,"x",{"b":null}],"c":"\u0041"}`,
		`{"a":"\u00e9\n\/","b":-0.5e+10,"c":[true,false,null,{}],"d":{"e":[]}}`,
		`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":[1,]}`, ` {} `, `{}{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Parse(b)
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		valid := json.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{'
		if (err == nil) != valid {
			t.Fatalf("%q: Parse error %v, valid object %v", b, err, valid)
		}
		if err == nil && !reflect.DeepEqual(deep(o), reference(t, b)) {
			t.Fatalf("%q: values differ", b)
		}
	})
}

// Deeply nested arrays decode in time linear in their size.
func TestDeepArraysAreLinear(t *testing.T) {
	const depth = 200000
	raw := []byte(`{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	o, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		o.Get("a")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("decoding nested arrays takes quadratic time")
	}
}
