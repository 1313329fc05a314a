package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// normStats returns the mean and biased variance of vals.
func normStats(vals []float64) (mean, variance float64) {
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(vals))
}

func normRun(t *testing.T, v2 bool, dt tensor.DataType, xs, ss []int64, mask uint32, groups int64, eps float32,
	x, s, b *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	net := dsl.NewNetwork()
	dx := dsl.Dims(append([]int64{}, xs...))
	dx[0] = -1 // dynamic batch
	ix := net.AddInput("x", dt, dx)
	is := net.AddInput("s", dt, ss)
	ib := net.AddInput("b", dt, ss)
	add := net.AddNormalization
	if v2 {
		add = net.AddNormalizationV2
	}
	l := add(ix, is, ib, mask)
	l.SetNbGroups(groups)
	l.SetEpsilon(eps)
	net.MarkOutput(l.Output(0))
	return runNet(t, net, map[string]*tensor.Tensor{"x": x, "s": s, "b": b})[l.Output(0).Name()]
}

func TestNormalizationLayerNorm(t *testing.T) {
	// [N,T,D] normalized over D with per-feature scale [1,1,D].
	const N, T, D = 2, 3, 8
	rng := newRNG(40)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		x, xv := randTensor(t, rng, dt, N, T, D)
		s, sv := randTensor(t, rng, dt, 1, 1, D)
		b, bv := randTensor(t, rng, dt, 1, 1, D)
		got := normRun(t, true, dt, []int64{N, T, D}, []int64{1, 1, D}, 0b100, 1, 1e-5, x, s, b)
		var want []float64
		for r := 0; r < N*T; r++ {
			m, v := normStats(xv[r*D : (r+1)*D])
			for d := 0; d < D; d++ {
				want = append(want, (xv[r*D+d]-m)/math.Sqrt(v+1e-5)*sv[d]+bv[d])
			}
		}
		t.Run(dt.String(), func(t *testing.T) { checkClose(t, got, []int64{N, T, D}, roundTo(dt, want), D) })
	}
}

func TestNormalizationInstanceNorm(t *testing.T) {
	const N, C, H, W = 2, 3, 2, 5
	rng := newRNG(41)
	x, xv := randTensor(t, rng, tensor.Float32, N, C, H, W)
	s, sv := randTensor(t, rng, tensor.Float32, 1, C, 1, 1)
	b, bv := randTensor(t, rng, tensor.Float32, 1, C, 1, 1)
	got := normRun(t, true, tensor.Float32, []int64{N, C, H, W}, []int64{1, C, 1, 1}, 0b1100, 1, 1e-3, x, s, b)
	var want []float64
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			o := (n*C + c) * H * W
			m, v := normStats(xv[o : o+H*W])
			for i := 0; i < H*W; i++ {
				want = append(want, (xv[o+i]-m)/math.Sqrt(v+float64(float32(1e-3)))*sv[c]+bv[c])
			}
		}
	}
	checkClose(t, got, []int64{N, C, H, W}, want, H*W)
}

func TestNormalizationGroupNorm(t *testing.T) {
	const N, C, H, W, G = 2, 6, 2, 3, 3
	const per = C / G
	rng := newRNG(42)
	x, xv := randTensor(t, rng, tensor.Float32, N, C, H, W)
	for _, v2 := range []bool{true, false} {
		ss := []int64{1, C, 1, 1} // V2: per channel
		if !v2 {
			ss = []int64{1, G, 1, 1} // V1: per group
		}
		s, sv := randTensor(t, rng, tensor.Float32, ss...)
		b, bv := randTensor(t, rng, tensor.Float32, ss...)
		got := normRun(t, v2, tensor.Float32, []int64{N, C, H, W}, ss, 0b1100, G, 1e-5, x, s, b)
		var want []float64
		for n := 0; n < N; n++ {
			for g := 0; g < G; g++ {
				o := (n*C + g*per) * H * W
				m, v := normStats(xv[o : o+per*H*W])
				for i := 0; i < per*H*W; i++ {
					c := g*per + i/(H*W)
					p := c
					if !v2 {
						p = g
					}
					want = append(want, (xv[o+i]-m)/math.Sqrt(v+float64(float32(1e-5)))*sv[p]+bv[p])
				}
			}
		}
		t.Run(map[bool]string{true: "V2", false: "V1"}[v2], func(t *testing.T) {
			checkClose(t, got, []int64{N, C, H, W}, want, per*H*W)
		})
	}
}

func TestNormalizationEmptyBatch(t *testing.T) {
	rng := newRNG(43)
	s, _ := randTensor(t, rng, tensor.Float32, 1, 4)
	b, _ := randTensor(t, rng, tensor.Float32, 1, 4)
	got := normRun(t, true, tensor.Float32, []int64{0, 4}, []int64{1, 4}, 0b10, 1, 1e-5, tensor.New(tensor.Float32, 0, 4), s, b)
	checkClose(t, got, []int64{0, 4}, nil, 1)
}

func TestNormalizationInterleavedAxes(t *testing.T) {
	// Axes 0 and 2 of [N,C,L] (batch-norm style): each channel's group is
	// spread over the whole tensor.
	const N, C, L = 3, 2, 4
	rng := newRNG(44)
	x, xv := randTensor(t, rng, tensor.Float32, N, C, L)
	s, sv := randTensor(t, rng, tensor.Float32, 1, C, 1)
	b, bv := randTensor(t, rng, tensor.Float32, 1, C, 1)
	got := normRun(t, true, tensor.Float32, []int64{N, C, L}, []int64{1, C, 1}, 0b101, 1, 1e-5, x, s, b)
	want := make([]float64, N*C*L)
	for c := 0; c < C; c++ {
		var group []float64
		for n := 0; n < N; n++ {
			group = append(group, xv[(n*C+c)*L:(n*C+c+1)*L]...)
		}
		m, v := normStats(group)
		for n := 0; n < N; n++ {
			for l := 0; l < L; l++ {
				i := (n*C+c)*L + l
				want[i] = (xv[i]-m)/math.Sqrt(v+float64(float32(1e-5)))*sv[c] + bv[c]
			}
		}
	}
	checkClose(t, got, []int64{N, C, L}, want, N*L)
}
