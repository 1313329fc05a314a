// Package model is the small network examples/plugin runs, written twice:
// in the Go DSL and as an ONNX model, both a projection followed by the
// SwiGLU plugin:
//
//	x [N, Width] -> MatMul W [Width, 2*Width] -> SwiGLU -> y [N, Width]
//
// genmodel writes the ONNX form to testdata/swiglu.onnx; the example's test
// checks that the committed file is what ONNX returns.
package model

import (
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/examples/plugin/swiglu"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// Width is the model's input and output width.
const Width = 8

// Beta is the SwiGLU attribute both forms set (1 would be the default).
const Beta = 1.5

// Weights is the projection, Width x 2*Width, deterministic.
func Weights() *tensor.Tensor {
	w := make([]float32, Width*2*Width)
	for i := range w {
		w[i] = float32(0.5 * math.Sin(float64(1+i)))
	}
	t, err := tensor.FromFloat32([]int64{Width, 2 * Width}, w)
	if err != nil {
		panic(err)
	}
	return t
}

// DSL builds the network with dsl.Network.AddPlugin.
func DSL() *dsl.Network {
	net := dsl.NewNetwork()
	net.SetName("swiglu-dsl")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, Width})
	w := net.AddConstant(dsl.Dims{Width, 2 * Width}, dsl.NewWeights(Weights())).Output(0)
	h := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)
	y := net.AddPlugin(swiglu.Name, []*dsl.Tensor{h}, map[string]any{"beta": Beta}).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

// ONNX returns the serialized ONNX model: a MatMul in the default domain
// and a SwiGLU node in the trtc.examples domain, which the importer hands
// to the plugin registry.
func ONNX() []byte {
	vinfo := func(name string, dims ...any) *onnxpb.ValueInfoProto {
		shape := &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			switch d := d.(type) {
			case string:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}
			case int:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}
			}
			shape.Dim = append(shape.Dim, dim)
		}
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
	}
	g := &onnxpb.GraphProto{
		Name: proto.String("swiglu-onnx"),
		Node: []*onnxpb.NodeProto{
			{OpType: proto.String("MatMul"), Name: proto.String("proj"), Input: []string{"x", "w"}, Output: []string{"h"}},
			{OpType: proto.String(swiglu.Name), Name: proto.String("swiglu"), Domain: proto.String(swiglu.Namespace),
				Input: []string{"h"}, Output: []string{"y"},
				Attribute: []*onnxpb.AttributeProto{
					{Name: proto.String("beta"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(Beta)},
					{Name: proto.String("plugin_version"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(swiglu.Version)},
				}},
		},
		Initializer: []*onnxpb.TensorProto{onnx.TensorToProto(Weights(), "w")},
		Input:       []*onnxpb.ValueInfoProto{vinfo("x", "N", Width)},
		Output:      []*onnxpb.ValueInfoProto{vinfo("y", "N", Width)},
	}
	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("trtc examples/plugin/genmodel"),
		Graph:        g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(17)},
			{Domain: proto.String(swiglu.Namespace), Version: proto.Int64(1)},
		},
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
