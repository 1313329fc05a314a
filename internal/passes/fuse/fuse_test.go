package fuse

import (
	"math"
	"slices"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

func TestPatternsInPriorityOrder(t *testing.T) {
	want := []string{"conv+residual", "conv+bias+activation", "matmul+bias+activation", "softmax", "normalization", "reduce chain", "pointwise"}
	if got := Patterns(); !slices.Equal(got, want) {
		t.Fatalf("Patterns() = %v, want %v", got, want)
	}
	if len(Table()) != len(want) {
		t.Fatalf("Table() has %d entries", len(Table()))
	}
}

func TestConvBiasActivation(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 1, 3, 6, 6)
	y := b.conv("conv", x, 4)
	y = b.ew("bias", y, b.constant("c", 1, 4, 1, 1), dsl.ElementWiseSum)
	y = b.act("relu", y, dsl.ActivationReLU)
	z := b.conv("conv2", y, 4)
	z = b.bn("bn2", z)
	z = b.act("clip", z, dsl.ActivationClip)
	g := fuse(t, b.output(z))
	wantGroups(t, g,
		"ConvBiasActivation[conv bias relu]",
		"ConvBiasActivation[conv2 bn2 clip]")
}

func TestConvSiLU(t *testing.T) {
	// PyTorch exports SiLU as Sigmoid and Mul, both reading the conv.
	b := newBuilder()
	x := b.input("x", -1, 3, 5, 5)
	y := b.conv("conv", x, 4)
	s := b.act("sigmoid", y, dsl.ActivationSigmoid)
	y = b.ew("mul", y, s, dsl.ElementWiseProd)
	g := fuse(t, b.output(y))
	wantGroups(t, g, "ConvBiasActivation[conv sigmoid mul]")
}

func TestConvResidual(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 1, 4, 6, 6)
	y := b.conv("conv", x, 4)
	y = b.bn("bn", y)
	y = b.ew("add", y, x, dsl.ElementWiseSum)
	y = b.act("relu", y, dsl.ActivationReLU)
	g := fuse(t, b.output(y))
	wantGroups(t, g, "ConvResidual[conv bn add relu]")
}

func TestMatMulBiasActivation(t *testing.T) {
	b := newBuilder()
	x := b.input("x", -1, 5, 8)
	y := b.matmul("mm", x, b.constant("w", 1, 8, 6))
	y = b.ew("bias", b.constant("b", 1, 1, 6), y, dsl.ElementWiseSum) // bias first, as PyTorch exports it
	y = b.act("gelu", y, dsl.ActivationGeluErf)
	z := b.matmul("mm2", y, b.constant("w2", 1, 6, 6))
	z = b.act("relu", z, dsl.ActivationReLU) // no bias
	g := fuse(t, b.output(z))
	wantGroups(t, g,
		"MatMulBiasActivation[mm bias gelu]",
		"MatMulBiasActivation[mm2 relu]")
}

// gelu writes PyTorch's erf GELU: Div √2, Erf, Add 1, Mul x, Mul 0.5.
func (b *builder) gelu(x *dsl.Tensor) *dsl.Tensor {
	d := b.ew("div", x, b.scalar("sqrt2", x.Rank(), float32(math.Sqrt2)), dsl.ElementWiseDiv)
	e := b.unary("erf", d, dsl.UnaryErf)
	a := b.ew("add1", e, b.scalar("one", x.Rank(), 1), dsl.ElementWiseSum)
	m := b.ew("mulx", x, a, dsl.ElementWiseProd)
	return b.ew("half", m, b.scalar("half", x.Rank(), 0.5), dsl.ElementWiseProd)
}

func TestMatMulBiasGELUChain(t *testing.T) {
	b := newBuilder()
	x := b.input("x", -1, 5, 8)
	y := b.matmul("mm", x, b.constant("w", 1, 8, 6))
	y = b.ew("bias", y, b.constant("b", 1, 1, 6), dsl.ElementWiseSum)
	g := fuse(t, b.output(b.gelu(y)))
	wantGroups(t, g, "MatMulBiasActivation[mm bias div erf add1 mulx half]")
}

func TestGELUChainWrongConstantIsPointwise(t *testing.T) {
	// With one constant off it is not GELU: the matmul keeps only its
	// bias and the chain is a pointwise group.
	for _, c := range [][3]float32{{1.5, 1, 0.5}, {math.Sqrt2, 2, 0.5}, {math.Sqrt2, 1, 0.6}} {
		b := newBuilder()
		x := b.input("x", 4, 8)
		y := b.matmul("mm", x, b.constant("w", 8, 6))
		y = b.ew("bias", y, b.constant("b", 1, 6), dsl.ElementWiseSum)
		d := b.ew("div", y, b.scalar("sqrt2", 2, c[0]), dsl.ElementWiseDiv)
		e := b.unary("erf", d, dsl.UnaryErf)
		a := b.ew("add1", e, b.scalar("one", 2, c[1]), dsl.ElementWiseSum)
		m := b.ew("mulx", y, a, dsl.ElementWiseProd)
		out := b.ew("half", m, b.scalar("half", 2, c[2]), dsl.ElementWiseProd)
		g := fuse(t, b.output(out))
		wantGroups(t, g,
			"MatMulBiasActivation[mm bias]",
			"Pointwise[div erf add1 mulx half]")
	}
}

func TestSoftMax(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 2, 3, 7)
	// An attention's scale and mask, then SoftMax.
	s := b.ew("scale", x, b.scalar("k", 3, 0.125), dsl.ElementWiseProd)
	s = b.ew("mask", s, b.input("m", 2, 3, 7), dsl.ElementWiseSum)
	s = name(b.net.AddSoftMax(s).Output(0), "softmax")
	// Written out, with the max for stability.
	const last = 1 << 2
	y := b.input("y", 2, 3, 7)
	m := b.reduce("max", y, dsl.ReduceMax, last)
	d := b.ew("sub", y, m, dsl.ElementWiseSub)
	e := b.unary("exp", d, dsl.UnaryExp)
	sum := b.reduce("sum", e, dsl.ReduceSum, last)
	p := b.ew("div", e, sum, dsl.ElementWiseDiv)
	// Written out without it.
	e2 := b.unary("exp2", b.input("z", 2, 3, 7), dsl.UnaryExp)
	p2 := b.ew("div2", e2, b.reduce("sum2", e2, dsl.ReduceSum, 1<<1), dsl.ElementWiseDiv)
	g := fuse(t, b.output(s, p, p2))
	wantGroups(t, g,
		"SoftMax[scale mask softmax]",
		"SoftMax[max sub exp sum div]",
		"SoftMax[exp2 sum2 div2]")
}

func TestLoneSoftMaxIsNoFusion(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 2, 7)
	s := b.net.AddSoftMax(x).Output(0)
	net := b.output(s)
	g := ir.New(net)
	ng, err := Fuse(g, ir.Options{})
	if err != nil || ng != g {
		t.Fatalf("Fuse of a lone SoftMax = %v, %v; want the input graph itself", ng, err)
	}
}

func TestNormalization(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 2, 4, 8)
	const last = 1 << 2
	// A Normalization without affine inputs, with its affine after it.
	n := b.net.AddNormalization(x, b.scalar("one", 3, 1), b.scalar("zero", 3, 0), last)
	n.SetName("norm")
	y := b.ew("gamma", n.Output(0), b.constant("g", 1, 1, 8), dsl.ElementWiseProd)
	y = b.ew("beta", y, b.constant("bb", 1, 1, 8), dsl.ElementWiseSum)
	// A residual add into a LayerNorm whose sum is also read later.
	r := b.ew("resid", y, b.input("r", 2, 4, 8), dsl.ElementWiseSum)
	n2 := b.net.AddNormalization(r, b.constant("g2", 1, 1, 8), b.constant("b2", 1, 1, 8), last)
	n2.SetName("norm2")
	z := b.act("relu", n2.Output(0), dsl.ActivationReLU)
	out := b.ew("resid2", z, r, dsl.ElementWiseSum)
	g := fuse(t, b.output(out))
	wantGroups(t, g,
		"Normalization[norm gamma beta]",
		"Normalization[resid norm2 relu]")
}

// cast adds a Cast to dt.
func (b *builder) cast(n string, x *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	return name(b.net.AddCast(x, dt).Output(0), n)
}

// TestAutocastCasts: the casts autocast puts around what it keeps in fp32
// join the softmax and normalization groups, and constants rounded to fp16
// still make a GELU.
func TestAutocastCasts(t *testing.T) {
	b := newBuilder()
	half := func(n string, dims ...int64) *dsl.Tensor { return b.net.AddInput(n, dsl.Float16, dims) }
	r := b.ew("resid", half("x", 2, 4, 8), half("r", 2, 4, 8), dsl.ElementWiseSum)
	n := b.net.AddNormalization(b.cast("to32", r, dsl.Float32), b.constant("g", 1, 1, 8), b.constant("bb", 1, 1, 8), 1<<2)
	n.SetName("norm")
	y := b.cast("to16", n.Output(0), dsl.Float16)
	s := b.net.AddSoftMax(b.cast("sm.to32", half("s", 2, 4, 8), dsl.Float32))
	s.SetName("softmax")
	z := b.cast("sm.to16", s.Output(0), dsl.Float16)
	// GELU on fp16, its constants rounded to fp16.
	c16 := func(n string, v float64) *dsl.Tensor {
		w := must(dsl.Float32Weights(float32(v)).Tensor().Convert(dsl.Float16))
		return name(b.net.AddConstant(dsl.Dims{1, 1}, dsl.NewWeights(w)).Output(0), n)
	}
	w := must(b.weights(8, 8).Tensor().Convert(dsl.Float16))
	mm := b.matmul("mm", half("m", 4, 8), name(b.net.AddConstant(dsl.Dims{8, 8}, dsl.NewWeights(w)).Output(0), "w"))
	d := b.ew("div", mm, c16("sqrt2", math.Sqrt2), dsl.ElementWiseDiv)
	e := b.unary("erf", d, dsl.UnaryErf)
	a := b.ew("add1", e, c16("one", 1), dsl.ElementWiseSum)
	m := b.ew("mulx", mm, a, dsl.ElementWiseProd)
	out := b.ew("half", m, c16("half", 0.5), dsl.ElementWiseProd)
	g := fuse(t, b.output(y, r, z, out))
	wantGroups(t, g,
		"Normalization[resid to32 norm to16]",
		"SoftMax[sm.to32 softmax sm.to16]",
		"MatMulBiasActivation[mm div erf add1 mulx half]")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// layerNorm writes LayerNorm over the last axis as PyTorch exports it below
// opset 17.
func (b *builder) layerNorm(x *dsl.Tensor, pow bool) *dsl.Tensor {
	r := x.Rank()
	axes := uint32(1) << uint(r-1)
	mean := b.reduce("mean", x, dsl.ReduceAvg, axes)
	d := b.ew("sub", x, mean, dsl.ElementWiseSub)
	var sq *dsl.Tensor
	if pow {
		sq = b.ew("pow", d, b.scalar("two", r, 2), dsl.ElementWisePow)
	} else {
		sq = b.ew("sq", d, d, dsl.ElementWiseProd)
	}
	v := b.reduce("var", sq, dsl.ReduceAvg, axes)
	v = b.ew("eps", v, b.scalar("e", r, 1e-5), dsl.ElementWiseSum)
	s := b.unary("sqrt", v, dsl.UnarySqrt)
	y := b.ew("div", d, s, dsl.ElementWiseDiv)
	f := x.Dims()[r-1]
	gd := make(dsl.Dims, r)
	for i := range gd {
		gd[i] = 1
	}
	gd[r-1] = f
	y = b.ew("gamma", y, b.constant("g", gd...), dsl.ElementWiseProd)
	return b.ew("beta", y, b.constant("bb", gd...), dsl.ElementWiseSum)
}

func TestLayerNormFromReduces(t *testing.T) {
	for _, pow := range []bool{true, false} {
		b := newBuilder()
		x := b.input("x", -1, 5, 8)
		g := fuse(t, b.output(b.layerNorm(x, pow)))
		sq := "pow"
		if !pow {
			sq = "sq"
		}
		wantGroups(t, g, "Normalization[mean sub "+sq+" var eps sqrt div gamma beta]")
	}
}

func TestReduceChain(t *testing.T) {
	// An L2 norm over the last axis: square, sum, square root, and the
	// input divided by it.
	b := newBuilder()
	x := b.input("x", 3, 8)
	sq := b.ew("sq", x, x, dsl.ElementWiseProd)
	s := b.reduce("sum", sq, dsl.ReduceSum, 1<<1)
	n := b.unary("sqrt", s, dsl.UnarySqrt)
	y := b.ew("div", x, n, dsl.ElementWiseDiv)
	g := fuse(t, b.output(y))
	wantGroups(t, g, "ReduceChain[sq sum sqrt div]")
}

func TestReduceChainWithTwoRoots(t *testing.T) {
	// The variance as E[x²] - E[x]²: x*x is a second root (it reads only
	// x, from outside), which ir.Check's connectivity does not allow, so
	// it and its mean form their own group, scheduled first.
	b := newBuilder()
	x := b.input("x", 3, 8)
	mean := b.reduce("mean", x, dsl.ReduceAvg, 1<<1)
	msq := b.ew("msq", mean, mean, dsl.ElementWiseProd)
	sq := b.ew("sq", x, x, dsl.ElementWiseProd)
	ms := b.reduce("ms", sq, dsl.ReduceAvg, 1<<1)
	v := b.ew("var", ms, msq, dsl.ElementWiseSub)
	s := b.unary("sqrt", v, dsl.UnarySqrt)
	g := fuse(t, b.output(s))
	wantGroups(t, g,
		"ReduceChain[sq ms]",
		"ReduceChain[mean msq var sqrt]")
}

func TestPointwise(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 2, 3, 4)
	y := b.unary("exp", x, dsl.UnaryExp)
	y = b.ew("mul", y, b.constant("c", 1, 3, 1), dsl.ElementWiseProd) // broadcast input from outside
	y = b.act("tanh", y, dsl.ActivationTanh)
	y = name(b.net.AddCast(y, dsl.Float16).Output(0), "cast")
	// The sum's two operands are members: a tree.
	a := b.unary("abs", y, dsl.UnaryAbs)
	y = b.ew("sum", a, y, dsl.ElementWiseSum)
	g := fuse(t, b.output(y))
	wantGroups(t, g, "Pointwise[exp mul tanh cast abs sum]")
}

func TestNoFusionWhenIntermediateEscapes(t *testing.T) {
	t.Run("two consumers", func(t *testing.T) {
		b := newBuilder()
		x := b.input("x", 1, 3, 6, 6)
		y := b.conv("conv", x, 4)
		r := b.act("relu", y, dsl.ActivationReLU)
		s := b.act("tanh", y, dsl.ActivationTanh)
		wantGroups(t, fuse(t, b.output(r, s)))
	})
	t.Run("network output", func(t *testing.T) {
		b := newBuilder()
		x := b.input("x", 1, 3, 6, 6)
		y := b.conv("conv", x, 4)
		r := b.act("relu", y, dsl.ActivationReLU)
		wantGroups(t, fuse(t, b.output(y, r)))
	})
	t.Run("pointwise middle output", func(t *testing.T) {
		// exp -> neg -> abs with neg also an output: exp+neg fuse, abs
		// stays alone.
		b := newBuilder()
		x := b.input("x", 4, 5)
		y := b.unary("exp", x, dsl.UnaryExp)
		n := b.unary("neg", y, dsl.UnaryNeg)
		a := b.unary("abs", n, dsl.UnaryAbs)
		wantGroups(t, fuse(t, b.output(n, a)), "Pointwise[exp neg]")
	})
	t.Run("skip add read by a later norm input", func(t *testing.T) {
		// The residual sum feeds the normalization's scale input through
		// another layer: absorbing it would make a cycle between groups.
		b := newBuilder()
		x := b.input("x", 2, 4, 8)
		r := b.ew("resid", x, b.input("r", 2, 4, 8), dsl.ElementWiseSum)
		sc := b.reduce("scale", r, dsl.ReduceMax, 1<<0|1<<1)
		n := b.net.AddNormalization(r, sc, b.constant("b", 1, 1, 8), 1<<2)
		n.SetName("norm")
		for _, f := range fuse(t, b.output(n.Output(0))).Fusions {
			if f.Kind == ir.FusedNormalization {
				t.Fatalf("fused %v", f.Names())
			}
		}
	})
}

func TestNoFusionWhenShapesDiffer(t *testing.T) {
	t.Run("pointwise broadcast grows", func(t *testing.T) {
		// a is [1,4]; a + y is [3,4]: not the same dims, no group.
		b := newBuilder()
		x := b.input("x", 1, 4)
		a := b.unary("exp", x, dsl.UnaryExp)
		y := b.ew("sum", a, b.input("y", 3, 4), dsl.ElementWiseSum)
		wantGroups(t, fuse(t, b.output(y)))
	})
	t.Run("bias not per channel", func(t *testing.T) {
		// [1,1,6,1] varies along H: not a conv bias; not the conv's dims
		// either, so not a residual.
		b := newBuilder()
		x := b.input("x", 1, 3, 6, 6)
		y := b.conv("conv", x, 4)
		y = b.ew("add", y, b.constant("c", 1, 1, 6, 1), dsl.ElementWiseSum)
		wantGroups(t, fuse(t, b.output(y)))
	})
	t.Run("matmul bias per row", func(t *testing.T) {
		b := newBuilder()
		x := b.input("x", 4, 8)
		y := b.matmul("mm", x, b.constant("w", 8, 6))
		y = b.ew("add", y, b.constant("c", 4, 1), dsl.ElementWiseSum)
		wantGroups(t, fuse(t, b.output(y)))
	})
}

func TestRegionsAreNotFused(t *testing.T) {
	// A loop whose body has a chain exp -> neg that would fuse outside:
	// it leaves the loop as a concatenation of every iteration's value.
	b := newBuilder()
	seq := b.input("seq", 5, 3)
	init := b.input("init", 3)
	trips := b.net.AddConstant(dsl.Dims{}, dsl.Int32Weights(5)).Output(0)
	lp := b.net.AddLoop()
	lp.AddTripLimit(trips, dsl.TripLimitCount)
	rec := lp.AddRecurrence(init)
	it := lp.AddIterator(seq, 0, false)
	e := b.unary("exp", it.Output(0), dsl.UnaryExp)
	n := b.unary("neg", e, dsl.UnaryNeg)
	rec.SetInput(1, b.ew("acc", rec.Output(0), it.Output(0), dsl.ElementWiseSum))
	last := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	cat := lp.AddLoopOutput(n, dsl.LoopOutputConcatenate, 0)
	cat.SetInput(1, trips)
	// Outside the loop, a chain that does fuse.
	y := b.unary("sqrt", last, dsl.UnarySqrt)
	y = b.unary("abs", y, dsl.UnaryAbs)
	g := fuse(t, b.output(y, cat.Output(0)))
	wantGroups(t, g, "Pointwise[sqrt abs]")
}

func TestShapeArithmeticIsNotFused(t *testing.T) {
	// Cast and arithmetic on a Shape's output are build-time values, not
	// kernels: only the chain on x's values fuses.
	b := newBuilder()
	x := b.input("x", -1, 4)
	s := name(b.net.AddShape(x).Output(0), "shape")
	c := name(b.net.AddCast(s, dsl.Float32).Output(0), "cast")
	q := b.unary("sqrt", c, dsl.UnarySqrt)
	q = b.unary("neg", q, dsl.UnaryNeg)
	y := b.unary("exp", x, dsl.UnaryExp)
	y = b.unary("abs", y, dsl.UnaryAbs)
	g := fuse(t, b.output(y, q))
	wantGroups(t, g, "Pointwise[exp abs]")
}

func TestKeepsExistingFusions(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 4, 5)
	y := b.unary("exp", x, dsl.UnaryExp)
	y = b.unary("neg", y, dsl.UnaryNeg)
	y = b.unary("abs", y, dsl.UnaryAbs)
	y = b.unary("sqrt", y, dsl.UnarySqrt)
	net := b.output(y)
	g := ir.New(net)
	exp, _ := net.Layer(0).Output(0).Producer()
	neg := net.Layer(1)
	g.Fusions = []ir.Fusion{{Kind: ir.FusedPointwise, Layers: []dsl.Layer{exp, neg}}}
	g.Precisions["neg"] = ir.PrecisionDecision{Type: dsl.Float32, Reason: "test"}
	ng, err := Fuse(g, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Check(ng); err != nil {
		t.Fatal(err)
	}
	wantGroups(t, ng, "Pointwise[exp neg]", "Pointwise[abs sqrt]")
	if ng.Precisions["neg"].Reason != "test" || len(g.Fusions) != 1 {
		t.Fatalf("precisions %v, input fusions %v", ng.Precisions, describe(g))
	}
}

func TestRejectsBrokenNetwork(t *testing.T) {
	b := newBuilder()
	x := b.input("x", 4, 5)
	y := b.ew("sum", x, b.input("y", 3, 5), dsl.ElementWiseSum) // 4 vs 3: a shape error
	net := b.output(y)
	if _, err := Fuse(ir.New(net), ir.Options{}); err == nil {
		t.Fatal("Fuse accepted a network with errors")
	}
	if _, err := Fuse(nil, ir.Options{}); err == nil {
		t.Fatal("Fuse accepted a nil graph")
	}
}

func TestAcceptableRejectsCyclesAndSecondRoots(t *testing.T) {
	// a = exp(x); s = shuffle(a) (not fusable); c = a + s; d = neg(y).
	b := newBuilder()
	x := b.input("x", 4, 5)
	a := b.unary("a", x, dsl.UnaryExp)
	s := name(b.net.AddShuffle(a).Output(0), "s")
	c := b.ew("c", a, s, dsl.ElementWiseSum)
	d := b.unary("d", b.input("y", 4, 5), dsl.UnaryNeg)
	e := b.ew("e", c, d, dsl.ElementWiseSum)
	net := b.output(e)
	g := newGraph(net)
	layer := func(t *dsl.Tensor) dsl.Layer { p, _ := t.Producer(); return p }
	for _, tc := range []struct {
		members []*dsl.Tensor
		want    bool
	}{
		{[]*dsl.Tensor{a, c}, false},    // a -> s -> c leaves the group and comes back
		{[]*dsl.Tensor{c, e}, true},     // d is an input from outside
		{[]*dsl.Tensor{c, d, e}, false}, // d is a second root
		{[]*dsl.Tensor{c, c}, false},    // a member twice
	} {
		var ms []dsl.Layer
		for _, m := range tc.members {
			ms = append(ms, layer(m))
		}
		if got := g.acceptable(ms); got != tc.want {
			t.Errorf("acceptable(%v) = %v, want %v", describeLayers(ms), got, tc.want)
		}
	}
	// The pointwise pattern itself never builds the first group: a's output
	// escapes to s, so only c + e fuse.
	wantGroups(t, fuse(t, net), "Pointwise[c e]")
}

func describeLayers(ls []dsl.Layer) []string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Name())
	}
	return s
}
