package onnx

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// scaledSwish is a test plugin: y = x * sigmoid(beta*x) * scale, with a
// required float attribute beta and an optional scale (default 1).
type scaledSwish struct{ beta, scale float32 }

func (p *scaledSwish) PluginName() string      { return "ScaledSwish" }
func (p *scaledSwish) PluginVersion() string   { return "2" }
func (p *scaledSwish) PluginNamespace() string { return "trtc.test" }
func (p *scaledSwish) Attributes() map[string]any {
	return map[string]any{"beta": p.beta, "scale": p.scale}
}
func (p *scaledSwish) NbOutputs() int                               { return 1 }
func (p *scaledSwish) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) { return []dsl.Dims{in[0]}, nil }
func (p *scaledSwish) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if in[0] != dsl.Float32 {
		return nil, fmt.Errorf("ScaledSwish takes float32, got %v", in[0])
	}
	return []dsl.DataType{dsl.Float32}, nil
}
func (p *scaledSwish) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0].Float32s()
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = v / (1 + float32(math.Exp(-float64(p.beta*v)))) * p.scale
	}
	out, err := tensor.FromFloat32(in[0].Shape(), y)
	return []*tensor.Tensor{out}, err
}

type scaledSwishCreator struct{}

func (scaledSwishCreator) Name() string      { return "ScaledSwish" }
func (scaledSwishCreator) Version() string   { return "2" }
func (scaledSwishCreator) Namespace() string { return "trtc.test" }
func (scaledSwishCreator) Create(attrs map[string]any) (dsl.Plugin, error) {
	p := &scaledSwish{scale: 1}
	for k, v := range attrs {
		f, ok := v.(float32)
		switch {
		case k != "beta" && k != "scale":
			return nil, fmt.Errorf("unknown attribute %q", k)
		case !ok:
			return nil, fmt.Errorf("attribute %q must be a float, got %T", k, v)
		case k == "beta":
			p.beta = f
		default:
			p.scale = f
		}
	}
	if _, ok := attrs["beta"]; !ok {
		return nil, fmt.Errorf("attribute beta is required")
	}
	return p, nil
}

func init() { plugins.Register(scaledSwishCreator{}) }

func swishModel(attrs ...*onnxpb.AttributeProto) []byte {
	n := node("ScaledSwish", "swish0", []string{"x"}, []string{"y"})
	n.Domain = proto.String("trtc.test")
	n.Attribute = attrs
	g := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{n},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, -1, 3)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, -1, 3)},
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("trtc.test"), Version: proto.Int64(1)}}}
	b, _ := proto.Marshal(m)
	return b
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func TestUnknownOpFallsBackToPlugin(t *testing.T) {
	net, err := ImportBytes(swishModel(floatAttr("beta", 2), floatAttr("scale", 0.5)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := mustF32([]int64{2, 3}, []float32{-2, -1, -0.5, 0.5, 1, 2})
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 * x * sigmoid(2x), worked out with a calculator.
	want := []float64{-0.017986, -0.059601, -0.067235, 0.182765, 0.440399, 0.982014}
	for i, g := range out["y"].Float32s() {
		if d := float64(g) - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("y[%d] = %v, want %v", i, g, want[i])
		}
	}
}

func TestPluginFallbackErrors(t *testing.T) {
	// A missing required attribute is the plugin's error, naming the plugin.
	_, err := ImportBytes(swishModel(), Options{})
	if !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "beta is required") || !strings.Contains(err.Error(), "swish0") {
		t.Fatalf("missing attribute: got %v", err)
	}
	// A wrong attribute type.
	strAttr := &onnxpb.AttributeProto{Name: proto.String("beta"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("x")}
	if _, err := ImportBytes(swishModel(strAttr), Options{}); err == nil || !strings.Contains(err.Error(), "must be a float") {
		t.Fatalf("wrong attribute type: got %v", err)
	}
	// A plugin_version nobody registered: no plugin, so the op is unsupported.
	ver := &onnxpb.AttributeProto{Name: proto.String("plugin_version"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("7")}
	if _, err := ImportBytes(swishModel(floatAttr("beta", 1), ver), Options{}); !errors.Is(err, diag.UnsupportedNode) {
		t.Fatalf("unregistered version: got %v", err)
	}
}
