package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// naiveDeconv scatters every input element times every kernel tap into the
// output position i*stride - pre + tap*dilation, dropping positions
// outside the output. Weights are (C, K/groups, k...).
func naiveDeconv(x, w, b []float64, n, c, k, groups int64, in, ks, out, stride, dil, pre []int64) []float64 {
	pad3 := func(d []int64, fill int64) [3]int64 {
		r := [3]int64{fill, fill, fill}
		copy(r[3-len(d):], d)
		return r
	}
	I, KS, O, S, D, P := pad3(in, 1), pad3(ks, 1), pad3(out, 1), pad3(stride, 1), pad3(dil, 1), pad3(pre, 0)
	cg, kg := c/groups, k/groups
	res := make([]float64, n*k*O[0]*O[1]*O[2])
	for ni := int64(0); ni < n; ni++ {
		for ki := int64(0); ki < k; ki++ {
			for o := int64(0); o < O[0]*O[1]*O[2]; o++ {
				if b != nil {
					res[(ni*k+ki)*O[0]*O[1]*O[2]+o] = b[ki]
				}
			}
		}
		for ci := int64(0); ci < c; ci++ {
			grp := ci / cg
			for i0 := int64(0); i0 < I[0]; i0++ {
				for i1 := int64(0); i1 < I[1]; i1++ {
					for i2 := int64(0); i2 < I[2]; i2++ {
						xv := x[(((ni*c+ci)*I[0]+i0)*I[1]+i1)*I[2]+i2]
						for kj := int64(0); kj < kg; kj++ {
							ko := grp*kg + kj
							for t0 := int64(0); t0 < KS[0]; t0++ {
								for t1 := int64(0); t1 < KS[1]; t1++ {
									for t2 := int64(0); t2 < KS[2]; t2++ {
										o0, o1, o2 := i0*S[0]-P[0]+t0*D[0], i1*S[1]-P[1]+t1*D[1], i2*S[2]-P[2]+t2*D[2]
										if o0 < 0 || o0 >= O[0] || o1 < 0 || o1 >= O[1] || o2 < 0 || o2 >= O[2] {
											continue
										}
										wv := w[(((ci*kg+kj)*KS[0]+t0)*KS[1]+t1)*KS[2]+t2]
										res[(((ni*k+ko)*O[0]+o0)*O[1]+o1)*O[2]+o2] += xv * wv
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return res
}

func TestDeconvolutionAgainstNaive(t *testing.T) {
	f32 := tensor.Float32
	cases := []convCase{
		{name: "stride2", n: 2, c: 3, k: 2, groups: 1, in: []int64{3, 4}, ks: []int64{3, 3}, stride: []int64{2, 2}, wantPre: []int64{0, 0}, want: []int64{7, 9}, bias: true, dt: f32},
		{name: "padding crops", n: 1, c: 2, k: 3, groups: 1, in: []int64{3, 4}, ks: []int64{3, 3}, stride: []int64{2, 2}, pre: []int64{1, 0}, post: []int64{0, 2}, wantPre: []int64{1, 0}, want: []int64{6, 7}, dt: f32},
		{name: "groups", n: 1, c: 4, k: 6, groups: 2, in: []int64{3, 3}, ks: []int64{2, 2}, wantPre: []int64{0, 0}, want: []int64{4, 4}, bias: true, dt: f32},
		{name: "dilation", n: 1, c: 2, k: 2, groups: 1, in: []int64{3, 3}, ks: []int64{3, 2}, stride: []int64{1, 2}, dil: []int64{2, 1}, wantPre: []int64{0, 0}, want: []int64{7, 6}, dt: f32},
		{name: "same upper", n: 1, c: 2, k: 2, groups: 1, in: []int64{3, 4}, ks: []int64{4, 3}, stride: []int64{2, 2}, mode: dsl.PaddingSameUpper, wantPre: []int64{1, 0}, want: []int64{6, 8}, dt: f32},
		{name: "same lower", n: 1, c: 2, k: 2, groups: 1, in: []int64{3, 4}, ks: []int64{4, 3}, stride: []int64{2, 2}, mode: dsl.PaddingSameLower, wantPre: []int64{1, 1}, want: []int64{6, 8}, dt: f32},
		{name: "3d", n: 1, c: 2, k: 3, groups: 1, in: []int64{2, 3, 2}, ks: []int64{2, 2, 3}, stride: []int64{2, 1, 2}, wantPre: []int64{0, 0, 0}, want: []int64{4, 4, 5}, bias: true, dt: f32},
		{name: "dynamic batch fp16", n: 2, c: 2, k: 2, groups: 2, in: []int64{3, 3}, ks: []int64{2, 2}, stride: []int64{2, 2}, wantPre: []int64{0, 0}, want: []int64{6, 6}, bias: true, dt: tensor.Float16, dynamicBatch: true, float32WeightsForFP: true},
	}
	rng := newRNG(8)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := len(tc.in)
			ones := func(d []int64) []int64 {
				if d != nil {
					return d
				}
				r := make([]int64, ns)
				for i := range r {
					r[i] = 1
				}
				return r
			}
			inShape := append([]int64{tc.n, tc.c}, tc.in...)
			x, xs := randTensor(t, rng, tc.dt, inShape...)
			wdt := tc.dt
			if tc.float32WeightsForFP {
				wdt = tensor.Float32
			}
			wt, ws := randTensor(t, rng, wdt, append([]int64{tc.c, tc.k / tc.groups}, tc.ks...)...)
			var bw dsl.Weights
			var bs []float64
			if tc.bias {
				var bt *tensor.Tensor
				bt, bs = randTensor(t, rng, wdt, tc.k)
				bw = dsl.NewWeights(bt)
			}
			if wdt != tc.dt {
				ws, bs = roundTo(tc.dt, ws), roundTo(tc.dt, bs)
			}
			net := dsl.NewNetwork()
			dims := dsl.Dims(inShape)
			if tc.dynamicBatch {
				dims = append(dsl.Dims{-1}, inShape[1:]...)
			}
			l := net.AddDeconvolutionNd(net.AddInput("x", tc.dt, dims), tc.k, tc.ks, dsl.NewWeights(wt), bw)
			l.SetNbGroups(tc.groups)
			l.SetStrideNd(ones(tc.stride))
			l.SetDilationNd(ones(tc.dil))
			if tc.pre != nil {
				l.SetPrePadding(tc.pre)
				l.SetPostPadding(tc.post)
			}
			l.SetPaddingMode(tc.mode)
			net.MarkOutput(l.Output(0))
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
			want := naiveDeconv(xs, ws, bs, tc.n, tc.c, tc.k, tc.groups, tc.in, tc.ks, tc.want, ones(tc.stride), ones(tc.dil), tc.wantPre)
			terms := int(tc.c / tc.groups * tensor.Volume(tc.ks))
			checkClose(t, got, append([]int64{tc.n, tc.k}, tc.want...), roundTo(tc.dt, want), terms)
		})
	}
}

func TestDeconvolutionTensorInputs(t *testing.T) {
	rng := newRNG(9)
	x, xs := randTensor(t, rng, tensor.Float32, 1, 2, 3, 3)
	w, ws := randTensor(t, rng, tensor.Float32, 2, 3, 2, 2)
	b, bs := randTensor(t, rng, tensor.Float32, 3)
	net := dsl.NewNetwork()
	l := net.AddDeconvolutionNd(net.AddInput("x", tensor.Float32, dsl.Dims{1, 2, 3, 3}), 3, dsl.Dims{2, 2}, dsl.Weights{}, dsl.Weights{})
	l.SetInput(1, net.AddInput("w", tensor.Float32, dsl.Dims{2, 3, 2, 2}))
	l.SetInput(2, net.AddInput("b", tensor.Float32, dsl.Dims{3}))
	l.SetStrideNd(dsl.Dims{2, 2})
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "w": w, "b": b})[l.Output(0).Name()]
	want := naiveDeconv(xs, ws, bs, 1, 2, 3, 1, []int64{3, 3}, []int64{2, 2}, []int64{6, 6}, []int64{2, 2}, []int64{1, 1}, []int64{0, 0})
	checkClose(t, got, []int64{1, 3, 6, 6}, want, 8)
}
