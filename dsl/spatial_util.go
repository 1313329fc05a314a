package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// PaddingMode selects how convolution, deconvolution and pooling layers pad
// their spatial dims and round their output size; values are TensorRT's
// nvinfer1::PaddingMode. The SAME modes ignore explicit pre/post padding.
type PaddingMode int

const (
	PaddingExplicitRoundDown PaddingMode = iota // explicit padding, output size rounded down
	PaddingExplicitRoundUp                      // explicit padding, output size rounded up
	PaddingSameUpper                            // output ceil(I/S); the odd padding element goes after
	PaddingSameLower                            // output ceil(I/S); the odd padding element goes before
	numPaddingModes
)

var paddingModeNames = [...]string{"ExplicitRoundDown", "ExplicitRoundUp", "SameUpper", "SameLower"}

func (m PaddingMode) String() string {
	if m >= 0 && m < numPaddingModes {
		return paddingModeNames[m]
	}
	return fmt.Sprintf("PaddingMode(%d)", int(m))
}

// AllPaddingModes lists every padding mode.
func AllPaddingModes() []PaddingMode {
	out := make([]PaddingMode, numPaddingModes)
	for i := range out {
		out[i] = PaddingMode(i)
	}
	return out
}

// spatialParams are the window parameters shared by convolution,
// deconvolution and pooling: one entry per spatial dim.
type spatialParams struct {
	window   Dims // kernel or pooling window
	stride   Dims
	dilation Dims // all 1 for pooling
	pre      Dims
	post     Dims
	mode     PaddingMode
}

func spatialOnes(n int) Dims {
	d := make(Dims, n)
	for i := range d {
		d[i] = 1
	}
	return d
}

// newSpatialParams returns defaults for a window: stride and dilation 1, no
// padding, kEXPLICIT_ROUND_DOWN.
func newSpatialParams(window Dims) spatialParams {
	n := len(window)
	return spatialParams{window: window.Clone(), stride: spatialOnes(n), dilation: spatialOnes(n),
		pre: make(Dims, n), post: make(Dims, n)}
}

// SpatialGeometry is the resolved geometry of one sliding-window layer for
// concrete (or dynamic) input spatial dims: the output dims and the padding
// actually applied before and after each spatial dim. Targets use it so that
// every engine pads and sizes exactly as the dsl inferred.
type SpatialGeometry struct {
	Out, Pre, Post Dims
}

// check validates the parameters against a spatial rank and reports
// the first problem through c; what names the layer's window ("kernel").
func (p *spatialParams) check(c *inferCtx, what string, nbSpatial int) bool {
	if p.mode < 0 || p.mode >= numPaddingModes {
		c.errorf(diag.InvalidNode, "unknown padding mode %d", int(p.mode))
		return false
	}
	named := []struct {
		name string
		d    Dims
		min  int64
	}{{what + " size", p.window, 1}, {"stride", p.stride, 1}, {"dilation", p.dilation, 1},
		{"pre-padding", p.pre, 0}, {"post-padding", p.post, 0}}
	for _, x := range named {
		if len(x.d) != nbSpatial {
			c.errorf(diag.InvalidNode, "%s %v has %d dims, but the input has %d spatial dims", x.name, x.d, len(x.d), nbSpatial)
			return false
		}
		for i, v := range x.d {
			if v < x.min {
				c.errorf(diag.InvalidNode, "%s %v: dim %d is %d, want >= %d", x.name, x.d, i, v, x.min)
				return false
			}
		}
	}
	return true
}

// spatialCeilDiv is ceil(a/b) for a >= 0 and b > 0.
func spatialCeilDiv(a, b int64) int64 { return (a + b - 1) / b }

// spatialFloorDiv is floor(a/b) for b > 0 and any a.
func spatialFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// convGeometry applies TensorRT's PaddingMode formulas for convolution and
// pooling (pooling has dilation 1) to input spatial dims in. A -1 input dim
// gives a -1 output dim (and padding -1 for the SAME modes, where padding
// depends on the input).
func (p *spatialParams) convGeometry(in Dims) SpatialGeometry {
	n := len(in)
	g := SpatialGeometry{Out: make(Dims, n), Pre: make(Dims, n), Post: make(Dims, n)}
	for i, I := range in {
		dk := 1 + p.dilation[i]*(p.window[i]-1)
		s := p.stride[i]
		switch p.mode {
		case PaddingSameUpper, PaddingSameLower:
			if I < 0 {
				g.Out[i], g.Pre[i], g.Post[i] = -1, -1, -1
				continue
			}
			g.Out[i] = spatialCeilDiv(I, s)
			pad := max(spatialFloorDiv(I-1, s)*s+dk-I, 0)
			small, big := pad/2, pad-pad/2
			if p.mode == PaddingSameUpper {
				g.Pre[i], g.Post[i] = small, big
			} else {
				g.Pre[i], g.Post[i] = big, small
			}
		default:
			g.Pre[i], g.Post[i] = p.pre[i], p.post[i]
			if I < 0 {
				g.Out[i] = -1
				continue
			}
			m := I + p.pre[i] + p.post[i] - dk
			if m < 0 {
				g.Out[i] = 0 // the window never fits: an empty output, as an error below
				continue
			}
			if p.mode == PaddingExplicitRoundUp {
				g.Out[i] = spatialCeilDiv(m, s) + 1
			} else {
				g.Out[i] = m/s + 1
			}
		}
	}
	return g
}

// deconvGeometry applies TensorRT's PaddingMode formulas for deconvolution.
func (p *spatialParams) deconvGeometry(in Dims) SpatialGeometry {
	n := len(in)
	g := SpatialGeometry{Out: make(Dims, n), Pre: make(Dims, n), Post: make(Dims, n)}
	for i, I := range in {
		dk := 1 + p.dilation[i]*(p.window[i]-1)
		s := p.stride[i]
		switch p.mode {
		case PaddingSameUpper, PaddingSameLower:
			pad := max(dk-s, 0)
			small, big := pad/2, pad-pad/2
			if p.mode == PaddingSameUpper {
				g.Pre[i], g.Post[i] = small, big
			} else {
				g.Pre[i], g.Post[i] = big, small
			}
			if I < 0 {
				g.Out[i] = -1
				continue
			}
			g.Out[i] = min(I*s, (I-1)*s+dk)
		default:
			g.Pre[i], g.Post[i] = p.pre[i], p.post[i]
			if I < 0 {
				g.Out[i] = -1
				continue
			}
			g.Out[i] = (I-1)*s + dk - (p.pre[i] + p.post[i])
		}
	}
	return g
}

// checkPositive reports an error when a static output spatial dim is not
// positive while its input dim is: the window does not fit the padded input.
func (g SpatialGeometry) checkPositive(c *inferCtx, in *Tensor, p *spatialParams, what string) bool {
	sp := in.dims[2:]
	for i, o := range g.Out {
		if (o == 0 && sp[i] != 0) || o < -1 {
			c.errorf(diag.ShapeMismatch, "%s %v (dilation %v, stride %v, padding %v/%v, mode %v) does not fit spatial dim %d of %q (dims %v): output size would be %d",
				what, p.window, p.dilation, p.stride, p.pre, p.post, p.mode, i, in.name, in.dims, o)
			return false
		}
	}
	return true
}

// spatialWindow holds the window parameters of a layer and gives it
// TensorRT's stride and padding getters and setters (embedded in the
// convolution, deconvolution and pooling layers).
type spatialWindow struct {
	owner *layerBase
	sp    spatialParams
}

func (w *spatialWindow) touch() { w.owner.changed() }

// StrideNd returns the stride per spatial dim (default all 1).
func (w *spatialWindow) StrideNd() Dims { return w.sp.stride.Clone() }

// SetStrideNd sets the stride per spatial dim.
func (w *spatialWindow) SetStrideNd(s Dims) {
	w.sp.stride = s.Clone()
	w.touch()
}

// PaddingNd returns the pre-padding (TensorRT returns the pre-padding when
// the padding is asymmetric).
func (w *spatialWindow) PaddingNd() Dims { return w.sp.pre.Clone() }

// SetPaddingNd sets symmetric padding: the same pre- and post-padding.
func (w *spatialWindow) SetPaddingNd(p Dims) {
	w.sp.pre, w.sp.post = p.Clone(), p.Clone()
	w.touch()
}

// PrePadding returns the padding before each spatial dim.
func (w *spatialWindow) PrePadding() Dims { return w.sp.pre.Clone() }

// SetPrePadding sets the padding before each spatial dim.
func (w *spatialWindow) SetPrePadding(p Dims) {
	w.sp.pre = p.Clone()
	w.touch()
}

// PostPadding returns the padding after each spatial dim.
func (w *spatialWindow) PostPadding() Dims { return w.sp.post.Clone() }

// SetPostPadding sets the padding after each spatial dim.
func (w *spatialWindow) SetPostPadding(p Dims) {
	w.sp.post = p.Clone()
	w.touch()
}

// PaddingMode returns the padding mode (default PaddingExplicitRoundDown).
func (w *spatialWindow) PaddingMode() PaddingMode { return w.sp.mode }

// SetPaddingMode sets the padding mode; the SAME modes take precedence over
// explicit padding, as in TensorRT.
func (w *spatialWindow) SetPaddingMode(m PaddingMode) {
	w.sp.mode = m
	w.touch()
}
