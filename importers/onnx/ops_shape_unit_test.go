package onnx_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// Behaviour of the shape importers that the backend test data does not
// cover: attribute forms of old opsets, reductions other than add/mul,
// uneven splits, and errors.

type shIn struct {
	name string
	t    *tensor.Tensor
	init bool     // an initializer instead of a graph input
	dims dsl.Dims // graph-input dims (default: the tensor's)
}

func shAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func shAttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func shAttrStr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func shAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// shRun builds a one-node model, imports it and runs it on the CPU.
func shRun(t *testing.T, opset int64, op string, attrs []*onnxpb.AttributeProto, ins []shIn, nOut int) ([]*tensor.Tensor, error) {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("g")}
	node := &onnxpb.NodeProto{OpType: proto.String(op), Attribute: attrs}
	feeds := map[string]*tensor.Tensor{}
	for _, in := range ins {
		node.Input = append(node.Input, in.name)
		if in.name == "" {
			continue
		}
		if in.init {
			g.Initializer = append(g.Initializer, onnx.TensorToProto(in.t, in.name))
			continue
		}
		code, _ := onnx.DataTypeToProto(in.t.DType())
		dims := in.dims
		if dims == nil {
			dims = in.t.Shape()
		}
		shp := &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			if d < 0 {
				shp.Dim = append(shp.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "n"}})
			} else {
				shp.Dim = append(shp.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
			}
		}
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(in.name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(code), Shape: shp}}}})
		feeds[in.name] = in.t
	}
	for i := 0; i < nOut; i++ {
		name := "y" + string(rune('0'+i))
		node.Output = append(node.Output, name)
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(name)})
	}
	g.Node = []*onnxpb.NodeProto{node}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	net, err := onnx.ImportBytes(data, onnx.Options{})
	if err != nil {
		return nil, err
	}
	res, err := cpu.Run(net, feeds)
	if err != nil {
		return nil, err
	}
	outs := make([]*tensor.Tensor, nOut)
	for i, o := range net.Outputs() {
		outs[i] = res[o.Name()]
	}
	return outs, nil
}

func shF32(t *testing.T, shape []int64, v ...float32) *tensor.Tensor {
	x, err := tensor.FromFloat32(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func shInt64(t *testing.T, shape []int64, v ...int64) *tensor.Tensor {
	x, err := tensor.FromInt64(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// shWant checks shape and values exactly (the ops only move data).
func shWant(t *testing.T, what string, got *tensor.Tensor, shape []int64, vals []float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no output", what)
	}
	if !shEqualShape(got.Shape(), shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	g := got.Float64s()
	for i := range vals {
		if g[i] != vals[i] {
			t.Fatalf("%s: got %v, want %v", what, g, vals)
		}
	}
}

func shEqualShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShapeOpsOldOpsetAttributes(t *testing.T) {
	x := shF32(t, []int64{3, 4}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	// Slice-1: attributes; INT_MAX end, negative start.
	out, err := shRun(t, 9, "Slice", []*onnxpb.AttributeProto{
		shAttrInts("starts", 1, -3), shAttrInts("ends", math.MaxInt64, 3), shAttrInts("axes", 0, 1)},
		[]shIn{{name: "x", t: x}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Slice-1", out[0], []int64{2, 2}, []float64{6, 7, 10, 11})

	// Pad-2: pads and value attributes.
	out, err = shRun(t, 2, "Pad", []*onnxpb.AttributeProto{shAttrInts("pads", 0, 1, 0, -2), shAttrFloat("value", 7)},
		[]shIn{{name: "x", t: x}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Pad-2", out[0], []int64{3, 3}, []float64{7, 1, 2, 7, 5, 6, 7, 9, 10})

	// Split-11: split attribute.
	out, err = shRun(t, 11, "Split", []*onnxpb.AttributeProto{shAttrInt("axis", 1), shAttrInts("split", 1, 3)},
		[]shIn{{name: "x", t: x}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Split-11 part 0", out[0], []int64{3, 1}, []float64{1, 5, 9})
	shWant(t, "Split-11 part 1", out[1], []int64{3, 3}, []float64{2, 3, 4, 6, 7, 8, 10, 11, 12})

	// Split-18: num_outputs with an uneven last part, on a dynamic axis too.
	v := shF32(t, []int64{7}, 1, 2, 3, 4, 5, 6, 7)
	for _, dims := range []dsl.Dims{nil, {-1}} {
		out, err = shRun(t, 18, "Split", []*onnxpb.AttributeProto{shAttrInt("num_outputs", 3)},
			[]shIn{{name: "x", t: v, dims: dims}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		shWant(t, "Split-18 part 0", out[0], []int64{3}, []float64{1, 2, 3})
		shWant(t, "Split-18 part 1", out[1], []int64{3}, []float64{4, 5, 6})
		shWant(t, "Split-18 part 2", out[2], []int64{1}, []float64{7})
	}

	// Squeeze-11 and Unsqueeze-11: axes attributes; Squeeze without axes.
	y := shF32(t, []int64{1, 3, 1}, 1, 2, 3)
	out, err = shRun(t, 11, "Squeeze", []*onnxpb.AttributeProto{shAttrInts("axes", -1)}, []shIn{{name: "x", t: y}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Squeeze-11", out[0], []int64{1, 3}, []float64{1, 2, 3})
	out, err = shRun(t, 13, "Squeeze", nil, []shIn{{name: "x", t: y}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Squeeze without axes", out[0], []int64{3}, []float64{1, 2, 3})
	out, err = shRun(t, 11, "Unsqueeze", []*onnxpb.AttributeProto{shAttrInts("axes", 0, -1)}, []shIn{{name: "x", t: y}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Unsqueeze-11", out[0], []int64{1, 1, 3, 1, 1}, []float64{1, 2, 3})
}

func TestShapeOpsReshapeDynamic(t *testing.T) {
	// A constant shape with 0 and -1 on an input whose batch is dynamic.
	x := shF32(t, []int64{2, 3, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	out, err := shRun(t, 14, "Reshape", nil, []shIn{{name: "x", t: x, dims: dsl.Dims{-1, 3, 2}},
		{name: "s", t: shInt64(t, []int64{2}, 0, -1), init: true}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Reshape", out[0], []int64{2, 6}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	// Flatten with a dynamic dim before the axis.
	out, err = shRun(t, 13, "Flatten", []*onnxpb.AttributeProto{shAttrInt("axis", -1)}, []shIn{{name: "x", t: x, dims: dsl.Dims{-1, 3, -1}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	shWant(t, "Flatten", out[0], []int64{6, 2}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
}

func TestShapeOpsScatterReductions(t *testing.T) {
	data := []float32{1, 2, 3, 4, 5, 6}
	idx := []int64{1, 1, -1, 0}
	upd := []float32{10, -3, 7, 0.5}
	for _, red := range []string{"add", "mul", "max", "min"} {
		// Naive reference: ScatterElements along axis 1 of [2, 3] with
		// indices/updates [2, 2].
		want := make([]float64, len(data))
		for i, v := range data {
			want[i] = float64(v)
		}
		for r := 0; r < 2; r++ {
			for k := 0; k < 2; k++ {
				j := idx[r*2+k]
				if j < 0 {
					j += 3
				}
				p, u := r*3+int(j), float64(upd[r*2+k])
				switch red {
				case "add":
					want[p] += u
				case "mul":
					want[p] *= u
				case "max":
					want[p] = math.Max(want[p], u)
				case "min":
					want[p] = math.Min(want[p], u)
				}
			}
		}
		out, err := shRun(t, 18, "ScatterElements", []*onnxpb.AttributeProto{shAttrInt("axis", 1), shAttrStr("reduction", red)},
			[]shIn{{name: "d", t: shF32(t, []int64{2, 3}, data...)}, {name: "i", t: shInt64(t, []int64{2, 2}, idx...)},
				{name: "u", t: shF32(t, []int64{2, 2}, upd...)}}, 1)
		if err != nil {
			t.Fatalf("ScatterElements %s: %v", red, err)
		}
		shWant(t, "ScatterElements "+red, out[0], []int64{2, 3}, want)

		// ScatterND on rows of [3, 2] with a repeated row.
		rows := []int64{2, 0, 2}
		u := []float32{1, 2, 3, 4, -5, 6}
		want = []float64{1, 2, 3, 4, 5, 6}
		for n, row := range rows {
			for c := 0; c < 2; c++ {
				p, v := int(row)*2+c, float64(u[n*2+c])
				switch red {
				case "add":
					want[p] += v
				case "mul":
					want[p] *= v
				case "max":
					want[p] = math.Max(want[p], v)
				case "min":
					want[p] = math.Min(want[p], v)
				}
			}
		}
		out, err = shRun(t, 18, "ScatterND", []*onnxpb.AttributeProto{shAttrStr("reduction", red)},
			[]shIn{{name: "d", t: shF32(t, []int64{3, 2}, data...)}, {name: "i", t: shInt64(t, []int64{3, 1}, rows...)},
				{name: "u", t: shF32(t, []int64{3, 2}, u...)}}, 1)
		if err != nil {
			t.Fatalf("ScatterND %s: %v", red, err)
		}
		shWant(t, "ScatterND "+red, out[0], []int64{3, 2}, want)
	}
}

func TestShapeOpsErrors(t *testing.T) {
	x := shF32(t, []int64{2, 3}, 1, 2, 3, 4, 5, 6)
	cases := []struct {
		name  string
		opset int64
		op    string
		attrs []*onnxpb.AttributeProto
		ins   []shIn
		nOut  int
		code  diag.Code
		frag  string
	}{
		{"perm twice", 13, "Transpose", []*onnxpb.AttributeProto{shAttrInts("perm", 0, 0)}, []shIn{{name: "x", t: x}}, 1, diag.InvalidNode, "twice"},
		{"concat axis", 13, "Concat", nil, []shIn{{name: "x", t: x}, {name: "z", t: x}}, 1, diag.InvalidNode, "axis"},
		{"squeeze dynamic", 13, "Squeeze", nil, []shIn{{name: "x", t: x, dims: dsl.Dims{-1, 3}}}, 1, diag.UnsupportedAttr, "dynamic"},
		{"pad wrap old", 13, "Pad", []*onnxpb.AttributeProto{shAttrStr("mode", "wrap")},
			[]shIn{{name: "x", t: x}, {name: "p", t: shInt64(t, []int64{4}, 0, 0, 0, 0), init: true}}, 1, diag.UnsupportedAttr, "wrap"},
		{"split uneven", 13, "Split", []*onnxpb.AttributeProto{shAttrInt("axis", 1)}, []shIn{{name: "x", t: x}}, 2, diag.InvalidNode, "equal parts"},
		{"scatter reduction", 18, "ScatterElements", []*onnxpb.AttributeProto{shAttrStr("reduction", "avg")},
			[]shIn{{name: "x", t: x}, {name: "i", t: shInt64(t, []int64{1, 1}, 0)}, {name: "u", t: shF32(t, []int64{1, 1}, 1)}}, 1, diag.UnsupportedAttr, "avg"},
		{"reshape dynamic length", 14, "Reshape", nil, []shIn{{name: "x", t: x}, {name: "s", t: shInt64(t, []int64{2}, 3, 2), dims: dsl.Dims{-1}}}, 1, diag.UnsupportedAttr, "run time"},
		{"depthtospace mode", 13, "DepthToSpace", []*onnxpb.AttributeProto{shAttrInt("blocksize", 1), shAttrStr("mode", "XYZ")},
			[]shIn{{name: "x", t: shF32(t, []int64{1, 1, 1, 1}, 1)}}, 1, diag.UnsupportedAttr, "XYZ"},
		{"slice zero step", 13, "Slice", nil, []shIn{{name: "x", t: x}, {name: "s", t: shInt64(t, []int64{1}, 0), init: true},
			{name: "e", t: shInt64(t, []int64{1}, 1), init: true}, {name: "a", t: shInt64(t, []int64{1}, 0), init: true},
			{name: "st", t: shInt64(t, []int64{1}, 0), init: true}}, 1, diag.InvalidNode, "steps"},
		{"gather axis", 13, "Gather", []*onnxpb.AttributeProto{shAttrInt("axis", 2)}, []shIn{{name: "x", t: x}, {name: "i", t: shInt64(t, []int64{1}, 0)}}, 1, diag.InvalidNode, "axis 2"},
		{"missing input", 13, "Gather", nil, []shIn{{name: "x", t: x}}, 1, diag.InvalidNode, "missing"},
		{"cumsum axis at run time", 14, "CumSum", nil, []shIn{{name: "x", t: x}, {name: "a", t: shInt64(t, nil, 2)}}, 1, 0, "CumSum axis"},
	}
	for _, c := range cases {
		_, err := shRun(t, c.opset, c.op, c.attrs, c.ins, c.nOut)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if c.code != 0 && !errors.Is(err, c.code) {
			t.Errorf("%s: want %v, got %v", c.name, c.code, err)
		}
		if !strings.Contains(err.Error(), c.frag) {
			t.Errorf("%s: want %q in %v", c.name, c.frag, err)
		}
	}
}

// TestShapeOpsOddInputs feeds every shape importer odd inputs (scalars,
// empty tensors, wrong ranks, as constants and as graph inputs): each
// must import and run or fail with an error, never an internal one.
func TestShapeOpsOddInputs(t *testing.T) {
	ops := []string{"Shape", "Size", "Reshape", "Transpose", "Flatten", "Concat", "Squeeze", "Unsqueeze", "Slice", "Split",
		"Gather", "GatherElements", "GatherND", "ScatterElements", "Scatter", "ScatterND", "OneHot", "NonZero", "Compress",
		"Expand", "Tile", "ConstantOfShape", "Range", "Pad", "Trilu", "EyeLike", "DepthToSpace", "SpaceToDepth",
		"ReverseSequence", "CumSum", "Unique"}
	vals := []*tensor.Tensor{
		shF32(t, nil, 2),
		shF32(t, []int64{0, 3}),
		shInt64(t, []int64{2}, -1, 5),
		shInt64(t, nil, 1),
		shF32(t, []int64{1, 2, 1, 2}, 1, 2, 3, 4),
		shInt64(t, []int64{3}, 0, 1, -9),
	}
	attrSets := [][]*onnxpb.AttributeProto{nil,
		{shAttrInt("axis", -1), shAttrInts("perm", 1, 0), shAttrInt("blocksize", 2), shAttrInts("axes", 0), shAttrInt("upper", 0)},
		{shAttrInt("axis", 7), shAttrInts("starts", 9), shAttrInts("ends", -9), shAttrInts("pads", 1, -3), shAttrStr("mode", "reflect"),
			shAttrInt("batch_dims", 1), shAttrInt("num_outputs", 1), shAttrInt("dtype", 1)},
	}
	for _, op := range ops {
		for _, opset := range []int64{9, 13, 18} {
			for n := 1; n <= 3; n++ {
				for k := range vals {
					for _, init := range []bool{false, true} {
						ins := make([]shIn, n)
						for i := range ins {
							ins[i] = shIn{name: string(rune('a' + i)), t: vals[(k+i)%len(vals)], init: init && i > 0}
						}
						for ai, attrs := range attrSets {
							_, err := shRun(t, opset, op, attrs, ins, 1)
							if diag.CodeOf(err) == diag.Internal {
								t.Errorf("%s-%d with %d inputs (set %d, init %v, attrs %d): %v", op, opset, n, k, init, ai, err)
							}
						}
					}
				}
			}
		}
	}
}
