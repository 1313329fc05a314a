package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// einsumCase runs one equation on random inputs and compares with want,
// which computes the expected output from the inputs' values with loops
// written for that equation.
type einsumCase struct {
	eq     string
	shapes [][]int64
	out    []int64
	k      int // terms per output element, for the tolerance
	want   func(v [][]float64) []float64
}

var einsumCases = []einsumCase{
	{"ik,kj->ij", [][]int64{{2, 3}, {3, 4}}, []int64{2, 4}, 3, func(v [][]float64) []float64 {
		return matmulNaive(1, 2, 4, 3, func(_, i, p int) float64 { return v[0][i*3+p] }, func(_, p, j int) float64 { return v[1][p*4+j] })
	}},
	{"bik,bkj->jbi", [][]int64{{2, 3, 4}, {2, 4, 5}}, []int64{5, 2, 3}, 4, func(v [][]float64) []float64 {
		var out []float64
		for j := 0; j < 5; j++ {
			for b := 0; b < 2; b++ {
				for i := 0; i < 3; i++ {
					s := 0.0
					for k := 0; k < 4; k++ {
						s += v[0][(b*3+i)*4+k] * v[1][(b*4+k)*5+j]
					}
					out = append(out, s)
				}
			}
		}
		return out
	}},
	{"i,j->ij", [][]int64{{3}, {4}}, []int64{3, 4}, 1, func(v [][]float64) []float64 {
		var out []float64
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				out = append(out, v[0][i]*v[1][j])
			}
		}
		return out
	}},
	{"ij->ji", [][]int64{{2, 3}}, []int64{3, 2}, 1, func(v [][]float64) []float64 {
		var out []float64
		for j := 0; j < 3; j++ {
			for i := 0; i < 2; i++ {
				out = append(out, v[0][i*3+j])
			}
		}
		return out
	}},
	{"ii", [][]int64{{4, 4}}, []int64{}, 4, func(v [][]float64) []float64 {
		s := 0.0
		for i := 0; i < 4; i++ {
			s += v[0][i*4+i]
		}
		return []float64{s}
	}},
	{"...ii->...i", [][]int64{{2, 3, 3}}, []int64{2, 3}, 1, func(v [][]float64) []float64 {
		var out []float64
		for b := 0; b < 2; b++ {
			for i := 0; i < 3; i++ {
				out = append(out, v[0][(b*3+i)*3+i])
			}
		}
		return out
	}},
	{"ij->", [][]int64{{3, 5}}, []int64{}, 15, func(v [][]float64) []float64 {
		s := 0.0
		for _, x := range v[0] {
			s += x
		}
		return []float64{s}
	}},
	{"ij,j", [][]int64{{3, 5}, {5}}, []int64{3}, 5, func(v [][]float64) []float64 { // implicit: i
		var out []float64
		for i := 0; i < 3; i++ {
			s := 0.0
			for j := 0; j < 5; j++ {
				s += v[0][i*5+j] * v[1][j]
			}
			out = append(out, s)
		}
		return out
	}},
	{"ij,j->", [][]int64{{3, 5}, {5}}, []int64{}, 15, func(v [][]float64) []float64 { // i summed within A alone
		s := 0.0
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				s += v[0][i*5+j] * v[1][j]
			}
		}
		return []float64{s}
	}},
	{"ij,jk,kl->il", [][]int64{{2, 3}, {3, 4}, {4, 2}}, []int64{2, 2}, 12, func(v [][]float64) []float64 {
		var out []float64
		for i := 0; i < 2; i++ {
			for l := 0; l < 2; l++ {
				s := 0.0
				for j := 0; j < 3; j++ {
					for k := 0; k < 4; k++ {
						s += v[0][i*3+j] * v[1][j*4+k] * v[2][k*2+l]
					}
				}
				out = append(out, s)
			}
		}
		return out
	}},
	{"ij,ij->ij", [][]int64{{1, 3}, {4, 3}}, []int64{4, 3}, 1, func(v [][]float64) []float64 { // broadcast
		var out []float64
		for i := 0; i < 4; i++ {
			for j := 0; j < 3; j++ {
				out = append(out, v[0][j]*v[1][i*3+j])
			}
		}
		return out
	}},
	{"...ij,...jk", [][]int64{{2, 2, 3}, {3, 2}}, []int64{2, 2, 2}, 3, func(v [][]float64) []float64 { // ellipsis broadcast
		var out []float64
		for b := 0; b < 2; b++ {
			for i := 0; i < 2; i++ {
				for k := 0; k < 2; k++ {
					s := 0.0
					for j := 0; j < 3; j++ {
						s += v[0][(b*2+i)*3+j] * v[1][j*2+k]
					}
					out = append(out, s)
				}
			}
		}
		return out
	}},
	{"ik,kj->ij", [][]int64{{2, 0}, {0, 3}}, []int64{2, 3}, 1, func(v [][]float64) []float64 { return make([]float64, 6) }},
	{"ij,jk->ik", [][]int64{{0, 3}, {3, 2}}, []int64{0, 2}, 1, func(v [][]float64) []float64 { return nil }},
	{"ij->", [][]int64{{0, 3}}, []int64{}, 1, func(v [][]float64) []float64 { return []float64{0} }},
}

func TestEinsum(t *testing.T) {
	rng := newRNG(70)
	for _, c := range einsumCases {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
			t.Run(c.eq+"/"+dt.String(), func(t *testing.T) {
				net := dsl.NewNetwork()
				var ins []*dsl.Tensor
				feed := map[string]*tensor.Tensor{}
				var vals [][]float64
				for i, s := range c.shapes {
					name := string(rune('a' + i))
					d := dsl.Dims(append([]int64{}, s...))
					if len(d) > 0 {
						d[0] = -1 // dynamic leading dim
					}
					ins = append(ins, net.AddInput(name, dt, d))
					x, xv := randTensor(t, rng, dt, s...)
					feed[name] = x
					vals = append(vals, xv)
				}
				l := net.AddEinsum(ins, c.eq)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, feed)[l.Output(0).Name()]
				if got.DType() != tensor.Float32 {
					t.Fatalf("output type %v, want float32", got.DType())
				}
				checkClose(t, got, c.out, c.want(vals), c.k)
			})
		}
	}
}

func TestEinsumGemmRouting(t *testing.T) {
	for eq, gemm := range map[string]bool{"bik,bkj->jbi": true, "i,j->ij": true, "ij,j->": false, "ii,i->i": false, "ij,jk,kl->il": false} {
		var shapes []dsl.Dims
		switch eq {
		case "bik,bkj->jbi":
			shapes = []dsl.Dims{{2, 3, 4}, {2, 4, 5}}
		case "i,j->ij":
			shapes = []dsl.Dims{{3}, {4}}
		case "ij,j->":
			shapes = []dsl.Dims{{3, 5}, {5}}
		case "ii,i->i":
			shapes = []dsl.Dims{{3, 3}, {3}}
		default:
			shapes = []dsl.Dims{{2, 3}, {3, 4}, {4, 2}}
		}
		ranks := make([]int, len(shapes))
		vals := make([][]float32, len(shapes))
		for i, s := range shapes {
			ranks[i] = len(s)
			vals[i] = make([]float32, s.Volume())
		}
		spec, err := dsl.ParseEinsum(eq, ranks)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := dsl.EinsumLabelSizes(spec, shapes)
		if _, ok := einsumAsGemm(spec, size, shapes, vals); ok != gemm {
			t.Errorf("%q: gemm path %v, want %v", eq, ok, gemm)
		}
	}
}

func TestEinsumRuntimeSizeMismatch(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddEinsum([]*dsl.Tensor{net.AddInput("a", tensor.Float32, dsl.Dims{2, 3}), net.AddInput("b", tensor.Float32, dsl.Dims{-1, 4})}, "ij,jk->ik")
	net.MarkOutput(l.Output(0))
	a, _ := randTensor(t, newRNG(71), tensor.Float32, 2, 3)
	b, _ := randTensor(t, newRNG(72), tensor.Float32, 5, 4)
	if err := runErr(net, map[string]*tensor.Tensor{"a": a, "b": b}); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("want ShapeMismatch, got %v", err)
	}
}
