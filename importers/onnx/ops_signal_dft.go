package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// DFT as matrix products: the signal axis is moved last, cut or
// zero-padded to dft_length, multiplied by cos/sin matrices (constants
// when the length is known at import time, else built with Fill and Unary
// layers), moved back, and the real and imaginary parts stacked on a last
// axis of 2. O(L²) per transform instead of an FFT's O(L log L): fine for
// the frame lengths of audio front ends.

func init() {
	const types = "float32, float16, bfloat16 (double widened)"
	register(OpInfo{Op: "DFT", Since: 17, Types: types}, importDFT(false))
	register(OpInfo{Op: "DFT", Since: 20, Types: types, Restrictions: "axis must be known at import time"}, importDFT(true))
}

func importDFT(axisInput bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := redNeed(c, 0); err != nil {
			return nil, err
		}
		x := c.Input(0)
		if c.err != nil {
			return nil, c.err
		}
		if !x.Type().IsFloat() {
			return nil, c.Errorf(diag.TypeMismatch, "input %q is %v; DFT takes floats", x.Name(), x.Type())
		}
		r := x.Rank()
		axis := c.AttrInt("axis", 1)
		if axisInput {
			axis = -2
			if c.HasInput(2) {
				v, ok := c.ConstInts(2)
				if !ok || len(v) != 1 {
					return nil, c.Errorf(diag.UnsupportedAttr, "the axis input must be one value known at import time")
				}
				axis = v[0]
			}
		}
		ax, err := redAxis(c, "axis", axis, r)
		if err != nil {
			return nil, err
		}
		if ax > r-2 {
			return nil, c.Errorf(diag.InvalidNode, "axis %d is the real/imaginary axis of input %q (dims %v); want a signal axis in [%d, %d] or [0, %d]", axis, x.Name(), x.Dims(), -r, -2, r-2)
		}
		re, im, err := sigParts(c, x)
		if err != nil {
			return nil, err
		}
		// Move the signal axis last.
		perm := make(dsl.Permutation, 0, r-1)
		for i := 0; i < r-1; i++ {
			if i != ax {
				perm = append(perm, i)
			}
		}
		perm = append(perm, ax)
		inv := make(dsl.Permutation, r-1)
		for i, p := range perm {
			inv[p] = i
		}
		re, im = sigTranspose(c, re, perm), sigMaybe(im, func(t *dsl.Tensor) *dsl.Tensor { return sigTranspose(c, t, perm) })
		n := sigDimSize(c, x, ax)
		L := n
		if c.HasInput(1) {
			if L, err = sigScalarSize(c, 1, "dft_length"); err != nil {
				return nil, err
			}
			if !(L.static() && n.static() && L.n == n.n) {
				re, im = sigFitLast(c, re, L), sigMaybe(im, func(t *dsl.Tensor) *dsl.Tensor { return sigFitLast(c, t, L) })
			}
		}
		K := L
		if c.AttrInt("onesided", 0) != 0 {
			K = sigHalfPlusOne(c, L)
		}
		outRe, outIm := sigDFTLast(c, re, im, L, K, c.AttrInt("inverse", 0) != 0)
		outRe, outIm = sigTranspose(c, outRe, inv), sigTranspose(c, outIm, inv)
		return []*dsl.Tensor{sigStack(c, outRe, outIm)}, c.err
	}
}

// sigTranspose permutes x (no layer for the identity).
func sigTranspose(c *nodeCtx, x *dsl.Tensor, perm dsl.Permutation) *dsl.Tensor {
	identity := true
	for i, p := range perm {
		identity = identity && p == i
	}
	if identity {
		return x
	}
	l := c.Net().AddShuffle(x)
	l.SetFirstTranspose(perm)
	return l.Output(0)
}

// sigFitLast cuts the last axis of x to L elements or pads it with zeros.
func sigFitLast(c *nodeCtx, x *dsl.Tensor, L sigSize) *dsl.Tensor {
	last := int64(x.Rank() - 1)
	l := c.Net().AddSlice(x, dsl.Dims{0}, dsl.Dims{max(L.n, 0)}, dsl.Dims{1})
	l.SetAxes(dsl.Dims{last})
	l.SetMode(dsl.SampleFill)
	if !L.static() {
		l.SetInput(2, L.t)
	}
	return l.Output(0)
}
