package plugins

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// identityCPU copies input 0.
func identityCPU(in []*tensor.Tensor, _ Values) ([]*tensor.Tensor, error) {
	return []*tensor.Tensor{in[0].Clone()}, nil
}

// attrSpec declares one attribute of every type; "need" is required.
func attrSpec(name string) Spec {
	return Spec{
		Name: name, Namespace: "trtc.test",
		Attrs: []Attr{
			{Name: "alpha", Type: Float, Default: 1},
			{Name: "count", Type: Int, Default: 3},
			{Name: "flag", Type: Bool, Default: false},
			{Name: "mode", Type: String, Default: "fast"},
			{Name: "axes", Type: Ints, Default: []int{0, 1}},
			{Name: "scales", Type: Floats, Default: []float32{0.5}},
			{Name: "names", Type: Strings, Default: []string{}},
			{Name: "table", Type: Tensor},
			{Name: "need", Type: Float},
		},
		CPU: identityCPU,
	}
}

func newTestDefined(t *testing.T, s Spec) *defined {
	t.Helper()
	d, err := newDefined(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAttributeConversions(t *testing.T) {
	s := attrSpec("AttrConv")
	s.Attrs = s.Attrs[:len(s.Attrs)-2] // no tensor, no required attribute
	d := newTestDefined(t, s)

	// Defaults, converted to the declared Go types.
	p, err := d.Create(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := p.(*Instance).Values()
	if v.Float("alpha") != 1 || v.Int("count") != 3 || v.Bool("flag") || v.String("mode") != "fast" ||
		fmt.Sprint(v.Ints("axes")) != "[0 1]" || fmt.Sprint(v.Floats("scales")) != "[0.5]" || len(v.Strings("names")) != 0 {
		t.Fatalf("defaults: %v", v)
	}

	// What ONNX gives, and what Go code gives.
	for _, attrs := range []map[string]any{
		{"alpha": float32(0.25), "count": int64(7), "flag": int64(1), "mode": "slow",
			"axes": []int64{2}, "scales": []float32{1, 2}, "names": []string{"a"}},
		{"alpha": 0.25, "count": 7, "flag": true, "mode": []byte("slow"),
			"axes": []int32{2}, "scales": []float64{1, 2}, "names": []string{"a"}},
		{"alpha": float64(0.25), "count": int32(7), "flag": 1, "mode": "slow",
			"axes": []int{2}, "scales": []int64{1, 2}, "names": []string{"a"}},
	} {
		p, err := d.Create(attrs)
		if err != nil {
			t.Fatalf("%v: %v", attrs, err)
		}
		v := p.(*Instance).Values()
		if v.Float("alpha") != 0.25 || v.Int("count") != 7 || !v.Bool("flag") || v.String("mode") != "slow" ||
			fmt.Sprint(v.Ints("axes")) != "[2]" || fmt.Sprint(v.Floats("scales")) != "[1 2]" || v.Strings("names")[0] != "a" {
			t.Fatalf("%v gave %v", attrs, v)
		}
		// Attributes round-trip through Create (engines recreate plugins
		// from them).
		again, err := d.Create(p.Attributes())
		if err != nil || fmt.Sprint(again.Attributes()) != fmt.Sprint(p.Attributes()) {
			t.Fatalf("round trip: %v, %v", again, err)
		}
	}
	// An int64 for a float attribute is fine (the brief's rule); an
	// integer for a float list too.
	p, err = d.Create(map[string]any{"alpha": int64(2)})
	if err != nil || p.(*Instance).Values().Float("alpha") != 2 {
		t.Fatalf("int64 for a float: %v", err)
	}
}

func TestAttributeErrorsNamePluginAttributeAndType(t *testing.T) {
	d := newTestDefined(t, attrSpec("AttrErr"))
	table := tensor.New(tensor.Float32, 2)
	for _, tc := range []struct {
		attrs map[string]any
		want  []string
	}{
		{map[string]any{"need": 1, "table": table, "alhpa": 1.0},
			[]string{`plugin "AttrErr" version "1" namespace "trtc.test"`, `unknown attribute "alhpa"`, "alpha (float, default 1)", "need (float, required)"}},
		{map[string]any{"need": "x", "table": table},
			[]string{`attribute "need" (float) takes a number (float32, float64 or an integer), got string "x"`}},
		{map[string]any{"need": 1, "table": table, "count": float32(2.5)},
			[]string{`attribute "count" (int) takes an integer, got float32 2.5`}},
		{map[string]any{"need": 1, "table": table, "flag": int64(2)},
			[]string{`attribute "flag" (bool) takes a bool or an integer 0/1, got int64 2`}},
		{map[string]any{"need": 1, "table": table, "axes": []float32{1}},
			[]string{`attribute "axes" (ints) takes a list of integers`, "got []float32 [1]"}},
		{map[string]any{"need": 1, "table": (*tensor.Tensor)(nil)},
			[]string{`attribute "table" (tensor) takes a *tensor.Tensor, got a nil *tensor.Tensor`}},
		{map[string]any{"table": table},
			[]string{`attribute "need" (float) is required and has no default`}},
		// Every problem at once.
		{map[string]any{"bogus": 1, "count": "3"},
			[]string{`unknown attribute "bogus"`, `attribute "count" (int) takes an integer`, `"need" (float) is required`, `"table" (tensor) is required`}},
	} {
		_, err := d.Create(tc.attrs)
		if !errors.Is(err, diag.UnsupportedAttr) {
			t.Errorf("%v: got %v, want UnsupportedAttr", tc.attrs, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", tc.attrs, err, w)
			}
		}
	}
}

func TestValidateHook(t *testing.T) {
	s := attrSpec("AttrValidate")
	s.Validate = func(v Values) error {
		if v.Float("need") <= 0 {
			return fmt.Errorf("need must be positive, got %v", v.Float("need"))
		}
		return nil
	}
	d := newTestDefined(t, s)
	table := tensor.New(tensor.Float32, 1)
	if _, err := d.Create(map[string]any{"need": -1, "table": table}); !errors.Is(err, diag.UnsupportedAttr) ||
		!strings.Contains(err.Error(), `"AttrValidate"`) || !strings.Contains(err.Error(), "need must be positive, got -1") {
		t.Fatalf("got %v", err)
	}
	if _, err := d.Create(map[string]any{"need": 2, "table": table}); err != nil {
		t.Fatal(err)
	}
}

func TestDefineRejectsBrokenSpecs(t *testing.T) {
	ok := Spec{Name: "Broken", CPU: identityCPU}
	for _, tc := range []struct {
		edit func(s *Spec)
		want string
	}{
		{func(s *Spec) { s.Name = "" }, "no Name"},
		{func(s *Spec) { s.CPU = nil }, "no CPU implementation"},
		{func(s *Spec) { s.Attrs = []Attr{{Name: "a", Type: Int}, {Name: "a", Type: Float}} }, `attribute "a" twice`},
		{func(s *Spec) { s.Attrs = []Attr{{Name: "a", Type: Int, Default: 1.5}} }, `attribute "a" (int) takes an integer, got float64 1.5 as its default`},
		{func(s *Spec) { s.Attrs = []Attr{{Name: "plugin_version", Type: String}} }, "reserved"},
		{func(s *Spec) { s.Attrs = []Attr{{Name: "a"}} }, `attribute "a" has type AttrType(0)`},
		{func(s *Spec) { s.SupportedTypes = [][]dsl.DataType{{dsl.Float32}}; s.NbInputs = 2 }, "SupportedTypes has 1 entries for 2 inputs"},
		{func(s *Spec) { s.CUDA = &CUDAKernel{Source: "x", Entry: "k"} }, `Entry "k" is not a function`},
		{func(s *Spec) { s.CUDA = &CUDAKernel{Source: "k", Entry: "k"} }, "no Launch function"},
	} {
		s := ok
		tc.edit(&s)
		if _, err := newDefined(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// Define panics with its call site.
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "spec_test.go:") || !strings.Contains(msg, "no CPU implementation") {
			t.Fatalf("panic %q", msg)
		}
	}()
	Define(Spec{Name: "NoCPU"})
}

func TestDefineDuplicatePanicsWithBothSites(t *testing.T) {
	s := Spec{Name: "DefineDup", CPU: identityCPU}
	Define(s)
	defer func() {
		if msg, _ := recover().(string); strings.Count(msg, "spec_test.go:") != 2 {
			t.Fatalf("panic %q should name both Define calls", msg)
		}
	}()
	Define(s)
}

func TestInstanceRules(t *testing.T) {
	d := newTestDefined(t, Spec{
		Name: "Rules", SupportedTypes: [][]dsl.DataType{{dsl.Float32, dsl.Float16}, {}}, NbOutputs: 2,
		CPU: identityCPU,
	})
	p, _ := d.Create(nil)
	if got, err := p.OutputTypes([]dsl.DataType{dsl.Float16, dsl.Int64}); err != nil || fmt.Sprint(got) != "[float16 float16]" {
		t.Fatalf("default types %v %v", got, err)
	}
	if got, err := p.OutputDims([]dsl.Dims{{-1, 4}, {2}}); err != nil || fmt.Sprint(got) != fmt.Sprint([]dsl.Dims{{-1, 4}, {-1, 4}}) {
		t.Fatalf("default dims %v %v", got, err)
	}
	_, err := p.OutputTypes([]dsl.DataType{dsl.Int32, dsl.Int64})
	if !errors.Is(err, diag.TypeMismatch) || !strings.Contains(err.Error(), "input 0 is int32; Rules supports float32, float16") {
		t.Fatalf("unsupported type: %v", err)
	}
	if _, err := p.OutputTypes([]dsl.DataType{dsl.Float32}); !strings.Contains(fmt.Sprint(err), "takes 2 input(s), got 1") {
		t.Fatalf("input count: %v", err)
	}
}

func TestConfigureChecksTheLaunch(t *testing.T) {
	p, _ := newTestDefined(t, Spec{Name: "Launch", CPU: identityCPU}).Create(nil)
	k := &CUDAKernel{Source: `extern "C" __global__ void k_f32() {}`, Entry: "k_f32"}
	s := LaunchShapes{In: []dsl.Dims{{8}}}
	for _, tc := range []struct {
		cfg  LaunchConfig
		want string
	}{
		{LaunchConfig{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{256, 1, 1}, Args: []any{int32(8), float32(1)}}, ""},
		{LaunchConfig{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{2048, 1, 1}}, "2048 threads"},
		{LaunchConfig{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{32, 0, 1}}, "block dimension 1 is 0"},
		{LaunchConfig{Grid: [3]uint32{1, 70000, 1}, Block: [3]uint32{1, 1, 1}}, "above CUDA's limits"},
		{LaunchConfig{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{1, 1, 1}, Args: []any{8}}, "scalar argument 0 is a int"},
	} {
		k.Launch = func(LaunchShapes) (LaunchConfig, error) { return tc.cfg, nil }
		got, _, err := k.Configure(p, s)
		switch {
		case tc.want == "" && (err != nil || got.Entry != "k_f32"):
			t.Errorf("%+v: %v, entry %q", tc.cfg, err, got.Entry)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"Launch"`)):
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	k.Launch = func(LaunchShapes) (LaunchConfig, error) { return LaunchConfig{}, errors.New("too wide") }
	if _, _, err := k.Configure(p, s); !errors.Is(err, diag.UnsupportedNode) || !strings.Contains(err.Error(), "too wide") {
		t.Errorf("launch error: %v", err)
	}
	a := k.Fingerprint()
	k.Source += " "
	if a == k.Fingerprint() || len(a) != 64 {
		t.Errorf("fingerprint %q does not follow the source", a)
	}
}
