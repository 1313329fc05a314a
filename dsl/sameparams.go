package dsl

import (
	"bytes"
	"math"
	"reflect"

	"github.com/trtc/trtc/tensor"
)

// SameParams reports whether a and b are layers of the same kind with
// every parameter equal: what they compute from their inputs is the same,
// whatever their names, locations, inputs and outputs. Common-subexpression
// elimination merges two layers when SameParams holds and their inputs are
// the same tensors.
//
// Parameters are compared by reflection over the concrete struct (the
// embedded layerBase aside), so a parameter added to a layer later is
// compared without touching this function. Weights are equal when they
// hold the same host tensor or tensors of the same type, shape and bytes;
// Dims and other slices by value, a nil slice differing from an empty one
// (a nil reshape is "no reshape", an empty one "reshape to a scalar");
// floats by their bits (so NaN equals NaN, and -0 differs from +0). Loop
// and conditional boundary layers and plugin layers carry identity (the
// region they belong to, the plugin object), so they are the same only as
// the same layer. A field of a kind this function does not know (a map, a
// function, an interface) makes the layers differ: merging on a guess
// would be a miscompile, missing a merge costs a layer.
func SameParams(a, b Layer) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case LayerPlugin, LayerTripLimit, LayerRecurrence, LayerIterator, LayerLoopOutput,
		LayerCondition, LayerConditionalInput, LayerConditionalOutput:
		return false
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || va.Kind() != reflect.Pointer {
		return false
	}
	return sameStruct(va.Elem(), vb.Elem(), true)
}

var (
	layerBaseType    = reflect.TypeFor[layerBase]()
	layerBasePtrType = reflect.TypeFor[*layerBase]()
	weightsValType   = reflect.TypeFor[Weights]()
	hostTensorType   = reflect.TypeFor[*tensor.Tensor]()
)

// sameStruct compares the fields of two structs of one type; top skips the
// embedded layerBase of a layer.
func sameStruct(a, b reflect.Value, top bool) bool {
	for i := 0; i < a.NumField(); i++ {
		f := a.Type().Field(i)
		if top && f.Anonymous && f.Type == layerBaseType {
			continue
		}
		// spatialWindow points back at its layer's base.
		if f.Type == layerBasePtrType {
			continue
		}
		if !sameValue(a.Field(i), b.Field(i)) {
			return false
		}
	}
	return true
}

// sameValue compares two values of one type (read through unexported
// fields: only the kind accessors are used, never Interface).
func sameValue(a, b reflect.Value) bool {
	switch a.Type() {
	case weightsValType:
		return sameHostTensor(a.Field(0), b.Field(0))
	case hostTensorType:
		return sameHostTensor(a, b)
	}
	switch a.Kind() {
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32:
		return math.Float32bits(float32(a.Float())) == math.Float32bits(float32(b.Float()))
	case reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Struct:
		return sameStruct(a, b, false)
	case reflect.Array:
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		// Other pointers (a region, a tensor of the network) are
		// identities: equal only when they are the same.
		return a.Pointer() == b.Pointer()
	}
	// Interfaces, maps, functions, channels: unknown, so different.
	return false
}

// sameHostTensor compares two *tensor.Tensor values: the same tensor, or
// the same type, shape and bytes.
func sameHostTensor(a, b reflect.Value) bool {
	if a.IsNil() || b.IsNil() {
		return a.IsNil() == b.IsNil()
	}
	if a.Pointer() == b.Pointer() {
		return true
	}
	return sameStruct(a.Elem(), b.Elem(), false)
}
