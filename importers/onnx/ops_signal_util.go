package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Helpers of the signal importers (DFT, STFT, windows, MelWeightMatrix):
// lengths known at import time or only at run time, index ranges, and the
// DFT as two matrix products with cos/sin matrices.

// sigSize is a length known at import time (n >= 0, t nil) or only at run
// time (n = -1, t a [1] Int64 tensor).
type sigSize struct {
	n int64
	t *dsl.Tensor
}

func (s sigSize) static() bool { return s.t == nil }

// tensor returns the length as a [1] Int64 tensor.
func (s sigSize) tensor(c *nodeCtx) *dsl.Tensor {
	if s.t != nil {
		return s.t
	}
	return redInts(c, s.n)
}

// sigScalarSize reads input i, a one-element integer tensor, as a length.
func sigScalarSize(c *nodeCtx, i int, what string) (sigSize, error) {
	if v, ok := c.ConstInts(i); ok {
		if len(v) != 1 || v[0] < 0 {
			return sigSize{}, c.Errorf(diag.InvalidNode, "%s is %v; want one value >= 0", what, v)
		}
		return sigSize{n: v[0]}, nil
	}
	t := c.Input(i)
	if c.err != nil {
		return sigSize{}, c.err
	}
	if t.Type() != dsl.Int32 && t.Type() != dsl.Int64 {
		return sigSize{}, c.Errorf(diag.TypeMismatch, "%s %q is %v; want int32 or int64", what, t.Name(), t.Type())
	}
	if d := t.Dims(); d.Volume() != 1 || !d.IsStatic() {
		return sigSize{}, c.Errorf(diag.ShapeMismatch, "%s %q has dims %v; want one value", what, t.Name(), d)
	}
	return sigSize{n: -1, t: redCast(c, redReshape(c, t, 1), dsl.Int64)}, nil
}

// sigDimSize is dim axis of x as a length (static, or read with Shape).
func sigDimSize(c *nodeCtx, x *dsl.Tensor, axis int) sigSize {
	if d := x.Dims()[axis]; d >= 0 {
		return sigSize{n: d}
	}
	sh := c.Net().AddShape(x).Output(0)
	return sigSize{n: -1, t: c.Net().AddSlice(sh, dsl.Dims{int64(axis)}, dsl.Dims{1}, dsl.Dims{1}).Output(0)}
}

// sigHalfPlusOne is n/2 + 1, the number of bins of a one-sided DFT.
func sigHalfPlusOne(c *nodeCtx, n sigSize) sigSize {
	if n.static() {
		return sigSize{n: n.n/2 + 1}
	}
	h := redEW(c, n.t, redInts(c, 2), dsl.ElementWiseFloorDiv)
	return sigSize{n: -1, t: redEW(c, h, redInts(c, 1), dsl.ElementWiseSum)}
}

// sigRange is 0, 1, ..., n-1 as a 1-D tensor of type dt (Float32, Int32
// or Int64).
func sigRange(c *nodeCtx, n sigSize, dt dsl.DataType) *dsl.Tensor {
	l := c.Net().AddFill(dsl.Dims{max(n.n, 0)}, dsl.FillLinspace, dt)
	if !n.static() {
		l.SetInput(0, n.t)
	}
	return l.Output(0)
}

// sigDFTMatrices returns the [L, K] matrices cos(2π n k / L) and
// sin(2π n k / L) of type dt. With L known they are constants computed in
// float64; otherwise n k mod L is computed exactly in Int64 before the
// angle, so large products lose no precision.
func sigDFTMatrices(c *nodeCtx, L, K sigSize, dt dsl.DataType) (cosM, sinM *dsl.Tensor) {
	if L.static() && K.static() {
		cv, sv := make([]float64, L.n*K.n), make([]float64, L.n*K.n)
		for n := int64(0); n < L.n; n++ {
			for k := int64(0); k < K.n; k++ {
				a := 2 * math.Pi * float64(n*k%L.n) / float64(L.n)
				cv[n*K.n+k], sv[n*K.n+k] = math.Cos(a), math.Sin(a)
			}
		}
		shape := []int64{L.n, K.n}
		return redFloats(c, dt, shape, cv), redFloats(c, dt, shape, sv)
	}
	n := redReshape(c, sigRange(c, L, dsl.Int64), -1, 1)
	k := redReshape(c, sigRange(c, K, dsl.Int64), 1, -1)
	nk := redEW(c, n, k, dsl.ElementWiseProd)
	lt := redReshape(c, L.tensor(c), 1, 1)
	m := redEW(c, nk, redEW(c, redEW(c, nk, lt, dsl.ElementWiseFloorDiv), lt, dsl.ElementWiseProd), dsl.ElementWiseSub)
	// In quarter-turn units of L, the angle 2π m/L is π u/(2L) with u = 4m;
	// cos is sin a quarter turn (L units) later.
	u := redEW(c, m, redScalar(c, dsl.Int64, 4, 2), dsl.ElementWiseProd)
	cosM = redCast(c, sigSinQuarter(c, redEW(c, u, lt, dsl.ElementWiseSum), lt), dt)
	sinM = redCast(c, sigSinQuarter(c, u, lt), dt)
	return cosM, sinM
}

// sigSinQuarter is sin(π u / (2L)) for Int64 u >= 0, folded exactly in
// integers into [0, π/2] first, so multiples of a quarter turn give exactly
// 0 and ±1 in float32 (an unfolded float32 sin(π) is -8.7e-8, which a
// DFT of large samples turns into visible noise where 0 is expected).
func sigSinQuarter(c *nodeCtx, u, lt *dsl.Tensor) *dsl.Tensor {
	four := redEW(c, lt, redScalar(c, dsl.Int64, 4, 2), dsl.ElementWiseProd)
	half := redEW(c, lt, redScalar(c, dsl.Int64, 2, 2), dsl.ElementWiseProd)
	u = redEW(c, u, redEW(c, redEW(c, u, four, dsl.ElementWiseFloorDiv), four, dsl.ElementWiseProd), dsl.ElementWiseSub)
	neg := redUnary(c, redEW(c, u, half, dsl.ElementWiseLess), dsl.UnaryNot) // second half turn: sin < 0
	v := redSelect(c, neg, redEW(c, u, half, dsl.ElementWiseSub), u)
	w := redEW(c, v, redEW(c, half, v, dsl.ElementWiseSub), dsl.ElementWiseMin)
	ang := redEW(c, redCast(c, w, dsl.Float32), redScalar(c, dsl.Float32, math.Pi/2, 2), dsl.ElementWiseProd)
	ang = redEW(c, ang, redCast(c, lt, dsl.Float32), dsl.ElementWiseDiv)
	s := redUnary(c, ang, dsl.UnarySin)
	return redSelect(c, neg, redUnary(c, s, dsl.UnaryNeg), s)
}

// sigDFTLast transforms along the last axis of re (and im; nil for a real
// signal), whose length is L, into K bins:
//
//	forward: X_k = Σ x_n e^{-2πi nk/L}   inverse: X_k = 1/L Σ x_n e^{2πi nk/L}
func sigDFTLast(c *nodeCtx, re, im *dsl.Tensor, L, K sigSize, inverse bool) (outRe, outIm *dsl.Tensor) {
	net := c.Net()
	rank := re.Rank()
	if rank < 2 { // the product needs a matrix: view a vector as [1, L]
		re, im = redUnsqueeze(c, re, 0), sigMaybe(im, func(t *dsl.Tensor) *dsl.Tensor { return redUnsqueeze(c, t, 0) })
	}
	cosM, sinM := sigDFTMatrices(c, L, K, re.Type())
	batch := make([]int64, re.Rank()-2)
	for i := range batch {
		batch[i] = int64(i)
	}
	cosM, sinM = redUnsqueeze(c, cosM, batch...), redUnsqueeze(c, sinM, batch...)
	mm := func(a, b *dsl.Tensor) *dsl.Tensor {
		return net.AddMatrixMultiply(a, dsl.MatrixOpNone, b, dsl.MatrixOpNone).Output(0)
	}
	rc, rs := mm(re, cosM), mm(re, sinM)
	switch {
	case im == nil && inverse:
		outRe, outIm = rc, rs
	case im == nil:
		outRe, outIm = rc, redUnary(c, rs, dsl.UnaryNeg)
	case inverse:
		ic, is := mm(im, cosM), mm(im, sinM)
		outRe, outIm = redEW(c, rc, is, dsl.ElementWiseSub), redEW(c, ic, rs, dsl.ElementWiseSum)
	default:
		ic, is := mm(im, cosM), mm(im, sinM)
		outRe, outIm = redEW(c, rc, is, dsl.ElementWiseSum), redEW(c, ic, rs, dsl.ElementWiseSub)
	}
	if inverse {
		lf := redCast(c, redReshape(c, L.tensor(c), sigOnes(outRe.Rank())...), dsl.Float32)
		lf = redCast(c, lf, outRe.Type())
		outRe, outIm = redEW(c, outRe, lf, dsl.ElementWiseDiv), redEW(c, outIm, lf, dsl.ElementWiseDiv)
	}
	if rank < 2 {
		outRe, outIm = redSqueeze(c, outRe, []int64{0}), redSqueeze(c, outIm, []int64{0})
	}
	return outRe, outIm
}

// sigStack stacks real and imaginary parts on a new last axis of 2.
func sigStack(c *nodeCtx, re, im *dsl.Tensor) *dsl.Tensor {
	r := int64(re.Rank())
	l := c.Net().AddConcatenation([]*dsl.Tensor{redUnsqueeze(c, re, r), redUnsqueeze(c, im, r)})
	l.SetAxis(int(r))
	return l.Output(0)
}

// sigParts splits x [..., 1 or 2] into its real and imaginary parts
// (imaginary nil for a real signal).
func sigParts(c *nodeCtx, x *dsl.Tensor) (re, im *dsl.Tensor, err error) {
	r := x.Rank()
	if r < 2 {
		return nil, nil, c.Errorf(diag.ShapeMismatch, "input %q has dims %v; want [..., 1] (real) or [..., 2] (complex)", x.Name(), x.Dims())
	}
	last := x.Dims()[r-1]
	if last != 1 && last != 2 {
		return nil, nil, c.Errorf(diag.ShapeMismatch, "the last dim of input %q is %d; want 1 (real) or 2 (complex), known at build time", x.Name(), last)
	}
	part := func(i int64) *dsl.Tensor {
		l := c.Net().AddSlice(x, dsl.Dims{i}, dsl.Dims{1}, dsl.Dims{1})
		l.SetAxes(dsl.Dims{int64(r - 1)})
		return redSqueeze(c, l.Output(0), []int64{int64(r - 1)})
	}
	re = part(0)
	if last == 2 {
		im = part(1)
	}
	return re, im, nil
}

func sigOnes(n int) []int64 {
	o := make([]int64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

func sigMaybe(t *dsl.Tensor, f func(*dsl.Tensor) *dsl.Tensor) *dsl.Tensor {
	if t == nil {
		return nil
	}
	return f(t)
}
