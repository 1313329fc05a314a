package onnx

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

func ctlInts(t *testing.T, dt tensor.DataType, shape []int64, v ...int64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromInt64s(dt, shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// ctlOneNode is a graph of one node whose inputs are initializers.
func ctlOneNode(n *onnxpb.NodeProto, inits ...*onnxpb.TensorProto) *onnxpb.GraphProto {
	g := &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{n}, Initializer: inits}
	for _, o := range n.Output {
		g.Output = append(g.Output, vinfo(o, onnxpb.TensorProto_FLOAT))
	}
	return g
}

func TestQuantizeLinearInt8PerAxisNegative(t *testing.T) {
	xs := []float32{-3.3, 0.26, 1.5, 2.5, -250, 7, 100, -100, 0.74, -0.74, 3, 9}
	scale := []float32{0.5, 0.25, 2}
	zp := []int64{1, -3, 0}
	g := ctlOneNode(ctlNode("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, ctlAttrInt("axis", -2)),
		ctlInit(ctlF32T(t, []int64{2, 3, 2}, xs...), "x"), ctlInit(ctlF32T(t, []int64{3}, scale...), "s"),
		ctlInit(ctlInts(t, tensor.Int8, []int64{3}, zp...), "z"))
	out := ctlRun(t, g, 13, nil)
	want := make([]float64, 12)
	for i := range want {
		ch := (i / 2) % 3
		v := math.RoundToEven(float64(xs[i])/float64(scale[ch])) + float64(zp[ch])
		want[i] = math.Max(-128, math.Min(127, v))
	}
	if out["y"].DType() != tensor.Int8 {
		t.Fatalf("y is %v, want Int8", out["y"].DType())
	}
	ctlCheck(t, "y", out["y"], []int64{2, 3, 2}, want, tensor.Int8, 1)
}

func TestQuantizeLinearFP8Saturation(t *testing.T) {
	xs := []float32{1000, 450, -500, 3, 465}
	for _, sat := range []int64{1, 0} {
		g := ctlOneNode(ctlNode("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, ctlAttrInt("saturate", sat)),
			ctlInit(ctlF32T(t, []int64{5}, xs...), "x"), ctlInit(ctlF32T(t, []int64{}, 1), "s"),
			ctlInit(tensor.New(tensor.FP8E4M3), "z"))
		out := ctlRun(t, g, 19, nil)
		want := []float64{448, 448, -448, 3, 448}
		if sat == 0 { // beyond 464 (where rounding passes 448) is NaN
			want = []float64{math.NaN(), 448, math.NaN(), 3, math.NaN()}
		}
		ctlCheck(t, "y", out["y"], []int64{5}, want, tensor.FP8E4M3, 1)
	}
}

func TestQuantizeLinearInt16OutputDtype(t *testing.T) {
	xs := []float32{1e6, -1e6, 1234.5, -7.5}
	g := ctlOneNode(ctlNode("QuantizeLinear", []string{"x", "s"}, []string{"y"}, ctlAttrInt("output_dtype", int64(onnxpb.TensorProto_INT16))),
		ctlInit(ctlF32T(t, []int64{4}, xs...), "x"), ctlInit(ctlF32T(t, []int64{}, 1), "s"))
	out := ctlRun(t, g, 21, nil)
	ctlCheck(t, "y", out["y"], []int64{4}, []float64{32767, -32768, 1234, -8}, tensor.Int32, 1)
}

func TestDequantizeLinearBlocked(t *testing.T) {
	xs := []int64{-128, 5, 127, 0, 3, -3, 90, 10}
	scale := []float32{0.5, 2, 0.125, 4}
	zp := []int64{1, -2, 0, 7}
	g := ctlOneNode(ctlNode("DequantizeLinear", []string{"x", "s", "z"}, []string{"y"}, ctlAttrInt("axis", 1), ctlAttrInt("block_size", 2)),
		ctlInit(ctlInts(t, tensor.Int8, []int64{2, 4}, xs...), "x"), ctlInit(ctlF32T(t, []int64{2, 2}, scale...), "s"),
		ctlInit(ctlInts(t, tensor.Int8, []int64{2, 2}, zp...), "z"))
	out := ctlRun(t, g, 21, nil)
	want := make([]float64, 8)
	for i := range want {
		r, col := i/4, i%4
		k := r*2 + col/2
		want[i] = float64(xs[i]-zp[k]) * float64(scale[k])
	}
	ctlCheck(t, "y", out["y"], []int64{2, 4}, want, tensor.Float32, 1)
}

func TestDequantizeLinearAxisOutOfRange(t *testing.T) {
	g := ctlOneNode(ctlNode("DequantizeLinear", []string{"x", "s"}, []string{"y"}, ctlAttrInt("axis", 2)),
		ctlInit(ctlInts(t, tensor.Int8, []int64{2, 2}, 1, 2, 3, 4), "x"), ctlInit(ctlF32T(t, []int64{2}, 1, 2), "s"))
	g.Input = []*onnxpb.ValueInfoProto{} // keep x an initializer; the import itself fails
	_, err := ImportBytes(ctlModel(t, g, 13), Options{})
	if !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "axis=2") {
		t.Fatalf("got %v, want UnsupportedAttr naming axis=2", err)
	}
}

func TestMatMulIntegerPerRowAndColumnZeroPoints(t *testing.T) {
	a := []int64{200, 3, 17, 0, 255, 64}
	b := []int64{1, 250, 30, 7, 128, 9}
	az, bz := []int64{12, 100}, []int64{5, 130}
	g := ctlOneNode(ctlNode("MatMulInteger", []string{"a", "b", "az", "bz"}, []string{"y"}),
		ctlInit(ctlInts(t, tensor.UInt8, []int64{2, 3}, a...), "a"), ctlInit(ctlInts(t, tensor.UInt8, []int64{3, 2}, b...), "b"),
		ctlInit(ctlInts(t, tensor.UInt8, []int64{2}, az...), "az"), ctlInit(ctlInts(t, tensor.UInt8, []int64{2}, bz...), "bz"))
	out := ctlRun(t, g, 10, nil)
	want := make([]float64, 4)
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			var s int64
			for k := 0; k < 3; k++ {
				s += (a[i*3+k] - az[i]) * (b[k*2+j] - bz[j])
			}
			want[i*2+j] = float64(s)
		}
	}
	if out["y"].DType() != tensor.Int32 {
		t.Fatalf("y is %v, want Int32", out["y"].DType())
	}
	ctlCheck(t, "y", out["y"], []int64{2, 2}, want, tensor.Int32, 1)
}

func TestQLinearConvPerChannelBiasPadsStrides(t *testing.T) {
	const C, M, Hin, K, S, P = 2, 2, 3, 2, 2, 1
	xs := []int64{10, 200, 3, 77, 128, 255, 0, 91, 40, 5, 6, 7, 250, 13, 100, 60, 33, 1}
	ws := []int64{-3, 5, 7, -128, 127, 2, -1, 0, 4, -6, 9, 11, -20, 30, 1, -2}
	bias := []int64{-700, 1500}
	xScale, xZp := float32(0.5), int64(3)
	wScale, wZp := []float32{0.1, 0.2}, []int64{0, 2}
	yScale, yZp := float32(0.3), int64(-5)
	si, _ := tensor.FromInt32([]int64{M}, []int32{int32(bias[0]), int32(bias[1])})
	g := ctlOneNode(ctlNode("QLinearConv", []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, []string{"y"},
		ctlAttrInts("pads", P, P, P, P), ctlAttrInts("strides", S, S)),
		ctlInit(ctlInts(t, tensor.UInt8, []int64{1, C, Hin, Hin}, xs...), "x"), ctlInit(ctlF32T(t, []int64{}, xScale), "xs"),
		ctlInit(ctlInts(t, tensor.UInt8, []int64{}, xZp), "xz"),
		ctlInit(ctlInts(t, tensor.Int8, []int64{M, C, K, K}, ws...), "w"), ctlInit(ctlF32T(t, []int64{M}, wScale...), "ws"),
		ctlInit(ctlInts(t, tensor.Int8, []int64{M}, wZp...), "wz"),
		ctlInit(ctlF32T(t, []int64{}, yScale), "ys"), ctlInit(ctlInts(t, tensor.Int8, []int64{}, yZp), "yz"), ctlInit(si, "b"))
	out := ctlRun(t, g, 10, nil)
	const O = (Hin+2*P-K)/S + 1
	want := make([]float64, M*O*O)
	for m := 0; m < M; m++ {
		for oy := 0; oy < O; oy++ {
			for ox := 0; ox < O; ox++ {
				acc := bias[m]
				for c := 0; c < C; c++ {
					for ky := 0; ky < K; ky++ {
						for kx := 0; kx < K; kx++ {
							iy, ix := oy*S-P+ky, ox*S-P+kx
							if iy < 0 || iy >= Hin || ix < 0 || ix >= Hin {
								continue // padding is zero after the zero point is removed
							}
							acc += (xs[(c*Hin+iy)*Hin+ix] - xZp) * (ws[((m*C+c)*K+ky)*K+kx] - wZp[m])
						}
					}
				}
				mult := float64(float32(float32(xScale*wScale[m]) / yScale))
				v := math.RoundToEven(float64(float32(float64(acc)*mult))) + float64(yZp)
				want[(m*O+oy)*O+ox] = math.Max(-128, math.Min(127, v))
			}
		}
	}
	if out["y"].DType() != tensor.Int8 {
		t.Fatalf("y is %v, want Int8", out["y"].DType())
	}
	ctlCheck(t, "y", out["y"], []int64{1, M, O, O}, want, tensor.Int8, 1)
}

func TestQLinearMatMulFP8(t *testing.T) {
	fp8 := func(shape []int64, v ...float32) *tensor.Tensor {
		x, err := tensor.FromFloat32s(tensor.FP8E4M3, shape, v)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	one := ctlF32T(t, []int64{}, 1)
	g := ctlOneNode(ctlNode("QLinearMatMul", []string{"a", "s", "z", "b", "s", "z", "ys", "z"}, []string{"y"}),
		ctlInit(fp8([]int64{2, 2}, 1, 2, 0.5, -1), "a"), ctlInit(fp8([]int64{2, 2}, 2, 0.5, 1, 4), "b"),
		ctlInit(one, "s"), ctlInit(fp8([]int64{}, 0), "z"), ctlInit(ctlF32T(t, []int64{}, 0.5), "ys"))
	out := ctlRun(t, g, 21, nil)
	if out["y"].DType() != tensor.FP8E4M3 {
		t.Fatalf("y is %v, want FP8E4M3", out["y"].DType())
	}
	// (a·b)/0.5, within float8's precision.
	ctlCheck(t, "y", out["y"], []int64{2, 2}, []float64{8, 17, 0, -7.5}, tensor.FP8E4M3, 1)
}
