package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// matmulNaive is the triple loop: operand values are read through
// explicit index functions so transposes and vectors are spelled out.
// a(bt, i, p) and b(bt, p, j) read element (i,p) of A and (p,j) of B for
// output batch bt (a flat index into the broadcast batch).
func matmulNaive(nb, m, n, k int, a, b func(bt, i, p int) float64) []float64 {
	out := make([]float64, 0, nb*m*n)
	for bt := 0; bt < nb; bt++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					s += a(bt, i, p) * b(bt, p, j)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func TestMatrixMultiplyTransposeBroadcast(t *testing.T) {
	const B0, B1, M, N, K = 2, 3, 4, 5, 6
	rng := newRNG(10)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, oa := range []dsl.MatrixOperation{dsl.MatrixOpNone, dsl.MatrixOpTranspose} {
			for _, ob := range []dsl.MatrixOperation{dsl.MatrixOpNone, dsl.MatrixOpTranspose} {
				t.Run(dt.String()+"/"+oa.String()+"/"+ob.String(), func(t *testing.T) {
					// A has batch [B0,1], B has batch [1,B1]: both broadcast.
					sa := []int64{B0, 1, M, K}
					if oa == dsl.MatrixOpTranspose {
						sa = []int64{B0, 1, K, M}
					}
					sb := []int64{1, B1, K, N}
					if ob == dsl.MatrixOpTranspose {
						sb = []int64{1, B1, N, K}
					}
					a, av := randTensor(t, rng, dt, sa...)
					b, bv := randTensor(t, rng, dt, sb...)
					net := dsl.NewNetwork()
					ia := net.AddInput("a", dt, dsl.Dims{-1, 1, sa[2], sa[3]})
					ib := net.AddInput("b", dt, dsl.Dims{1, -1, sb[2], sb[3]})
					l := net.AddMatrixMultiply(ia, oa, ib, ob)
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
					want := matmulNaive(B0*B1, M, N, K,
						func(bt, i, p int) float64 {
							base := (bt / B1) * M * K
							if oa == dsl.MatrixOpTranspose {
								return av[base+p*M+i]
							}
							return av[base+i*K+p]
						},
						func(bt, p, j int) float64 {
							base := (bt % B1) * K * N
							if ob == dsl.MatrixOpTranspose {
								return bv[base+j*K+p]
							}
							return bv[base+p*N+j]
						})
					checkClose(t, got, []int64{B0, B1, M, N}, roundTo(dt, want), K)
				})
			}
		}
	}
}

func TestMatrixMultiplyVectors(t *testing.T) {
	const Z, M, K = 3, 4, 5
	rng := newRNG(11)
	a, av := randTensor(t, rng, tensor.Float32, Z, M, K) // matrices
	v, vv := randTensor(t, rng, tensor.Float32, Z, K)    // vectors
	cases := []struct {
		name      string
		x, y      string
		ox, oy    dsl.MatrixOperation
		wantShape []int64
		want      []float64
	}{
		{"matrix×vector", "a", "v", dsl.MatrixOpNone, dsl.MatrixOpVector, []int64{Z, M},
			matmulNaive(Z, M, 1, K, func(bt, i, p int) float64 { return av[bt*M*K+i*K+p] }, func(bt, p, _ int) float64 { return vv[bt*K+p] })},
		{"vector×matrixT", "v", "a", dsl.MatrixOpVector, dsl.MatrixOpTranspose, []int64{Z, M},
			matmulNaive(Z, 1, M, K, func(bt, _, p int) float64 { return vv[bt*K+p] }, func(bt, p, j int) float64 { return av[bt*M*K+j*K+p] })},
		{"vector×vector", "v", "v", dsl.MatrixOpVector, dsl.MatrixOpVector, []int64{Z},
			matmulNaive(Z, 1, 1, K, func(bt, _, p int) float64 { return vv[bt*K+p] }, func(bt, p, _ int) float64 { return vv[bt*K+p] })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := dsl.NewNetwork()
			shapes := map[string]dsl.Dims{"a": {Z, M, K}, "v": {Z, K}}
			vals := map[string]*tensor.Tensor{"a": a, "v": v}
			feed := map[string]*tensor.Tensor{}
			added := map[string]*dsl.Tensor{}
			input := func(name string) *dsl.Tensor { // only the inputs the case uses
				if added[name] == nil {
					feed[name] = vals[name]
					added[name] = net.AddInput(name, tensor.Float32, shapes[name])
				}
				return added[name]
			}
			x := input(c.x)
			l := net.AddMatrixMultiply(x, c.ox, input(c.y), c.oy)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, feed)[l.Output(0).Name()]
			checkClose(t, got, c.wantShape, c.want, K)
		})
	}
}

func TestMatrixMultiplyManySmallBatches(t *testing.T) {
	// Enough batches that the kernel runs them in parallel.
	const NB, M, N, K = 300, 3, 2, 4
	rng := newRNG(12)
	a, av := randTensor(t, rng, tensor.Float32, NB, M, K)
	b, bv := randTensor(t, rng, tensor.Float32, NB, K, N)
	net := dsl.NewNetwork()
	l := net.AddMatrixMultiply(net.AddInput("a", tensor.Float32, dsl.Dims{NB, M, K}), dsl.MatrixOpNone,
		net.AddInput("b", tensor.Float32, dsl.Dims{NB, K, N}), dsl.MatrixOpNone)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
	want := matmulNaive(NB, M, N, K, func(bt, i, p int) float64 { return av[bt*M*K+i*K+p] }, func(bt, p, j int) float64 { return bv[bt*K*N+p*N+j] })
	checkClose(t, got, []int64{NB, M, N}, want, K)
}

func TestMatrixMultiplyEmpty(t *testing.T) {
	// K = 0: every output is an empty sum, 0. Batch 0: no output at all.
	net := dsl.NewNetwork()
	l := net.AddMatrixMultiply(net.AddInput("a", tensor.Float32, dsl.Dims{2, 0}), dsl.MatrixOpNone,
		net.AddInput("b", tensor.Float32, dsl.Dims{0, 3}), dsl.MatrixOpNone)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"a": tensor.New(tensor.Float32, 2, 0), "b": tensor.New(tensor.Float32, 0, 3)})[l.Output(0).Name()]
	checkClose(t, got, []int64{2, 3}, make([]float64, 6), 1)

	net = dsl.NewNetwork()
	l = net.AddMatrixMultiply(net.AddInput("a", tensor.Float32, dsl.Dims{0, 2, 3}), dsl.MatrixOpNone,
		net.AddInput("b", tensor.Float32, dsl.Dims{1, 3, 4}), dsl.MatrixOpNone)
	net.MarkOutput(l.Output(0))
	b, _ := randTensor(t, newRNG(13), tensor.Float32, 1, 3, 4)
	got = runNet(t, net, map[string]*tensor.Tensor{"a": tensor.New(tensor.Float32, 0, 2, 3), "b": b})[l.Output(0).Name()]
	checkClose(t, got, []int64{0, 2, 4}, nil, 1)
}

func TestMatrixMultiplyRuntimeKMismatch(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddMatrixMultiply(net.AddInput("a", tensor.Float32, dsl.Dims{2, -1}), dsl.MatrixOpNone,
		net.AddInput("b", tensor.Float32, dsl.Dims{3, 4}), dsl.MatrixOpNone)
	net.MarkOutput(l.Output(0))
	a, _ := randTensor(t, newRNG(14), tensor.Float32, 2, 5)
	b, _ := randTensor(t, newRNG(15), tensor.Float32, 3, 4)
	err := runErr(net, map[string]*tensor.Tensor{"a": a, "b": b})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("want ShapeMismatch, got %v", err)
	}
}
