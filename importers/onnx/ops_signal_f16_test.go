package onnx

import (
	"math"
	"testing"

	"github.com/trtc/trtc/tensor"
)

// Float16 signals and reductions import and run, with results near the
// float64 values (within float16's precision).
func TestSignalReduceFloat16(t *testing.T) {
	vals := []float64{0.5, -1.25, 2, 0.75, -0.5, 1.5}
	x, _ := tensor.FromFloat64s(tensor.Float16, []int64{1, 6, 1}, vals)
	cases := []struct {
		op    string
		opset int64
		ins   []string
		extra []redIn
		want  func() []float64 // the float64 reference, flattened
	}{
		{"DFT", 17, []string{"x"}, nil, func() []float64 {
			var w []float64
			for k := 0; k < 6; k++ {
				var re, im float64
				for n, v := range vals {
					re += v * math.Cos(2*math.Pi*float64(n*k)/6)
					im -= v * math.Sin(2*math.Pi*float64(n*k)/6)
				}
				w = append(w, re, im)
			}
			return w
		}},
		{"ReduceLogSumExp", 13, []string{"x"}, nil, func() []float64 {
			s := 0.0
			for _, v := range vals {
				s += math.Exp(v)
			}
			return []float64{math.Log(s)}
		}},
	}
	for _, tc := range cases {
		ins := append([]redIn{{name: "x", dt: tensor.Float16, dims: []int64{1, 6, 1}}}, tc.extra...)
		out, err := redRun(t, tc.opset, redNode(tc.op, tc.ins, []string{"y"}), ins, map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		y := out["y"]
		if y.DType() != tensor.Float16 {
			t.Fatalf("%s: output %v, want Float16", tc.op, y.DType())
		}
		got, want := y.Float64s(), tc.want()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", tc.op, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 0.01*(1+math.Abs(want[i])) {
				t.Errorf("%s: value %d = %v, want %v", tc.op, i, got[i], want[i])
			}
		}
	}
}
