package timingcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Signature returns a layer signature for the cache: the SHA-256, in hex, of
// a canonical text of parts. A target passes what decides which tactic is
// fastest: the layer's kind, its parameters, its input shapes and types,
// the tactic space it searched. Equal values always give the same
// signature, in every process and on every machine, which fmt's %v does not
// promise (it prints pointers as addresses and does not tag types).
//
// The canonical text writes strings quoted, numbers exactly by value (a
// float32 as the float64 it converts to, in the shortest form that reads back
// the same; int32(1) like int64(1)), slices and arrays element by
// element (a nil slice like an empty one), maps sorted by their keys' text,
// structs field by field in declaration order (unexported fields included),
// pointers and interfaces as what they point to, and the type of every named
// value, so int32(1) and a DataType 1 differ. A pointer cycle is written as a
// marker rather than followed forever. Functions, channels and unsafe
// pointers have no canonical value: Signature panics on them, since passing
// one is a bug in the target.
func Signature(parts ...any) string {
	sum := sha256.Sum256([]byte(canonical(parts...)))
	return hex.EncodeToString(sum[:])
}

// canonical is the text Signature hashes; tests read it.
func canonical(parts ...any) string {
	w := canonWriter{seen: map[ref]bool{}}
	for i, p := range parts {
		if i > 0 {
			w.b.WriteByte(';')
		}
		w.value(reflect.ValueOf(p))
	}
	return w.b.String()
}

type canonWriter struct {
	b    strings.Builder
	seen map[ref]bool // pointers, maps and slices on the current path, to cut cycles
}

// ref names what a pointer, map or slice refers to. The type is part of it
// because a struct and its first field share an address.
type ref struct {
	t    reflect.Type
	addr uintptr
}

// enter marks v as on the current path; false means v is already on it (a
// cycle), and the caller writes a marker instead of v.
func (w *canonWriter) enter(v reflect.Value) (ref, bool) {
	r := ref{v.Type(), v.Pointer()}
	if w.seen[r] {
		w.b.WriteString("<cycle>")
		return r, false
	}
	w.seen[r] = true
	return r, true
}

func (w *canonWriter) value(v reflect.Value) {
	if !v.IsValid() {
		w.b.WriteString("nil")
		return
	}
	t := v.Type()
	if t.Name() != "" && t.PkgPath() != "" {
		// A named type of a package: tag it. Predeclared types (int,
		// string) go untagged so plain values read naturally.
		w.b.WriteString(strconv.Quote(t.String()))
	}
	switch v.Kind() {
	case reflect.Bool:
		w.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		// Written as the float64 value: exact, and a float32 0.1 (which is
		// 0.100000001...) differs from a float64 0.1, as the values do.
		w.b.WriteString("f" + strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Complex64, reflect.Complex128:
		w.b.WriteString("c" + strconv.FormatComplex(v.Complex(), 'g', -1, 128))
	case reflect.String:
		w.b.WriteString(strconv.Quote(v.String()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			w.b.WriteString("x" + hex.EncodeToString(v.Bytes()))
			return
		}
		if v.Kind() == reflect.Slice && v.Len() > 0 {
			r, ok := w.enter(v)
			if !ok {
				return
			}
			defer delete(w.seen, r)
		}
		w.b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.value(v.Index(i))
		}
		w.b.WriteByte(']')
	case reflect.Map:
		if v.Len() > 0 {
			r, ok := w.enter(v)
			if !ok {
				return
			}
			defer delete(w.seen, r)
		}
		type kv struct{ k, v string }
		var items []kv
		for it := v.MapRange(); it.Next(); {
			items = append(items, kv{w.sub(it.Key()), w.sub(it.Value())})
		}
		slices.SortFunc(items, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		w.b.WriteByte('{')
		for i, it := range items {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(it.k + ":" + it.v)
		}
		w.b.WriteByte('}')
	case reflect.Struct:
		w.b.WriteByte('{')
		for i := range v.NumField() {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(t.Field(i).Name + ":")
			w.value(v.Field(i))
		}
		w.b.WriteByte('}')
	case reflect.Pointer:
		if v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		r, ok := w.enter(v)
		if !ok {
			return
		}
		w.b.WriteByte('&')
		w.value(v.Elem())
		delete(w.seen, r)
	case reflect.Interface:
		if v.IsNil() {
			w.b.WriteString("nil")
			return
		}
		w.value(v.Elem())
	default:
		panic(fmt.Sprintf("timingcache.Signature: a %s has no canonical value", t))
	}
}

// sub writes v on its own, for map keys and values that are sorted before
// they are written.
func (w *canonWriter) sub(v reflect.Value) string {
	s := canonWriter{seen: w.seen}
	s.value(v)
	return s.b.String()
}
