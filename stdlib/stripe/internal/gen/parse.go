package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// library is what the generator reads from stripe-go's root package: its
// type declarations, the string constants of each named type and the types
// whose UnmarshalJSON accepts a bare ID (ParseID), i.e. expandable references.
type library struct {
	types      map[string]*typeDecl
	consts     map[string][]string // named type -> constant values, in source order
	expandable map[string]bool     // *T arrives as an ID string unless expanded
}

// typeDecl is one top-level type declaration.
type typeDecl struct {
	name string
	doc  string
	expr ast.Expr // the type expression after the name
}

// structType returns the declaration's struct type, or nil.
func (d *typeDecl) structType() *ast.StructType {
	st, _ := d.expr.(*ast.StructType)
	return st
}

// loadLibrary parses the non-test .go files of dir (stripe-go's root package).
func loadLibrary(dir string) (*library, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	lib := &library{types: map[string]*typeDecl{}, consts: map[string][]string{}, expandable: map[string]bool{}}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Name.Name != "stripe" {
			continue
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				lib.addGenDecl(d)
			case *ast.FuncDecl:
				lib.addFunc(d)
			}
		}
	}
	if len(lib.types) == 0 {
		return nil, fmt.Errorf("no stripe package types found in %s", dir)
	}
	return lib, nil
}

func (lib *library) addGenDecl(d *ast.GenDecl) {
	switch d.Tok {
	case token.TYPE:
		for _, s := range d.Specs {
			ts := s.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(d.Specs) == 1 {
				doc = d.Doc
			}
			lib.types[ts.Name.Name] = &typeDecl{name: ts.Name.Name, doc: doc.Text(), expr: ts.Type}
		}
	case token.CONST:
		for _, s := range d.Specs {
			vs := s.(*ast.ValueSpec)
			id, ok := vs.Type.(*ast.Ident)
			if !ok || len(vs.Values) != len(vs.Names) {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				val, err := strconv.Unquote(lit.Value)
				if err != nil {
					continue
				}
				if !slices.Contains(lib.consts[id.Name], val) {
					lib.consts[id.Name] = append(lib.consts[id.Name], val)
				}
			}
		}
	}
}

// addFunc records T as expandable when (*T).UnmarshalJSON calls ParseID.
func (lib *library) addFunc(fd *ast.FuncDecl) {
	if fd.Name.Name != "UnmarshalJSON" || fd.Recv == nil || len(fd.Recv.List) != 1 || fd.Body == nil {
		return
	}
	star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return
	}
	recv, ok := star.X.(*ast.Ident)
	if !ok {
		return
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "ParseID" {
				lib.expandable[recv.Name] = true
				return false
			}
		}
		return true
	})
}

// jsonName returns the JSON name of a struct field ("" when the field is not
// serialized).
func jsonName(f *ast.Field) string {
	if f.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// stringOption reports whether the field's json tag has the ",string"
// option: stripe-go decodes a JSON string into a number (unit_amount_decimal).
func stringOption(f *ast.Field) bool {
	if f.Tag == nil {
		return false
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return false
	}
	_, opts, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
	return slices.Contains(strings.Split(opts, ","), "string")
}

// listElem reports whether d is a list wrapper (embeds ListMeta and has
// Data []*X) and returns X.
func (lib *library) listElem(d *typeDecl) (string, bool) {
	st := d.structType()
	if st == nil {
		return "", false
	}
	meta, elem := false, ""
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			if id, ok := f.Type.(*ast.Ident); ok && id.Name == "ListMeta" {
				meta = true
			}
			continue
		}
		if jsonName(f) == "data" {
			if at, ok := f.Type.(*ast.ArrayType); ok {
				if se, ok := at.Elt.(*ast.StarExpr); ok {
					if id, ok := se.X.(*ast.Ident); ok {
						elem = id.Name
					}
				}
			}
		}
	}
	return elem, meta && elem != ""
}

// unionVariants reports whether d is a polymorphic wrapper such as
// PaymentSource or BalanceTransactionSource: a struct whose "object" field
// selects one of several `json:"-"` pointer fields. It returns the variants.
func (lib *library) unionVariants(d *typeDecl) []string {
	st := d.structType()
	if st == nil {
		return nil
	}
	var variants []string
	hasObject := false
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			continue
		}
		if jsonName(f) == "object" {
			hasObject = true
		}
		if f.Tag == nil || !strings.Contains(f.Tag.Value, `json:"-"`) {
			continue
		}
		if se, ok := f.Type.(*ast.StarExpr); ok {
			if id, ok := se.X.(*ast.Ident); ok {
				if v := lib.types[id.Name]; v != nil && v.structType() != nil {
					variants = append(variants, id.Name)
				}
			}
		}
	}
	if !hasObject {
		return nil
	}
	return variants
}
