package compiler

import (
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"

	"github.com/flowhq/flow/stdlib"
	"github.com/flowhq/flow/stdlib/schema"
)

// celType converts a schema type into the CEL type expressions see.
func celType(t *schema.Type) *cel.Type {
	if t == nil {
		return cel.DynType
	}
	switch t.Kind {
	case schema.String:
		return cel.StringType
	case schema.Int:
		return cel.IntType
	case schema.Bool:
		return cel.BoolType
	case schema.Double:
		return cel.DoubleType
	case schema.Decimal:
		return stdlib.DecimalType
	case schema.Minor:
		return stdlib.MinorType
	case schema.Timestamp:
		return cel.TimestampType
	case schema.List:
		return cel.ListType(celType(t.Elem))
	case schema.Map:
		return cel.MapType(celType(t.Key), celType(t.Elem))
	case schema.Struct:
		return cel.ObjectType(t.Object)
	}
	return cel.DynType
}

// SchemaType converts a CEL type back into a schema type (enum restrictions
// are lost; unknown types become Any).
func SchemaType(t *cel.Type) *schema.Type {
	if t == nil {
		return schema.AnyType
	}
	switch t.Kind() {
	case types.StringKind:
		return schema.StringType
	case types.IntKind:
		return schema.IntType
	case types.BoolKind:
		return schema.BoolType
	case types.DoubleKind:
		return schema.DoubleType
	case types.TimestampKind:
		return schema.TimestampType
	case types.ListKind:
		return schema.ListOf(SchemaType(t.Parameters()[0]))
	case types.MapKind:
		return schema.MapOf(SchemaType(t.Parameters()[0]), SchemaType(t.Parameters()[1]))
	case types.StructKind:
		return schema.ObjectOf(t.TypeName())
	case types.OpaqueKind:
		switch t.TypeName() {
		case "decimal":
			return schema.DecimalType
		case "minor":
			return schema.MinorType
		}
	}
	return schema.AnyType
}

// typeWords names a CEL type the way a finance integrator reads it.
func typeWords(t *cel.Type) string {
	if t == nil {
		return "an unknown type"
	}
	return typeNameWords(t.String())
}

// typeNameWords names a CEL type from its printed form, as CEL prints types
// in its messages.
func typeNameWords(s string) string {
	s = strings.TrimSpace(s)
	switch s {
	case "minor":
		return "integer minor units (minor)"
	case "decimal":
		return "a decimal amount"
	case "double":
		return "a float (double)"
	case "int":
		return "an int"
	case "uint":
		return "an unsigned int"
	case "string":
		return "a string"
	case "bool":
		return "a bool"
	case "google.protobuf.Timestamp", "timestamp":
		return "a timestamp"
	case "google.protobuf.Duration", "duration":
		return "a duration"
	case "null_type":
		return "null"
	case "dyn", "":
		return "a dynamic value"
	}
	return s
}
