package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// pairBlendSpec is a two-input, two-output plugin:
//
//	y   = alpha*a + (1-alpha)*b^power   (elementwise, same shape)
//	sum = y summed over the last axis
func pairBlendSpec(name string) plugins.Spec {
	return plugins.Spec{
		Name: name, Version: "1", Namespace: "trtc.test",
		Doc: "blend of a and a power of b, and its row sums",
		Attrs: []plugins.Attr{
			{Name: "alpha", Type: plugins.Float, Default: 0.5},
			{Name: "power", Type: plugins.Int, Default: 1},
		},
		Validate: func(v plugins.Values) error {
			if p := v.Int("power"); p < 0 || p > 4 {
				return fmt.Errorf("power must be in [0, 4], got %d", p)
			}
			return nil
		},
		SupportedTypes: [][]dsl.DataType{{dsl.Float32}, {dsl.Float32}},
		NbOutputs:      2,
		OutputDims: func(in []dsl.Dims, _ plugins.Values) ([]dsl.Dims, error) {
			a, b := in[0], in[1]
			if len(a) < 1 || len(a) != len(b) {
				return nil, diag.Errorf(diag.ShapeMismatch, "a %v and b %v must have one shape of rank 1 or more", a, b)
			}
			y := a.Clone()
			for i := range y {
				switch {
				case y[i] < 0:
					y[i] = b[i] // may still be -1: dynamic
				case b[i] >= 0 && b[i] != y[i]:
					return nil, diag.Errorf(diag.ShapeMismatch, "a %v and b %v differ in dim %d", a, b, i)
				}
			}
			return []dsl.Dims{y, y[:len(y)-1].Clone()}, nil
		},
		CPU: func(in []*tensor.Tensor, v plugins.Values) ([]*tensor.Tensor, error) {
			alpha, power := float32(v.Float("alpha")), int(v.Int("power"))
			a, b := in[0].Float32s(), in[1].Float32s()
			shape := in[0].Shape()
			d := int(shape[len(shape)-1])
			y := make([]float32, len(a))
			sum := make([]float32, 0, len(a)/max(d, 1))
			for i := range a {
				p := float32(1)
				for range power {
					p *= b[i]
				}
				y[i] = alpha*a[i] + (1-alpha)*p
			}
			for r := 0; r+d <= len(y) && d > 0; r += d {
				s := float32(0)
				for _, e := range y[r : r+d] {
					s += e
				}
				sum = append(sum, s)
			}
			ty, err := tensor.FromFloat32(shape, y)
			if err != nil {
				return nil, err
			}
			ts, err := tensor.FromFloat32(shape[:len(shape)-1], sum)
			return []*tensor.Tensor{ty, ts}, err
		},
	}
}

func init() { plugins.Define(pairBlendSpec("PairBlend")) }

func vinfo(name string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

// blendModel is a model with one PairBlend node (domain trtc.test) between
// a Relu and the outputs.
func blendModel(op string, attrs ...*onnxpb.AttributeProto) []byte {
	relu := &onnxpb.NodeProto{OpType: proto.String("Relu"), Name: proto.String("relu"), Input: []string{"a"}, Output: []string{"ra"}}
	n := &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String("blend"), Domain: proto.String("trtc.test"),
		Input: []string{"ra", "b"}, Output: []string{"y", "sum"}, Attribute: attrs}
	g := &onnxpb.GraphProto{
		Name:   proto.String("blend"),
		Node:   []*onnxpb.NodeProto{relu, n},
		Input:  []*onnxpb.ValueInfoProto{vinfo("a", -1, 3), vinfo("b", -1, 3)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", -1, 3), vinfo("sum", -1)},
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("trtc.test"), Version: proto.Int64(1)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func strAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// buildCPU compiles net for the CPU target at fixed shapes.
func buildCPU(t *testing.T, net *dsl.Network, shapes map[string][]int64) *engine.Plan {
	t.Helper()
	cfg := compiler.DefaultConfig()
	cfg.Target = "cpu"
	cfg.Profiles = []compiler.Profile{compiler.StaticProfile(shapes)}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func execute(t *testing.T, eng *engine.Engine, in map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	ctx, err := eng.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	out, err := ctx.Execute(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func f32(t *testing.T, shape []int64, v ...float32) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat32(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 {
			t.Fatalf("%s[%d] = %v, want %v (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

// The blend inputs and results, worked out by hand: a is ReLU'd first;
// y = 0.25*relu(a) + 0.75*b^2; sum adds each row.
var (
	blendA   = []float32{1, -2, 3, 4, 5, -6}
	blendB   = []float32{1, -1, 2, 0, 3, 1}
	blendY   = []float64{0.25 + 0.75, 0 + 0.75, 0.75 + 3, 1 + 0, 1.25 + 6.75, 0 + 0.75}
	blendSum = []float64{1 + 0.75 + 3.75, 1 + 8 + 0.75}
)

func TestONNXModelWithPluginBuildsAndRuns(t *testing.T) {
	net, err := onnx.ImportBytes(blendModel("PairBlend", floatAttr("alpha", 0.25), intAttr("power", 2)), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := buildCPU(t, net, map[string][]int64{"a": {2, 3}, "b": {2, 3}})
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	out := execute(t, eng, map[string]*tensor.Tensor{"a": f32(t, []int64{2, 3}, blendA...), "b": f32(t, []int64{2, 3}, blendB...)})
	near(t, "y", out["y"].Float32s(), blendY)
	near(t, "sum", out["sum"].Float32s(), blendSum)
}

func TestDSLAddPluginBuildsAndRuns(t *testing.T) {
	net := dsl.NewNetwork()
	a := net.AddInput("a", dsl.Float32, dsl.Dims{-1, 3})
	b := net.AddInput("b", dsl.Float32, dsl.Dims{-1, 3})
	ra := net.AddActivation(a, dsl.ActivationReLU).Output(0)
	// No namespace given: PairBlend is registered in one, trtc.test.
	l := net.AddPlugin("PairBlend", []*dsl.Tensor{ra, b}, map[string]any{"alpha": 0.25, "power": 2})
	l.Output(0).SetName("y")
	l.Output(1).SetName("sum")
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	// Symbolic shapes: the batch stays -1, the row sum drops the last dim.
	if d := l.Output(1).Dims(); !d.Equal(dsl.Dims{-1}) {
		t.Fatalf("sum dims %v, want -1", d)
	}
	eng, err := engine.LoadPlan(buildCPU(t, net, map[string][]int64{"a": {2, 3}, "b": {2, 3}}))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	out := execute(t, eng, map[string]*tensor.Tensor{"a": f32(t, []int64{2, 3}, blendA...), "b": f32(t, []int64{2, 3}, blendB...)})
	near(t, "y", out["y"].Float32s(), blendY)
	near(t, "sum", out["sum"].Float32s(), blendSum)
}

func TestONNXPluginMisuseFailsClearly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model []byte
		code  diag.Code
		want  []string
	}{
		{"unknown attribute", blendModel("PairBlend", floatAttr("alpah", 0.25)), diag.UnsupportedAttr,
			[]string{`"blend"`, `plugin "PairBlend"`, `unknown attribute "alpah"`, "alpha (float, default 0.5)"}},
		{"wrong attribute type", blendModel("PairBlend", strAttr("power", "2")), diag.UnsupportedAttr,
			[]string{`"blend"`, `plugin "PairBlend"`, `attribute "power" (int) takes an integer, got string "2"`}},
		{"float for an int", blendModel("PairBlend", floatAttr("power", 2)), diag.UnsupportedAttr,
			[]string{`attribute "power" (int) takes an integer, got float32 2`}},
		{"validation", blendModel("PairBlend", intAttr("power", 9)), diag.UnsupportedAttr,
			[]string{`plugin "PairBlend"`, "power must be in [0, 4], got 9"}},
		{"unregistered version", blendModel("PairBlend", strAttr("plugin_version", "2")), diag.UnsupportedNode,
			[]string{"no importer or plugin for PairBlend"}},
	} {
		_, err := onnx.ImportBytes(tc.model, onnx.Options{})
		if !errors.Is(err, tc.code) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestDSLPluginMisuseFailsClearly(t *testing.T) {
	type build func(net *dsl.Network, a, b, h *dsl.Tensor) *dsl.PluginLayer
	for _, tc := range []struct {
		name  string
		build build
		code  diag.Code
		want  []string
	}{
		{"unknown plugin", func(net *dsl.Network, a, b, _ *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlnd", []*dsl.Tensor{a, b}, nil)
		}, diag.UnsupportedNode, []string{`AddPlugin("PairBlnd")`, `no plugin "PairBlnd" is registered`}},
		{"unknown namespace", func(net *dsl.Network, a, b, _ *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a, b}, map[string]any{"plugin_namespace": "other"})
		}, diag.UnsupportedNode, []string{`no plugin "PairBlend" namespace "other" is registered; this binary has version "1" namespace "trtc.test"`}},
		{"unknown attribute", func(net *dsl.Network, a, b, _ *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a, b}, map[string]any{"beta": 1.0})
		}, diag.UnsupportedAttr, []string{`unknown attribute "beta"`, `plugin "PairBlend"`}},
		{"wrong attribute type", func(net *dsl.Network, a, b, _ *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a, b}, map[string]any{"alpha": "half"})
		}, diag.UnsupportedAttr, []string{`attribute "alpha" (float) takes a number`, `got string "half"`}},
		{"shape rule", func(net *dsl.Network, a, _, _ *dsl.Tensor) *dsl.PluginLayer {
			c := net.AddInput("c", dsl.Float32, dsl.Dims{-1, 4})
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a, c}, nil)
		}, diag.ShapeMismatch, []string{`plugin "PairBlend"`, "rejects input dims", "differ in dim 1"}},
		{"unsupported input type", func(net *dsl.Network, a, _, h *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a, h}, nil)
		}, diag.TypeMismatch, []string{`plugin "PairBlend"`, "input 1 is float16; PairBlend supports float32 there"}},
		{"input count", func(net *dsl.Network, a, _, _ *dsl.Tensor) *dsl.PluginLayer {
			return net.AddPlugin("PairBlend", []*dsl.Tensor{a}, nil)
		}, diag.InvalidNode, []string{"takes 2 input(s), got 1"}},
	} {
		net := dsl.NewNetwork()
		a := net.AddInput("a", dsl.Float32, dsl.Dims{-1, 3})
		b := net.AddInput("b", dsl.Float32, dsl.Dims{-1, 3})
		h := net.AddInput("h", dsl.Float16, dsl.Dims{-1, 3})
		l := tc.build(net, a, b, h)
		// Downstream layers stay quiet about the bad output.
		net.MarkOutput(net.AddActivation(l.Output(0), dsl.ActivationReLU).Output(0))
		err := net.Err()
		if !errors.Is(err, tc.code) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.code)
			continue
		}
		msg := err.Error()
		// The error points at the AddPlugin call.
		loc := l.Location()
		if !strings.HasPrefix(loc, "plugins/e2e_test.go:") || !strings.Contains(sourceLine(t, loc), "net.AddPlugin(") {
			t.Errorf("%s: location %q is not the AddPlugin call", tc.name, loc)
		}
		for _, w := range append(tc.want, loc+": ") {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", tc.name, msg, w)
			}
		}
		if n := strings.Count(msg, "\n\t"); n != 1 {
			t.Errorf("%s: %d errors, want 1 (the plugin's):\n%s", tc.name, n, msg)
		}
	}
}

// TestEngineLoadNeedsThePlugin builds an engine with a plugin registered
// under a name no other test uses, removes the plugin from the registry
// (as a binary that does not import it would lack it), and loads the
// engine again.
func TestEngineLoadNeedsThePlugin(t *testing.T) {
	spec := pairBlendSpec("PairBlendForLoadTest")
	spec.Version = "3"
	plugins.Define(spec)
	net, err := onnx.ImportBytes(blendModel("PairBlendForLoadTest", intAttr("power", 2)), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := buildCPU(t, net, map[string][]int64{"a": {2, 3}, "b": {2, 3}})
	file, err := plan.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.LoadBytes(file)
	if err != nil {
		t.Fatalf("with the plugin registered: %v", err)
	}
	eng.Close()

	plugins.Unregister(plugins.Key{Name: "PairBlendForLoadTest", Version: "3", Namespace: "trtc.test"})
	_, err = engine.LoadBytes(file)
	if !errors.Is(err, diag.EngineIncompatible) {
		t.Fatalf("got %v, want an error saying the plugin is missing", err)
	}
	t.Log(err)
	for _, w := range []string{`"PairBlendForLoadTest" version "3" namespace "trtc.test"`, "not registered in this binary"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("load error %q does not say %q", err, w)
		}
	}
}

// sourceLine returns the line of this package's source that loc
// ("plugins/file.go:N") names.
func sourceLine(t *testing.T, loc string) string {
	t.Helper()
	file, n, _ := strings.Cut(strings.TrimPrefix(loc, "plugins/"), ":")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i, _ := strconv.Atoi(n)
	lines := strings.Split(string(b), "\n")
	if i < 1 || i > len(lines) {
		return ""
	}
	return lines[i-1]
}
