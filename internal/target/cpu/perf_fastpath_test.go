package cpu

import (
	"fmt"
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Tests of the float32 fast paths (perf_*.go and the kernels using them):
// every branch a fast path takes, checked against naive loops written here.

// naiveBcastOffset is the flat index into an input of shape in (aligned
// right with out) that output element i reads, by full multi-index
// arithmetic.
func naiveBcastOffset(out, in []int64, i int64) int64 {
	full := make([]int64, len(out))
	for d := range full {
		full[d] = 1
	}
	copy(full[len(out)-len(in):], in)
	off, stride := int64(0), int64(1)
	for d := len(out) - 1; d >= 0; d-- {
		idx := i % out[d]
		i /= out[d]
		if full[d] != 1 {
			off += idx * stride
		}
		stride *= full[d]
	}
	return off
}

// bcastCases are shape pairs that reach each kind of row plan: one long
// row, a per-channel scalar, broadcasting on either side, both sides, the
// last dim broadcast, zero dims and a size large enough to be split over
// cores.
var bcastCases = []struct{ a, b []int64 }{
	{[]int64{2, 3, 4, 5}, []int64{2, 3, 4, 5}},
	{[]int64{2, 3, 4, 5}, []int64{1, 3, 1, 1}},
	{[]int64{1, 3, 1, 1}, []int64{2, 3, 4, 5}},
	{[]int64{2, 3, 4, 5}, []int64{1, 1, 1, 1}},
	{[]int64{2, 3, 4, 5}, []int64{2, 3, 4, 1}},
	{[]int64{2, 3, 4, 5}, []int64{1, 3, 1, 5}},
	{[]int64{2, 1, 4, 1}, []int64{1, 3, 1, 5}},
	{[]int64{2, 1, 4}, []int64{1, 3, 4}},
	{[]int64{1, 1}, []int64{1, 1}},
	{[]int64{}, []int64{}},
	{[]int64{2, 0, 4}, []int64{1, 1, 4}},
	{[]int64{2, 3, 0}, []int64{2, 1, 1}},
	{[]int64{3, 100, 200}, []int64{3, 1, 200}},
	{[]int64{3, 100, 200}, []int64{3, 100, 200}},
}

func TestPerfRowsMatchNaiveIndexing(t *testing.T) {
	for _, tc := range bcastCases {
		out, err := dsl.BroadcastDims(tc.a, tc.b)
		if err != nil {
			t.Fatal(err)
		}
		p := newPerfRows(out, tc.a, tc.b)
		if int64(p.rows*p.n) != tensor.Volume(out) {
			t.Fatalf("%v %v: %d rows of %d for volume %d", tc.a, tc.b, p.rows, p.n, tensor.Volume(out))
		}
		for r := 0; r < p.rows; r++ {
			oa, ob := p.offsets(r)
			for j := 0; j < p.n; j++ {
				i := int64(r*p.n + j)
				ga, gb := int64(oa+j*p.inner[0]), int64(ob+j*p.inner[1])
				wa, wb := naiveBcastOffset(out, tc.a, i), naiveBcastOffset(out, tc.b, i)
				if ga != wa || gb != wb {
					t.Fatalf("%v %v: element %d reads (%d, %d), want (%d, %d)", tc.a, tc.b, i, ga, gb, wa, wb)
				}
			}
		}
	}
}

func TestElementWiseBroadcastPaths(t *testing.T) {
	ops := []struct {
		op dsl.ElementWiseOperation
		f  func(a, b float64) float64
	}{
		{dsl.ElementWiseSum, func(a, b float64) float64 { return a + b }},
		{dsl.ElementWiseSub, func(a, b float64) float64 { return a - b }},
		{dsl.ElementWiseProd, func(a, b float64) float64 { return a * b }},
		{dsl.ElementWiseDiv, func(a, b float64) float64 { return a / b }},
		{dsl.ElementWiseMax, math.Max},
		{dsl.ElementWiseMin, math.Min},
		{dsl.ElementWisePow, func(a, b float64) float64 { return math.Pow(math.Abs(a), b) }},
		{dsl.ElementWiseLess, func(a, b float64) float64 {
			if a < b {
				return 1
			}
			return 0
		}},
	}
	rng := newRNG(31)
	for _, tc := range bcastCases {
		out, _ := dsl.BroadcastDims(tc.a, tc.b)
		for _, o := range ops {
			for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
				t.Run(fmt.Sprintf("%v/%v/%v/%v", tc.a, tc.b, o.op, dt), func(t *testing.T) {
					a, av := randTensor(t, rng, dt, tc.a...)
					if o.op == dsl.ElementWisePow {
						for i := range av {
							av[i] = math.Abs(av[i])
						}
						a = mustTensor(t, dt, tc.a, av)
					}
					b, bv := randTensor(t, rng, dt, tc.b...)
					net := dsl.NewNetwork()
					l := net.AddElementWise(net.AddInput("a", dt, tc.a), net.AddInput("b", dt, tc.b), o.op)
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
					n := tensor.Volume(out)
					want := make([]float64, n)
					for i := int64(0); i < n; i++ {
						want[i] = o.f(av[naiveBcastOffset(out, tc.a, i)], bv[naiveBcastOffset(out, tc.b, i)])
					}
					if o.op.IsComparison() {
						if got.DType() != tensor.Bool {
							t.Fatalf("type %v, want Bool", got.DType())
						}
						checkClose(t, got, out, want, 1)
						return
					}
					checkClose(t, got, out, roundTo(dt, want), 1)
				})
			}
		}
	}
}

// TestElementWiseFloat32Exact checks the float32 loops bit for bit
// against float64 arithmetic rounded once, NaN and signed zeros included.
func TestElementWiseFloat32Exact(t *testing.T) {
	nan, inf, negZero := math.NaN(), math.Inf(1), math.Copysign(0, -1) // a literal -0.0 is +0 in Go
	av := []float64{1.1, negZero, 0, nan, inf, -3.3, 1e-30, 7}
	bv := []float64{3.7, 0, negZero, 2, -inf, nan, 1e30, negZero}
	ops := map[dsl.ElementWiseOperation]func(a, b float64) float64{
		dsl.ElementWiseSum:  func(a, b float64) float64 { return a + b },
		dsl.ElementWiseSub:  func(a, b float64) float64 { return a - b },
		dsl.ElementWiseProd: func(a, b float64) float64 { return a * b },
		dsl.ElementWiseDiv:  func(a, b float64) float64 { return a / b },
	}
	for op, f := range ops {
		net := dsl.NewNetwork()
		l := net.AddElementWise(net.AddInput("a", dsl.Float32, dsl.Dims{8}), net.AddInput("b", dsl.Float32, dsl.Dims{8}), op)
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, map[string]*tensor.Tensor{
			"a": mustTensor(t, tensor.Float32, []int64{8}, av),
			"b": mustTensor(t, tensor.Float32, []int64{8}, bv),
		})[l.Output(0).Name()].Float32s()
		for i := range av {
			a, b := float64(float32(av[i])), float64(float32(bv[i]))
			want := float32(f(a, b))
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
				t.Errorf("%v(%v, %v) = %v, want %v", op, a, b, got[i], want)
			}
		}
	}
}

func TestReLUSpecialValues(t *testing.T) {
	negZero := math.Copysign(0, -1)
	vals := []float64{1.5, -1.5, 0, negZero, math.NaN(), math.Inf(1), math.Inf(-1), 1e-40, -1e-40}
	net := dsl.NewNetwork()
	l := net.AddActivation(net.AddInput("x", dsl.Float32, dsl.Dims{int64(len(vals))}), dsl.ActivationReLU)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{int64(len(vals))}, vals)})[l.Output(0).Name()].Float32s()
	for i, v := range vals {
		x := float32(v)
		want := x
		switch {
		case x != x: // NaN stays NaN
		case x > 0:
		default:
			want = 0 // +0, also for -0
		}
		if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
			t.Errorf("relu(%v) = %v (bits %x), want %v", x, got[i], math.Float32bits(got[i]), want)
		}
	}
}

// TestReLULarge runs enough values to be split over several goroutines.
func TestReLULarge(t *testing.T) {
	rng := newRNG(32)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.BFloat16} {
		x, xs := randTensor(t, rng, dt, 3, 50001)
		net := dsl.NewNetwork()
		l := net.AddActivation(net.AddInput("x", dt, dsl.Dims{3, 50001}), dsl.ActivationReLU)
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
		want := make([]float64, len(xs))
		for i, v := range xs {
			if v > 0 {
				want[i] = v
			}
		}
		checkClose(t, got, []int64{3, 50001}, want, 1)
	}
}

// TestScaleCoefficientSubsets covers each loop of scaleCoefs.run (scale
// and shift, only one, none, with power) in every mode, with the channel
// axis last (coefficient per element, the inner == 1 path) and first (long
// runs per coefficient), on inputs large enough that the parallel chunks
// start in the middle of a run.
func TestScaleCoefficientSubsets(t *testing.T) {
	rng := newRNG(33)
	shape := []int64{2, 3, 70, 301}
	n := tensor.Volume(shape)
	for _, axis := range []int{1, 3} {
		for _, mode := range dsl.AllScaleModes() {
			count := int64(1)
			switch mode {
			case dsl.ScaleChannel:
				count = shape[axis]
			case dsl.ScaleElementwise:
				count = tensor.Volume(shape[axis:])
			}
			for set := 0; set < 8; set++ { // bit 0 shift, bit 1 scale, bit 2 power
				t.Run(fmt.Sprintf("axis%d/%v/set%d", axis, mode, set), func(t *testing.T) {
					x := mustTensor(t, tensor.Float32, shape, randFloats(rng, n, 0.1, 1))
					xs := x.Float64s()
					var sh, sc, pw []float64
					var shift, scale, power dsl.Weights
					if set&1 != 0 {
						sh = randFloats(rng, count, -1, 1)
						shift = scaleWeights(t, tensor.Float32, sh)
					}
					if set&2 != 0 {
						sc = randFloats(rng, count, 0.5, 2)
						scale = scaleWeights(t, tensor.Float32, sc)
					}
					if set&4 != 0 {
						pw = randFloats(rng, count, 0.5, 2)
						power = scaleWeights(t, tensor.Float32, pw)
					}
					net := dsl.NewNetwork()
					l := net.AddScaleNd(net.AddInput("x", dsl.Float32, shape), mode, shift, scale, power, axis)
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
					// Coefficient index from the full multi-index.
					st := strides(shape)
					want := make([]float64, n)
					for i := int64(0); i < n; i++ {
						k := int64(0)
						switch mode {
						case dsl.ScaleChannel:
							k = (i / st[axis]) % shape[axis]
						case dsl.ScaleElementwise:
							k = i % count
						}
						v := xs[i]
						if sc != nil {
							v *= sc[k]
						}
						if sh != nil {
							v += sh[k]
						}
						if pw != nil {
							v = math.Pow(v, pw[k])
						}
						want[i] = v
					}
					checkClose(t, got, shape, want, 2)
				})
			}
		}
	}
}

// naiveIm2col is the per-element definition of convIm2col's matrix.
func naiveIm2col(x []float32, cg int, g *convGeom3) []float32 {
	P := g.outVol()
	var res []float32
	for c := 0; c < cg; c++ {
		for kd := 0; kd < g.k[0]; kd++ {
			for kh := 0; kh < g.k[1]; kh++ {
				for kw := 0; kw < g.k[2]; kw++ {
					row := make([]float32, 0, P)
					for od := 0; od < g.out[0]; od++ {
						for oh := 0; oh < g.out[1]; oh++ {
							for ow := 0; ow < g.out[2]; ow++ {
								d := od*g.stride[0] - g.pre[0] + kd*g.dil[0]
								h := oh*g.stride[1] - g.pre[1] + kh*g.dil[1]
								w := ow*g.stride[2] - g.pre[2] + kw*g.dil[2]
								v := float32(0)
								if d >= 0 && d < g.in[0] && h >= 0 && h < g.in[1] && w >= 0 && w < g.in[2] {
									v = x[((c*g.in[0]+d)*g.in[1]+h)*g.in[2]+w]
								}
								row = append(row, v)
							}
						}
					}
					res = append(res, row...)
				}
			}
		}
	}
	return res
}

// TestConvIm2colMatchesNaive checks every way convIm2colPlane builds a
// plane: the single shifted copy (stride 1, same width), row copies
// (stride 1, other widths), strided gathers, dilation, padding wider than
// the kernel (whole rows and planes in the padding) and 3-d depth slices.
func TestConvIm2colMatchesNaive(t *testing.T) {
	cases := []struct {
		in, out, k, stride, dil, pre [3]int
	}{
		{[3]int{1, 6, 7}, [3]int{1, 6, 7}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 1, 1}},   // same padding: one copy
		{[3]int{1, 6, 7}, [3]int{1, 4, 5}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 0, 0}},   // valid: row copies
		{[3]int{1, 6, 7}, [3]int{1, 10, 11}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 3, 3}}, // padding > kernel
		{[3]int{1, 9, 8}, [3]int{1, 5, 4}, [3]int{1, 3, 3}, [3]int{1, 2, 2}, [3]int{1, 1, 1}, [3]int{0, 1, 1}},   // stride 2
		{[3]int{1, 12, 11}, [3]int{1, 6, 6}, [3]int{1, 7, 7}, [3]int{1, 2, 2}, [3]int{1, 1, 1}, [3]int{0, 3, 3}}, // resnet stem
		{[3]int{1, 9, 9}, [3]int{1, 5, 5}, [3]int{1, 1, 1}, [3]int{1, 2, 2}, [3]int{1, 1, 1}, [3]int{0, 0, 0}},   // 1x1 stride 2
		{[3]int{1, 8, 8}, [3]int{1, 8, 8}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 2, 2}, [3]int{0, 2, 2}},   // dilated same
		{[3]int{1, 8, 9}, [3]int{1, 4, 6}, [3]int{1, 3, 2}, [3]int{1, 2, 1}, [3]int{1, 2, 3}, [3]int{0, 2, 1}},   // mixed
		{[3]int{1, 5, 6}, [3]int{1, 5, 6}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 2, 0}},   // same width, shifted rows
		{[3]int{1, 3, 3}, [3]int{1, 9, 9}, [3]int{1, 2, 2}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 4, 4}},   // windows fully in padding
		{[3]int{4, 5, 6}, [3]int{4, 5, 6}, [3]int{3, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{1, 1, 1}},   // 3-d same
		{[3]int{5, 6, 7}, [3]int{3, 3, 4}, [3]int{2, 3, 2}, [3]int{2, 2, 2}, [3]int{1, 1, 1}, [3]int{1, 1, 1}},   // 3-d strided
	}
	rng := newRNG(34)
	for i, tc := range cases {
		g := convGeom3{in: tc.in, out: tc.out, k: tc.k, stride: tc.stride, dil: tc.dil, pre: tc.pre}
		const cg = 3
		x := make([]float32, cg*g.inVol())
		for j := range x {
			x[j] = float32(randFloats(rng, 1, -1, 1)[0])
		}
		col := make([]float32, cg*g.kVol()*g.outVol())
		for j := range col {
			col[j] = float32(math.NaN()) // stale values must all be overwritten
		}
		convIm2col(x, col, cg, &g)
		want := naiveIm2col(x, cg, &g)
		for j := range want {
			if math.Float32bits(col[j]) != math.Float32bits(want[j]) {
				t.Fatalf("case %d: element %d = %v, want %v", i, j, col[j], want[j])
			}
		}
	}
}

func TestMaxPoolingPropagatesNaN(t *testing.T) {
	vals := []float64{1, 2, math.NaN(), 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8}
	for _, ptype := range dsl.AllPoolingTypes() {
		net := dsl.NewNetwork()
		l := net.AddPoolingNd(net.AddInput("x", dsl.Float32, dsl.Dims{1, 1, 4, 4}), ptype, dsl.Dims{2, 2})
		l.SetStrideNd(dsl.Dims{2, 2})
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{1, 1, 4, 4}, vals)})[l.Output(0).Name()].Float32s()
		// Windows: {1,2,5,6}, {NaN,4,7,8}, {-1,-2,-5,-6}, {-3,-4,-7,-8}.
		if got[1] == got[1] {
			t.Errorf("%v: window with NaN gave %v", ptype, got[1])
		}
		if ptype == dsl.PoolingMax && (got[0] != 6 || got[2] != -1 || got[3] != -3) {
			t.Errorf("max: got %v, want [6 NaN -1 -3]", got)
		}
	}
}
