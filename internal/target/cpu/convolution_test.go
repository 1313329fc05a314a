package cpu

import (
	"errors"
	"fmt"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// convCase is one convolution configuration. Spatial parameters have 2 or
// 3 entries; want is the output spatial size worked out by hand.
type convCase struct {
	name                string
	n, c, k, groups     int64
	in, ks              []int64
	stride, dil         []int64
	pre, post           []int64
	mode                dsl.PaddingMode
	wantPre             []int64 // padding the naive reference applies (from the mode's formula, by hand)
	want                []int64
	bias                bool
	dt                  tensor.DataType
	dynamicBatch        bool
	float32WeightsForFP bool
}

// naiveConv is the textbook definition: for every output element, sum over
// input channels of its group and every kernel tap, skipping taps that fall
// in the zero padding. Spatial dims are padded to 3 with unit dims in front.
func naiveConv(x, w, b []float64, n, c, k, groups int64, in, ks, out, stride, dil, pre []int64) []float64 {
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
			grp := ki / kg
			for o0 := int64(0); o0 < O[0]; o0++ {
				for o1 := int64(0); o1 < O[1]; o1++ {
					for o2 := int64(0); o2 < O[2]; o2++ {
						sum := 0.0
						if b != nil {
							sum = b[ki]
						}
						for ci := int64(0); ci < cg; ci++ {
							for k0 := int64(0); k0 < KS[0]; k0++ {
								for k1 := int64(0); k1 < KS[1]; k1++ {
									for k2 := int64(0); k2 < KS[2]; k2++ {
										i0 := o0*S[0] - P[0] + k0*D[0]
										i1 := o1*S[1] - P[1] + k1*D[1]
										i2 := o2*S[2] - P[2] + k2*D[2]
										if i0 < 0 || i0 >= I[0] || i1 < 0 || i1 >= I[1] || i2 < 0 || i2 >= I[2] {
											continue
										}
										xc := grp*cg + ci
										xv := x[(((ni*c+xc)*I[0]+i0)*I[1]+i1)*I[2]+i2]
										wv := w[(((ki*cg+ci)*KS[0]+k0)*KS[1]+k1)*KS[2]+k2]
										sum += xv * wv
									}
								}
							}
						}
						res[(((ni*k+ki)*O[0]+o0)*O[1]+o1)*O[2]+o2] = sum
					}
				}
			}
		}
	}
	return res
}

func TestConvolutionAgainstNaive(t *testing.T) {
	f32 := tensor.Float32
	cases := []convCase{
		{name: "3x3 pad1", n: 2, c: 3, k: 4, groups: 1, in: []int64{5, 6}, ks: []int64{3, 3}, pre: []int64{1, 1}, post: []int64{1, 1}, wantPre: []int64{1, 1}, want: []int64{5, 6}, bias: true, dt: f32},
		{name: "1x1", n: 1, c: 8, k: 5, groups: 1, in: []int64{4, 3}, ks: []int64{1, 1}, wantPre: []int64{0, 0}, want: []int64{4, 3}, bias: true, dt: f32},
		{name: "1x1 stride2", n: 1, c: 8, k: 5, groups: 1, in: []int64{5, 5}, ks: []int64{1, 1}, stride: []int64{2, 2}, wantPre: []int64{0, 0}, want: []int64{3, 3}, dt: f32},
		{name: "stride2 7x7 resnet stem", n: 1, c: 3, k: 4, groups: 1, in: []int64{16, 16}, ks: []int64{7, 7}, stride: []int64{2, 2}, pre: []int64{3, 3}, post: []int64{3, 3}, wantPre: []int64{3, 3}, want: []int64{8, 8}, bias: true, dt: f32},
		{name: "groups", n: 2, c: 6, k: 4, groups: 2, in: []int64{5, 4}, ks: []int64{3, 2}, wantPre: []int64{0, 0}, want: []int64{3, 3}, bias: true, dt: f32},
		{name: "depthwise", n: 2, c: 4, k: 4, groups: 4, in: []int64{6, 5}, ks: []int64{3, 3}, stride: []int64{2, 1}, pre: []int64{1, 1}, post: []int64{1, 1}, wantPre: []int64{1, 1}, want: []int64{3, 5}, bias: true, dt: f32},
		{name: "depthwise multiplier", n: 1, c: 3, k: 6, groups: 3, in: []int64{5, 5}, ks: []int64{2, 3}, dil: []int64{2, 1}, wantPre: []int64{0, 0}, want: []int64{3, 3}, dt: f32},
		{name: "dilation", n: 1, c: 2, k: 3, groups: 1, in: []int64{9, 8}, ks: []int64{3, 3}, dil: []int64{2, 3}, pre: []int64{1, 0}, post: []int64{0, 2}, wantPre: []int64{1, 0}, want: []int64{6, 4}, dt: f32},
		{name: "asymmetric padding", n: 1, c: 2, k: 3, groups: 1, in: []int64{4, 5}, ks: []int64{3, 3}, pre: []int64{0, 2}, post: []int64{2, 1}, wantPre: []int64{0, 2}, want: []int64{4, 6}, bias: true, dt: f32},
		{name: "padding larger than kernel", n: 1, c: 2, k: 2, groups: 1, in: []int64{3, 3}, ks: []int64{2, 2}, pre: []int64{3, 4}, post: []int64{3, 2}, wantPre: []int64{3, 4}, want: []int64{8, 8}, bias: true, dt: f32},
		{name: "round up", n: 1, c: 2, k: 2, groups: 1, in: []int64{6, 7}, ks: []int64{3, 3}, stride: []int64{2, 2}, mode: dsl.PaddingExplicitRoundUp, wantPre: []int64{0, 0}, want: []int64{3, 3}, dt: f32},
		{name: "same upper", n: 1, c: 2, k: 2, groups: 1, in: []int64{6, 8}, ks: []int64{5, 3}, stride: []int64{2, 2}, mode: dsl.PaddingSameUpper, wantPre: []int64{1, 0}, want: []int64{3, 4}, dt: f32},
		{name: "same lower", n: 1, c: 2, k: 2, groups: 1, in: []int64{6, 8}, ks: []int64{5, 3}, stride: []int64{2, 2}, mode: dsl.PaddingSameLower, wantPre: []int64{2, 1}, want: []int64{3, 4}, dt: f32},
		{name: "3d", n: 2, c: 4, k: 3, groups: 1, in: []int64{4, 5, 3}, ks: []int64{2, 3, 2}, stride: []int64{1, 2, 1}, pre: []int64{1, 1, 0}, post: []int64{0, 1, 1}, wantPre: []int64{1, 1, 0}, want: []int64{4, 3, 3}, bias: true, dt: f32},
		{name: "3d groups dilation", n: 1, c: 4, k: 4, groups: 2, in: []int64{5, 5, 5}, ks: []int64{2, 2, 2}, dil: []int64{2, 1, 2}, wantPre: []int64{0, 0, 0}, want: []int64{3, 4, 3}, dt: f32},
		{name: "3d depthwise", n: 1, c: 3, k: 3, groups: 3, in: []int64{3, 4, 4}, ks: []int64{3, 3, 3}, pre: []int64{1, 1, 1}, post: []int64{1, 1, 1}, wantPre: []int64{1, 1, 1}, want: []int64{3, 4, 4}, bias: true, dt: f32},
		{name: "dynamic batch", n: 3, c: 3, k: 2, groups: 1, in: []int64{4, 4}, ks: []int64{3, 3}, pre: []int64{1, 1}, post: []int64{1, 1}, wantPre: []int64{1, 1}, want: []int64{4, 4}, bias: true, dt: f32, dynamicBatch: true},
		{name: "fp16", n: 1, c: 4, k: 3, groups: 1, in: []int64{5, 5}, ks: []int64{3, 3}, pre: []int64{1, 1}, post: []int64{1, 1}, wantPre: []int64{1, 1}, want: []int64{5, 5}, bias: true, dt: tensor.Float16},
		{name: "fp16 float32 weights", n: 1, c: 4, k: 4, groups: 2, in: []int64{5, 5}, ks: []int64{3, 3}, wantPre: []int64{0, 0}, want: []int64{3, 3}, bias: true, dt: tensor.Float16, float32WeightsForFP: true},
		{name: "bf16 depthwise", n: 1, c: 4, k: 4, groups: 4, in: []int64{5, 5}, ks: []int64{3, 3}, wantPre: []int64{0, 0}, want: []int64{3, 3}, dt: tensor.BFloat16},
	}
	rng := newRNG(7)
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
			wShape := append([]int64{tc.k, tc.c / tc.groups}, tc.ks...)
			wdt := tc.dt
			if tc.float32WeightsForFP {
				wdt = tensor.Float32
			}
			wt, ws := randTensor(t, rng, wdt, wShape...)
			var bw dsl.Weights
			var bs []float64
			if tc.bias {
				var bt *tensor.Tensor
				bt, bs = randTensor(t, rng, wdt, tc.k)
				bw = dsl.NewWeights(bt)
			}
			if wdt != tc.dt { // the layer rounds float32 weights to its type
				ws, bs = roundTo(tc.dt, ws), roundTo(tc.dt, bs)
			}
			net := dsl.NewNetwork()
			dims := dsl.Dims(inShape)
			if tc.dynamicBatch {
				dims = append(dsl.Dims{-1}, inShape[1:]...)
			}
			inT := net.AddInput("x", tc.dt, dims)
			l := net.AddConvolutionNd(inT, tc.k, tc.ks, dsl.NewWeights(wt), bw)
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
			want := naiveConv(xs, ws, bs, tc.n, tc.c, tc.k, tc.groups, tc.in, tc.ks, tc.want, ones(tc.stride), ones(tc.dil), tc.wantPre)
			terms := int(tc.c / tc.groups * tensor.Volume(tc.ks))
			checkClose(t, got, append([]int64{tc.n, tc.k}, tc.want...), roundTo(tc.dt, want), terms)
		})
	}
}

// TestConvolutionTensorInputs passes kernel and bias as tensors (inputs 1
// and 2), the form Q/DQ networks use.
func TestConvolutionTensorInputs(t *testing.T) {
	rng := newRNG(3)
	x, xs := randTensor(t, rng, tensor.Float32, 1, 2, 4, 4)
	w, ws := randTensor(t, rng, tensor.Float32, 3, 2, 2, 2)
	b, bs := randTensor(t, rng, tensor.Float32, 3)
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 2, 4, 4})
	win := net.AddInput("w", tensor.Float32, dsl.Dims{3, 2, 2, 2})
	bin := net.AddInput("b", tensor.Float32, dsl.Dims{3})
	l := net.AddConvolutionNd(in, 3, dsl.Dims{2, 2}, dsl.Weights{}, dsl.Weights{})
	l.SetInput(1, win)
	l.SetInput(2, bin)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "w": w, "b": b})[l.Output(0).Name()]
	want := naiveConv(xs, ws, bs, 1, 2, 3, 1, []int64{4, 4}, []int64{2, 2}, []int64{3, 3}, []int64{1, 1}, []int64{1, 1}, []int64{0, 0})
	checkClose(t, got, []int64{1, 3, 3, 3}, want, 8)
}

// TestConvolutionDynamicSpatial resolves -1 spatial dims at run time, with
// SAME padding computed from the actual size, and reports a kernel that
// does not fit the actual input.
func TestConvolutionDynamicSpatial(t *testing.T) {
	rng := newRNG(4)
	w, ws := randTensor(t, rng, tensor.Float32, 2, 1, 3, 3)
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, -1, -1})
	l := net.AddConvolutionNd(in, 2, dsl.Dims{3, 3}, dsl.NewWeights(w), dsl.Weights{})
	l.SetStrideNd(dsl.Dims{2, 2})
	l.SetPaddingMode(dsl.PaddingSameUpper)
	net.MarkOutput(l.Output(0))
	for _, sz := range [][2]int64{{5, 6}, {7, 3}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			x, xs := randTensor(t, rng, tensor.Float32, 1, 1, sz[0], sz[1])
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
			// SAME_UPPER with k=3, s=2: O = ceil(I/2), P = floor((I-1)/2)*2+3-I, pre = P/2.
			out := []int64{(sz[0] + 1) / 2, (sz[1] + 1) / 2}
			pre := []int64{((sz[0]-1)/2*2 + 3 - sz[0]) / 2, ((sz[1]-1)/2*2 + 3 - sz[1]) / 2}
			want := naiveConv(xs, ws, nil, 1, 1, 2, 1, sz[:], []int64{3, 3}, out, []int64{2, 2}, []int64{1, 1}, pre)
			checkClose(t, got, append([]int64{1, 2}, out...), want, 9)
		})
	}
	net2 := dsl.NewNetwork()
	in2 := net2.AddInput("x", tensor.Float32, dsl.Dims{1, 1, -1, 4})
	l2 := net2.AddConvolutionNd(in2, 2, dsl.Dims{3, 3}, dsl.NewWeights(w), dsl.Weights{})
	net2.MarkOutput(l2.Output(0))
	x, _ := randTensor(t, rng, tensor.Float32, 1, 1, 2, 4)
	if err := runErr(net2, map[string]*tensor.Tensor{"x": x}); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("kernel larger than the run-time input: got %v, want ShapeMismatch", err)
	}
}

// TestConvolutionEmptyBatch runs a batch of zero images.
func TestConvolutionEmptyBatch(t *testing.T) {
	rng := newRNG(5)
	w, _ := randTensor(t, rng, tensor.Float32, 2, 3, 1, 1)
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{-1, 3, 2, 2})
	l := net.AddConvolutionNd(in, 2, dsl.Dims{1, 1}, dsl.NewWeights(w), dsl.Weights{})
	net.MarkOutput(l.Output(0))
	x := tensor.New(tensor.Float32, 0, 3, 2, 2)
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	checkClose(t, got, []int64{0, 2, 2, 2}, nil, 1)
}

func BenchmarkConvolutionResNetStage(b *testing.B) {
	rng := newRNG(1)
	x, _ := randTensor(b, rng, tensor.Float32, 1, 64, 56, 56)
	w, _ := randTensor(b, rng, tensor.Float32, 64, 64, 3, 3)
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 64, 56, 56})
	l := net.AddConvolutionNd(in, 64, dsl.Dims{3, 3}, dsl.NewWeights(w), dsl.Weights{})
	l.SetPaddingNd(dsl.Dims{1, 1})
	net.MarkOutput(l.Output(0))
	e, err := New(net)
	if err != nil {
		b.Fatal(err)
	}
	inputs := map[string]*tensor.Tensor{"x": x}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Run(b.Context(), inputs); err != nil {
			b.Fatal(err)
		}
	}
}
