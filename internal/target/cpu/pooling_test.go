package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// naivePool pools every window position by visiting each window element
// and classifying it as real input, padding, or beyond the padded input.
func naivePool(x []float64, planes int64, in, win, stride, pre, post, out []int64, ptype dsl.PoolingType, blend float64, exclude bool) []float64 {
	pad3 := func(d []int64, fill int64) [3]int64 {
		r := [3]int64{fill, fill, fill}
		copy(r[3-len(d):], d)
		return r
	}
	I, W, S, B, A, O := pad3(in, 1), pad3(win, 1), pad3(stride, 1), pad3(pre, 0), pad3(post, 0), pad3(out, 1)
	res := make([]float64, 0, planes*O[0]*O[1]*O[2])
	for p := int64(0); p < planes; p++ {
		for o0 := int64(0); o0 < O[0]; o0++ {
			for o1 := int64(0); o1 < O[1]; o1++ {
				for o2 := int64(0); o2 < O[2]; o2++ {
					mx, sum, nReal, nPadded := math.Inf(-1), 0.0, 0, 0
					for k0 := int64(0); k0 < W[0]; k0++ {
						for k1 := int64(0); k1 < W[1]; k1++ {
							for k2 := int64(0); k2 < W[2]; k2++ {
								i := [3]int64{o0*S[0] - B[0] + k0, o1*S[1] - B[1] + k1, o2*S[2] - B[2] + k2}
								inPadded, inReal := true, true
								for d := 0; d < 3; d++ {
									if i[d] < -B[d] || i[d] >= I[d]+A[d] {
										inPadded = false
									}
									if i[d] < 0 || i[d] >= I[d] {
										inReal = false
									}
								}
								if inPadded {
									nPadded++
								}
								if inReal {
									v := x[((p*I[0]+i[0])*I[1]+i[1])*I[2]+i[2]]
									mx = math.Max(mx, v)
									sum += v
									nReal++
								}
							}
						}
					}
					n := nPadded
					if exclude {
						n = nReal
					}
					avg := 0.0
					if n > 0 {
						avg = sum / float64(n)
					}
					switch ptype {
					case dsl.PoolingMax:
						res = append(res, mx)
					case dsl.PoolingAverage:
						res = append(res, avg)
					default:
						res = append(res, (1-blend)*mx+blend*avg)
					}
				}
			}
		}
	}
	return res
}

func TestPoolingAgainstNaive(t *testing.T) {
	type pc struct {
		name              string
		in, win, stride   []int64
		pre, post         []int64
		mode              dsl.PaddingMode
		wantPre, wantPost []int64
		want              []int64
	}
	cases := []pc{
		{name: "2x2 s2", in: []int64{6, 6}, win: []int64{2, 2}, stride: []int64{2, 2}, wantPre: []int64{0, 0}, wantPost: []int64{0, 0}, want: []int64{3, 3}},
		{name: "3x3 s2 p1 resnet", in: []int64{8, 7}, win: []int64{3, 3}, stride: []int64{2, 2}, pre: []int64{1, 1}, post: []int64{1, 1}, wantPre: []int64{1, 1}, wantPost: []int64{1, 1}, want: []int64{4, 4}},
		{name: "asymmetric", in: []int64{5, 6}, win: []int64{3, 2}, stride: []int64{1, 2}, pre: []int64{2, 0}, post: []int64{0, 1}, wantPre: []int64{2, 0}, wantPost: []int64{0, 1}, want: []int64{5, 3}},
		{name: "padding larger than window", in: []int64{3, 3}, win: []int64{2, 2}, stride: []int64{1, 1}, pre: []int64{3, 2}, post: []int64{2, 3}, wantPre: []int64{3, 2}, wantPost: []int64{2, 3}, want: []int64{7, 7}},
		{name: "round up", in: []int64{6, 6}, win: []int64{3, 3}, stride: []int64{2, 2}, pre: []int64{0, 1}, post: []int64{0, 1}, mode: dsl.PaddingExplicitRoundUp, wantPre: []int64{0, 1}, wantPost: []int64{0, 1}, want: []int64{3, 4}},
		{name: "same upper", in: []int64{6, 7}, win: []int64{3, 4}, stride: []int64{2, 2}, mode: dsl.PaddingSameUpper, wantPre: []int64{0, 1}, wantPost: []int64{1, 2}, want: []int64{3, 4}},
		{name: "same lower", in: []int64{6, 7}, win: []int64{3, 4}, stride: []int64{2, 2}, mode: dsl.PaddingSameLower, wantPre: []int64{1, 2}, wantPost: []int64{0, 1}, want: []int64{3, 4}},
		{name: "3d", in: []int64{4, 5, 6}, win: []int64{2, 3, 2}, stride: []int64{2, 1, 2}, pre: []int64{1, 1, 0}, post: []int64{0, 1, 1}, wantPre: []int64{1, 1, 0}, wantPost: []int64{0, 1, 1}, want: []int64{2, 5, 3}},
	}
	rng := newRNG(11)
	for _, tc := range cases {
		for _, ptype := range dsl.AllPoolingTypes() {
			for _, exclude := range []bool{true, false} {
				for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
					name := tc.name + "/" + ptype.String() + "/" + dt.String()
					if !exclude {
						name += "/inclusive"
					}
					t.Run(name, func(t *testing.T) {
						shape := append([]int64{2, 3}, tc.in...)
						x, xs := randTensor(t, rng, dt, shape...)
						net := dsl.NewNetwork()
						in := net.AddInput("x", dt, append(dsl.Dims{-1, 3}, tc.in...))
						l := net.AddPoolingNd(in, ptype, tc.win)
						l.SetStrideNd(tc.stride)
						if tc.pre != nil {
							l.SetPrePadding(tc.pre)
							l.SetPostPadding(tc.post)
						}
						l.SetPaddingMode(tc.mode)
						l.SetAverageCountExcludesPadding(exclude)
						l.SetBlendFactor(0.3)
						net.MarkOutput(l.Output(0))
						got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
						want := naivePool(xs, 6, tc.in, tc.win, tc.stride, tc.wantPre, tc.wantPost, tc.want, ptype, 0.3, exclude)
						checkClose(t, got, append([]int64{2, 3}, tc.want...), roundTo(dt, want), int(tensor.Volume(tc.win)))
					})
				}
			}
		}
	}
}

// TestPoolingHandWorked checks a 1x1x3x3 input by hand: 2x2 windows,
// stride 1, pre-padding 1, so the corner window holds one real value.
func TestPoolingHandWorked(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{1, 1, 3, 3}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	run := func(ptype dsl.PoolingType, exclude bool) []float64 {
		net := dsl.NewNetwork()
		in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, 3, 3})
		l := net.AddPoolingNd(in, ptype, dsl.Dims{2, 2})
		l.SetPrePadding(dsl.Dims{1, 1})
		l.SetAverageCountExcludesPadding(exclude)
		net.MarkOutput(l.Output(0))
		return runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()].Float64s()
	}
	// Output is 3x3; window (i,j) covers input rows i-1..i, cols j-1..j.
	checkVals := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Fatalf("%s: got %v, want %v", name, got, want)
			}
		}
	}
	checkVals("max", run(dsl.PoolingMax, true), []float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	checkVals("avg exclusive", run(dsl.PoolingAverage, true), []float64{1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7})
	checkVals("avg inclusive", run(dsl.PoolingAverage, false), []float64{0.25, 0.75, 1.25, 1.25, 3, 4, 2.75, 6, 7})
}

// TestPoolingEmptyWindow: a window entirely in the padding gives -inf for
// max and 0 for an average that excludes padding.
func TestPoolingEmptyWindow(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{1, 1, 1, 1}, []float64{5})
	for _, tc := range []struct {
		ptype dsl.PoolingType
		want  float64
	}{{dsl.PoolingMax, math.Inf(-1)}, {dsl.PoolingAverage, 0}} {
		net := dsl.NewNetwork()
		in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, 1, 1})
		l := net.AddPoolingNd(in, tc.ptype, dsl.Dims{1, 1})
		l.SetPrePadding(dsl.Dims{1, 0})
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()].Float64s()
		if len(got) != 2 || got[0] != tc.want || got[1] != 5 {
			t.Fatalf("%v: got %v, want [%v 5]", tc.ptype, got, tc.want)
		}
	}
}
