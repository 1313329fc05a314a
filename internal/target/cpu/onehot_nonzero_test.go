package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestOneHotHandWorked(t *testing.T) {
	// indices [1, -1, 3, -4] with depth 3: -1 is 2; 3 and -4 are out of
	// range and give all-off vectors.
	cases := []struct {
		axis  int
		shape []int64
		want  []float64
	}{
		{-1, []int64{4, 3}, []float64{0, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0}},
		{0, []int64{3, 4}, []float64{0, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0, 0}},
	}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.Int32} {
		for _, c := range cases {
			net := dsl.NewNetwork()
			ind := net.AddInput("ind", tensor.Int32, dsl.Dims{-1})
			vals := net.AddInput("vals", dt, dsl.Dims{2})
			depth := net.AddInput("depth", tensor.Int64, dsl.Dims{})
			l := net.AddOneHot(ind, vals, depth, c.axis)
			net.MarkOutput(l.Output(0))
			it, _ := tensor.FromInt32([]int64{4}, []int32{1, -1, 3, -4})
			dv, _ := tensor.FromInt64(nil, []int64{3})
			got := runNet(t, net, map[string]*tensor.Tensor{
				"ind": it, "vals": mustTensor(t, dt, []int64{2}, []float64{0, 5}), "depth": dv,
			})[l.Output(0).Name()]
			checkClose(t, got, c.shape, c.want, 1)
		}
	}
}

func TestNonZeroHandWorked(t *testing.T) {
	cases := []struct {
		name  string
		dt    tensor.DataType
		shape []int64
		in    []float64
		want  []float64
		wantS []int64
	}{
		{"float", tensor.Float32, []int64{2, 3}, []float64{0, 1, 0, 2, 0, -3}, []float64{0, 1, 1, 1, 0, 2}, []int64{2, 3}},
		{"bool", tensor.Bool, []int64{4}, []float64{1, 0, 0, 1}, []float64{0, 3}, []int64{1, 2}},
		{"int32", tensor.Int32, []int64{2, 2}, []float64{0, 0, 0, 0}, nil, []int64{2, 0}},
		{"empty", tensor.Float16, []int64{0, 3}, nil, nil, []int64{2, 0}},
		{"scalar", tensor.Float32, []int64{}, []float64{4}, nil, []int64{0, 1}},
	}
	for _, c := range cases {
		for _, it := range []tensor.DataType{tensor.Int64, tensor.Int32} {
			t.Run(c.name+"/"+it.String(), func(t *testing.T) {
				net := dsl.NewNetwork()
				dyn := make(dsl.Dims, len(c.shape))
				for i := range dyn {
					dyn[i] = -1
				}
				in := net.AddInput("x", c.dt, dyn)
				l := net.AddNonZero(in)
				l.SetIndicesType(it)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, c.dt, c.shape, c.in)})[l.Output(0).Name()]
				if got.DType() != it {
					t.Fatalf("type %v, want %v", got.DType(), it)
				}
				checkClose(t, got, c.wantS, c.want, 1)
			})
		}
	}
}
