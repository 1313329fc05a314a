package plugins

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// Values are a plugin instance's attribute values: every declared
// attribute, in its declared type's Go type (see AttrType). The typed
// getters panic when a plugin reads an attribute its Spec does not declare
// with that type: that is a bug in the plugin, not in the model.
type Values map[string]any

func (v Values) get(name string, t AttrType) any {
	x, ok := v[name]
	if !ok {
		panic(fmt.Sprintf("plugins: attribute %q is not declared (a %s attribute was read)", name, t))
	}
	return x
}

func valueOf[T any](v Values, name string, t AttrType) T {
	x, ok := v.get(name, t).(T)
	if !ok {
		panic(fmt.Sprintf("plugins: attribute %q is a %T, read as %s", name, v[name], t))
	}
	return x
}

// Int returns an Int attribute.
func (v Values) Int(name string) int64 { return valueOf[int64](v, name, Int) }

// Float returns a Float attribute.
func (v Values) Float(name string) float64 { return valueOf[float64](v, name, Float) }

// Bool returns a Bool attribute.
func (v Values) Bool(name string) bool { return valueOf[bool](v, name, Bool) }

// String returns a String attribute.
func (v Values) String(name string) string { return valueOf[string](v, name, String) }

// Ints returns an Ints attribute (shared: do not modify).
func (v Values) Ints(name string) []int64 { return valueOf[[]int64](v, name, Ints) }

// Floats returns a Floats attribute (shared: do not modify).
func (v Values) Floats(name string) []float64 { return valueOf[[]float64](v, name, Floats) }

// Strings returns a Strings attribute (shared: do not modify).
func (v Values) Strings(name string) []string { return valueOf[[]string](v, name, Strings) }

// Tensor returns a Tensor attribute (shared: do not modify).
func (v Values) Tensor(name string) *tensor.Tensor { return valueOf[*tensor.Tensor](v, name, Tensor) }

// accepted says which Go types convert to t, for error messages.
var accepted = map[AttrType]string{
	Int:     "an integer",
	Float:   "a number (float32, float64 or an integer)",
	Bool:    "a bool or an integer 0/1",
	String:  "a string",
	Ints:    "a list of integers ([]int64, []int or []int32)",
	Floats:  "a list of numbers ([]float32, []float64 or integers)",
	Strings: "a list of strings",
	Tensor:  "a *tensor.Tensor",
}

// convert turns v into t's Go type, or says why it cannot.
func convert(t AttrType, v any) (any, error) {
	x, ok := convertValue(t, v)
	if !ok {
		return nil, fmt.Errorf("takes %s, got %s", accepted[t], describeValue(v))
	}
	return x, nil
}

func convertValue(t AttrType, v any) (any, bool) {
	switch t {
	case Int:
		if i, ok := toInt64(v); ok {
			return i, true
		}
	case Float:
		switch x := v.(type) {
		case float64:
			return x, true
		case float32:
			return float64(x), true
		}
		if i, ok := toInt64(v); ok {
			return float64(i), true
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, true
		}
		if i, ok := toInt64(v); ok {
			if i == 0 || i == 1 {
				return i == 1, true
			}
		}
	case String:
		switch x := v.(type) {
		case string:
			return x, true
		case []byte:
			return string(x), true
		}
	case Ints:
		switch x := v.(type) {
		case []int64:
			return append([]int64{}, x...), true
		case []int:
			return mapSlice(x, func(e int) int64 { return int64(e) }), true
		case []int32:
			return mapSlice(x, func(e int32) int64 { return int64(e) }), true
		}
	case Floats:
		switch x := v.(type) {
		case []float64:
			return append([]float64{}, x...), true
		case []float32:
			return mapSlice(x, func(e float32) float64 { return float64(e) }), true
		case []int64:
			return mapSlice(x, func(e int64) float64 { return float64(e) }), true
		case []int:
			return mapSlice(x, func(e int) float64 { return float64(e) }), true
		case []int32:
			return mapSlice(x, func(e int32) float64 { return float64(e) }), true
		}
	case Strings:
		if x, ok := v.([]string); ok {
			return append([]string{}, x...), true
		}
	case Tensor:
		if x, ok := v.(*tensor.Tensor); ok && x != nil {
			return x, true
		}
	}
	return nil, false
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func mapSlice[E, F any](s []E, f func(E) F) []F {
	out := make([]F, len(s))
	for i, e := range s {
		out[i] = f(e)
	}
	return out
}

// describeValue shows a value with its Go type, short.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case *tensor.Tensor:
		if x == nil {
			return "a nil *tensor.Tensor"
		}
		return "tensor " + x.String()
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("string %q", x)
	}
	s := fmt.Sprintf("%v", v)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%T %s", v, s)
}

// bind checks attrs against the declared attributes and returns the
// complete Values. Every problem is reported in one UnsupportedAttr error
// naming the plugin, each attribute and its expected type.
func (d *defined) bind(attrs map[string]any) (Values, error) {
	var problems []string
	vals := Values{}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, ok := d.attr[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown attribute %q (%s)", k, d.declared()))
			continue
		}
		v, err := convert(a.Type, attrs[k])
		if err != nil {
			problems = append(problems, fmt.Sprintf("attribute %q (%s) %v", k, a.Type, err))
			continue
		}
		vals[k] = v
	}
	for _, a := range d.spec.Attrs {
		if _, given := attrs[a.Name]; given {
			continue
		}
		if a.Default == nil {
			problems = append(problems, fmt.Sprintf("attribute %q (%s) is required and has no default", a.Name, a.Type))
			continue
		}
		vals[a.Name] = d.defaults[a.Name]
	}
	if len(problems) == 0 && d.spec.Validate != nil {
		if err := d.spec.Validate(vals); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, diag.Errorf(diag.UnsupportedAttr, "%s: %s", d.id(), strings.Join(problems, "; "))
	}
	return vals, nil
}

// declared lists the attributes a plugin takes, for error messages.
func (d *defined) declared() string {
	if len(d.spec.Attrs) == 0 {
		return "the plugin takes no attributes"
	}
	parts := make([]string, len(d.spec.Attrs))
	for i, a := range d.spec.Attrs {
		if a.Default == nil {
			parts[i] = fmt.Sprintf("%s (%s, required)", a.Name, a.Type)
		} else {
			parts[i] = fmt.Sprintf("%s (%s, default %v)", a.Name, a.Type, d.defaults[a.Name])
		}
	}
	return "it takes " + strings.Join(parts, ", ")
}
