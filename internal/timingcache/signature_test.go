package timingcache

import (
	"strings"
	"testing"
)

type dataType int

type params struct {
	Kind    string
	Dims    []int64
	Strides map[string]int
	Alpha   float32
	typ     dataType
	Next    *params
	Any     any
}

func TestSignatureCanonical(t *testing.T) {
	p := params{Kind: "conv", Dims: []int64{1, 3, 224}, Strides: map[string]int{"w": 2, "h": 1, "d": 3}, Alpha: 0.1, typ: 2}
	got := canonical("Convolution", p, 3, nil, []byte{0xab})
	want := `"Convolution";"timingcache.params"{Kind:"conv",Dims:[1,3,224],Strides:{"d":3,"h":1,"w":2},Alpha:f0.10000000149011612,typ:"timingcache.dataType"2,Next:nil,Any:nil};3;nil;xab`
	if got != want {
		t.Errorf("canonical =\n%s\nwant\n%s", got, want)
	}
	if s := Signature("Convolution", p); len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("Signature = %q, want 64 hex digits", s)
	}
}

func TestSignatureStable(t *testing.T) {
	// Map order, pointer identity and nil-vs-empty slices do not matter.
	a := map[string]any{"x": []int{1, 2}, "y": &params{Kind: "k"}, "z": map[int]string{3: "c", 1: "a", 2: "b"}}
	b := map[string]any{"z": map[int]string{2: "b", 1: "a", 3: "c"}, "y": &params{Kind: "k"}, "x": []int{1, 2}}
	for range 20 {
		if Signature(a) != Signature(b) {
			t.Fatal("equal maps gave different signatures")
		}
	}
	if Signature([]int(nil)) != Signature([]int{}) {
		t.Error("a nil and an empty slice differ")
	}
}

func TestSignatureDistinguishes(t *testing.T) {
	pairs := [][2][]any{
		{{"a", "b"}, {"ab"}},
		{{"a;b"}, {"a", "b"}},
		{{1}, {"1"}},
		{{int32(1)}, {dataType(1)}},
		{{[]int{1, 2}}, {[]int{12}}},
		{{[]int{1}, []int{2}}, {[]int{1, 2}}},
		{{float32(0.1)}, {0.1}},
		{{map[string]int{"a": 1}}, {map[string]int{"a": 2}}},
		{{params{Kind: "x"}}, {params{Kind: "y"}}},
		{{params{typ: 1}}, {params{typ: 2}}},
		{{nil}, {"nil"}},
	}
	for _, p := range pairs {
		if canonical(p[0]...) == canonical(p[1]...) {
			t.Errorf("%v and %v give the same text %s", p[0], p[1], canonical(p[0]...))
		}
	}
}

func TestSignatureCycle(t *testing.T) {
	p := &params{Kind: "loop"}
	p.Next = p
	m := map[string]any{}
	m["self"] = m
	s := []any{nil}
	s[0] = s
	for _, v := range []any{p, m, s} {
		if got := canonical(v); !strings.Contains(got, "<cycle>") {
			t.Errorf("canonical(cycle) = %s", got)
		}
	}
	// A struct and its first field share an address; that is not a cycle.
	type inner struct{ N int }
	type outer struct {
		In inner
		P  *inner
	}
	o := &outer{In: inner{7}}
	o.P = &o.In
	if got := canonical(o); strings.Contains(got, "<cycle>") {
		t.Errorf("a pointer to a first field was taken for a cycle: %s", got)
	}
}

func TestSignaturePanicsOnFunc(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "no canonical value") {
			t.Errorf("recover = %v", r)
		}
	}()
	Signature(func() {})
}
