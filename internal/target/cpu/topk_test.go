package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// topkNaive picks, k times, the best element not yet taken (strictly
// better wins, so ties go to the lower index).
func topkNaive(row []float64, k int, max bool) (vals []float64, idx []float64) {
	taken := make([]bool, len(row))
	for range k {
		best := -1
		for j, v := range row {
			if taken[j] {
				continue
			}
			if best < 0 || (max && v > row[best]) || (!max && v < row[best]) {
				best = j
			}
		}
		taken[best] = true
		vals = append(vals, row[best])
		idx = append(idx, float64(best))
	}
	return vals, idx
}

func TestTopKAlongMiddleAxis(t *testing.T) {
	const A, N, B, K = 2, 7, 3, 4
	rng := newRNG(50)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int32, tensor.Int64} {
		x, xv := randTensor(t, rng, dt, A, N, B) // integer values repeat, exercising ties
		for _, op := range dsl.AllTopKOperations() {
			for _, it := range []tensor.DataType{tensor.Int32, tensor.Int64} {
				net := dsl.NewNetwork()
				l := net.AddTopK(net.AddInput("x", dt, dsl.Dims{-1, N, B}), op, K, 0b010)
				l.SetIndicesType(it)
				net.MarkOutput(l.Output(0))
				net.MarkOutput(l.Output(1))
				out := runNet(t, net, map[string]*tensor.Tensor{"x": x})
				wantV := make([]float64, A*K*B)
				wantI := make([]float64, A*K*B)
				for a := 0; a < A; a++ {
					for b := 0; b < B; b++ {
						row := make([]float64, N)
						for j := range row {
							row[j] = xv[(a*N+j)*B+b]
						}
						v, i := topkNaive(row, K, op == dsl.TopKMax)
						for j := 0; j < K; j++ {
							wantV[(a*K+j)*B+b] = v[j]
							wantI[(a*K+j)*B+b] = i[j]
						}
					}
				}
				t.Run(dt.String()+"/"+op.String()+"/"+it.String(), func(t *testing.T) {
					checkClose(t, out[l.Output(0).Name()], []int64{A, K, B}, wantV, 1)
					got := out[l.Output(1).Name()]
					if got.DType() != it {
						t.Fatalf("indices type %v", got.DType())
					}
					checkClose(t, got, []int64{A, K, B}, wantI, 1)
				})
			}
		}
	}
}

func TestTopKTiesLowerIndexFirst(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddTopK(net.AddInput("x", tensor.Float32, dsl.Dims{6}), dsl.TopKMax, 3, 1)
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	out := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{6}, []float64{1, 5, 2, 5, 5, 0})})
	checkClose(t, out[l.Output(0).Name()], []int64{3}, []float64{5, 5, 5}, 1)
	checkClose(t, out[l.Output(1).Name()], []int64{3}, []float64{1, 3, 4}, 1)
}

func TestTopKDynamicK(t *testing.T) {
	rng := newRNG(51)
	x, xv := randTensor(t, rng, tensor.Float32, 2, 5)
	build := func() (*dsl.Network, *dsl.TopKLayer) {
		net := dsl.NewNetwork()
		l := net.AddTopK(net.AddInput("x", tensor.Float32, dsl.Dims{2, 5}), dsl.TopKMin, 1, 0b10)
		l.SetInput(1, net.AddInput("k", tensor.Int32, dsl.Dims{}))
		net.MarkOutput(l.Output(0))
		net.MarkOutput(l.Output(1))
		return net, l
	}
	net, l := build()
	k := mustTensor(t, tensor.Int32, []int64{}, []float64{2})
	out := runNet(t, net, map[string]*tensor.Tensor{"x": x, "k": k})
	var want []float64
	for r := 0; r < 2; r++ {
		v, _ := topkNaive(xv[r*5:(r+1)*5], 2, false)
		want = append(want, v...)
	}
	checkClose(t, out[l.Output(0).Name()], []int64{2, 2}, want, 1)

	for _, bad := range []float64{0, 6} {
		net, _ := build()
		err := runErr(net, map[string]*tensor.Tensor{"x": x, "k": mustTensor(t, tensor.Int32, []int64{}, []float64{bad})})
		if !errors.Is(err, diag.OutOfRange) {
			t.Fatalf("k=%g: want OutOfRange, got %v", bad, err)
		}
	}
}

func TestTopKRuntimeAxisTooShort(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddTopK(net.AddInput("x", tensor.Float32, dsl.Dims{-1}), dsl.TopKMax, 3, 1)
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	x, _ := randTensor(t, newRNG(52), tensor.Float32, 2)
	if err := runErr(net, map[string]*tensor.Tensor{"x": x}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("want OutOfRange, got %v", err)
	}
}

func TestTopKEmptyOuter(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddTopK(net.AddInput("x", tensor.Float32, dsl.Dims{-1, 5}), dsl.TopKMax, 2, 0b10)
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	out := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 5)})
	checkClose(t, out[l.Output(0).Name()], []int64{0, 2}, nil, 1)
	checkClose(t, out[l.Output(1).Name()], []int64{0, 2}, nil, 1)
}

func TestTopKNaNRanksLargest(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{4}, []float64{1, math.NaN(), 3, -2})
	cases := []struct {
		op         dsl.TopKOperation
		vals, idxs []float64
	}{
		{dsl.TopKMax, []float64{math.NaN(), 3}, []float64{1, 2}},
		{dsl.TopKMin, []float64{-2, 1}, []float64{3, 0}},
	}
	for _, c := range cases {
		net := dsl.NewNetwork()
		l := net.AddTopK(net.AddInput("x", tensor.Float32, dsl.Dims{4}), c.op, 2, 1)
		net.MarkOutput(l.Output(0))
		net.MarkOutput(l.Output(1))
		out := runNet(t, net, map[string]*tensor.Tensor{"x": x})
		checkClose(t, out[l.Output(0).Name()], []int64{2}, c.vals, 1)
		checkClose(t, out[l.Output(1).Name()], []int64{2}, c.idxs, 1)
	}
}
