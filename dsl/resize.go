package dsl

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
)

// InterpolationMode selects how Resize and GridSample compute values
// between input samples; values are TensorRT's nvinfer1::InterpolationMode.
type InterpolationMode int

const (
	InterpolationNearest InterpolationMode = iota // nearest sample (after ResizeRoundMode)
	InterpolationLinear                           // linear in each resized dim (up to 3 dims)
	InterpolationCubic                            // cubic convolution in each resized dim (2 dims)
	numInterpolationModes
)

var interpolationModeNames = [...]string{"Nearest", "Linear", "Cubic"}

func (m InterpolationMode) String() string {
	if m >= 0 && m < numInterpolationModes {
		return interpolationModeNames[m]
	}
	return fmt.Sprintf("InterpolationMode(%d)", int(m))
}

// AllInterpolationModes lists every interpolation mode.
func AllInterpolationModes() []InterpolationMode {
	out := make([]InterpolationMode, numInterpolationModes)
	for i := range out {
		out[i] = InterpolationMode(i)
	}
	return out
}

// ResizeCoordinateTransformation maps an output coordinate to an input
// coordinate; values are TensorRT's nvinfer1::ResizeCoordinateTransformation.
// With in and out the lengths of a dim:
type ResizeCoordinateTransformation int

const (
	ResizeAlignCorners ResizeCoordinateTransformation = iota // x_in = x_out * (in-1)/(out-1)
	ResizeAsymmetric                                         // x_in = x_out * in/out
	ResizeHalfPixel                                          // x_in = (x_out+0.5) * in/out - 0.5
	numResizeCoordinateTransformations
)

var resizeTransformNames = [...]string{"AlignCorners", "Asymmetric", "HalfPixel"}

func (t ResizeCoordinateTransformation) String() string {
	if t >= 0 && t < numResizeCoordinateTransformations {
		return resizeTransformNames[t]
	}
	return fmt.Sprintf("ResizeCoordinateTransformation(%d)", int(t))
}

// AllResizeCoordinateTransformations lists every coordinate transformation.
func AllResizeCoordinateTransformations() []ResizeCoordinateTransformation {
	out := make([]ResizeCoordinateTransformation, numResizeCoordinateTransformations)
	for i := range out {
		out[i] = ResizeCoordinateTransformation(i)
	}
	return out
}

// ResizeSelector decides the input coordinate of a dim resized to a single
// element; values are TensorRT's nvinfer1::ResizeSelector.
type ResizeSelector int

const (
	ResizeSelectorFormula ResizeSelector = iota // use the coordinate transformation
	ResizeSelectorUpper                         // take the upper-left element (coordinate 0)
	numResizeSelectors
)

var resizeSelectorNames = [...]string{"Formula", "Upper"}

func (s ResizeSelector) String() string {
	if s >= 0 && s < numResizeSelectors {
		return resizeSelectorNames[s]
	}
	return fmt.Sprintf("ResizeSelector(%d)", int(s))
}

// AllResizeSelectors lists every selector.
func AllResizeSelectors() []ResizeSelector {
	return []ResizeSelector{ResizeSelectorFormula, ResizeSelectorUpper}
}

// ResizeRoundMode rounds the transformed coordinate of nearest resize to
// an index; values are TensorRT's nvinfer1::ResizeRoundMode.
type ResizeRoundMode int

const (
	ResizeRoundHalfUp   ResizeRoundMode = iota // floor(x + 0.5)
	ResizeRoundHalfDown                        // ceil(x - 0.5)
	ResizeRoundFloor                           // floor(x)
	ResizeRoundCeil                            // ceil(x)
	numResizeRoundModes
)

var resizeRoundNames = [...]string{"HalfUp", "HalfDown", "Floor", "Ceil"}

func (r ResizeRoundMode) String() string {
	if r >= 0 && r < numResizeRoundModes {
		return resizeRoundNames[r]
	}
	return fmt.Sprintf("ResizeRoundMode(%d)", int(r))
}

// AllResizeRoundModes lists every rounding mode.
func AllResizeRoundModes() []ResizeRoundMode {
	out := make([]ResizeRoundMode, numResizeRoundModes)
	for i := range out {
		out[i] = ResizeRoundMode(i)
	}
	return out
}

// ResizeLayer resamples a tensor to new dims (TensorRT IResizeLayer). The
// output dims come from SetOutputDimensions, from SetScales (out =
// floor(in*scale)), or from optional input 1, a 1-D Int32/Int64 shape
// tensor with one value per input dim (a "dynamic" resize; setting it makes
// the other two ignored). Nearest resize may change any of the last 8
// dims, linear the last 3, cubic the last 2; other dims must keep their
// size. Defaults as in TensorRT: nearest, kASYMMETRIC, kFORMULA, kFLOOR,
// cubic coefficient -0.75, exclude-outside false.
//
// The coordinate transformations use in/out per dim; when scales are set,
// they use 1/scale instead (as ONNX Resize with scales does), so a scale
// that does not divide evenly keeps its exact ratio.
type ResizeLayer struct {
	layerBase
	outDims        Dims
	scales         []float32
	useScales      bool
	mode           InterpolationMode
	transform      ResizeCoordinateTransformation
	selector       ResizeSelector
	round          ResizeRoundMode
	cubicCoeff     float32
	excludeOutside bool
}

// AddResize adds a resize layer; set the output dims, the scales, or input 1.
func (n *Network) AddResize(in *Tensor) *ResizeLayer {
	l := &ResizeLayer{transform: ResizeAsymmetric, round: ResizeRoundFloor, cubicCoeff: -0.75}
	n.addLayer(l, LayerResize, 1, 2, in)
	return l
}

// OutputDimensions returns the dims set with SetOutputDimensions.
func (l *ResizeLayer) OutputDimensions() Dims { return l.outDims.Clone() }

// SetOutputDimensions sets the output dims (one per input dim) and makes
// them, not the scales, decide the output.
func (l *ResizeLayer) SetOutputDimensions(d Dims) {
	l.outDims, l.useScales = d.Clone(), false
	l.changed()
}

// Scales returns the scales, or nil when the output dims are set directly.
func (l *ResizeLayer) Scales() []float32 {
	if !l.useScales {
		return nil
	}
	return append([]float32{}, l.scales...)
}

// SetScales sets one scale per input dim and makes them decide the output.
func (l *ResizeLayer) SetScales(s []float32) {
	l.scales, l.useScales = append([]float32{}, s...), true
	l.changed()
}

func (l *ResizeLayer) ResizeMode() InterpolationMode { return l.mode }
func (l *ResizeLayer) SetResizeMode(m InterpolationMode) {
	l.mode = m
	l.changed()
}
func (l *ResizeLayer) CoordinateTransformation() ResizeCoordinateTransformation { return l.transform }
func (l *ResizeLayer) SetCoordinateTransformation(t ResizeCoordinateTransformation) {
	l.transform = t
	l.changed()
}
func (l *ResizeLayer) SelectorForSinglePixel() ResizeSelector { return l.selector }
func (l *ResizeLayer) SetSelectorForSinglePixel(s ResizeSelector) {
	l.selector = s
	l.changed()
}
func (l *ResizeLayer) NearestRounding() ResizeRoundMode { return l.round }
func (l *ResizeLayer) SetNearestRounding(r ResizeRoundMode) {
	l.round = r
	l.changed()
}

// CubicCoeff returns A of the cubic kernel (default -0.75).
func (l *ResizeLayer) CubicCoeff() float32 { return l.cubicCoeff }

// SetCubicCoeff sets A of the cubic kernel: w(x) = ((A+2)|x| - (A+3))x² + 1
// for |x| <= 1, ((A|x| - 5A)|x| + 8A)|x| - 4A for 1 < |x| < 2, else 0.
func (l *ResizeLayer) SetCubicCoeff(a float32) {
	l.cubicCoeff = a
	l.changed()
}

// ExcludeOutside reports whether samples outside the input get weight 0
// (the remaining weights renormalized to sum to 1).
func (l *ResizeLayer) ExcludeOutside() bool { return l.excludeOutside }
func (l *ResizeLayer) SetExcludeOutside(e bool) {
	l.excludeOutside = e
	l.changed()
}

// resizeMaxDims is how many innermost dims each mode may resize.
var resizeMaxDims = [...]int{8, 3, 2}

func (l *ResizeLayer) infer(c *inferCtx) {
	in := c.in(0)
	switch {
	case l.mode < 0 || l.mode >= numInterpolationModes:
		c.errorf(diag.InvalidNode, "unknown interpolation mode %d", int(l.mode))
		return
	case l.transform < 0 || l.transform >= numResizeCoordinateTransformations:
		c.errorf(diag.InvalidNode, "unknown coordinate transformation %d", int(l.transform))
		return
	case l.selector < 0 || l.selector >= numResizeSelectors:
		c.errorf(diag.InvalidNode, "unknown single-pixel selector %d", int(l.selector))
		return
	case l.round < 0 || l.round >= numResizeRoundModes:
		c.errorf(diag.InvalidNode, "unknown nearest rounding mode %d", int(l.round))
		return
	case math.IsNaN(float64(l.cubicCoeff)) || math.IsInf(float64(l.cubicCoeff), 0):
		c.errorf(diag.InvalidNode, "cubic coefficient %g is not finite", l.cubicCoeff)
		return
	}
	switch in.dtype {
	case Float32, Float16, BFloat16:
	default:
		c.errorf(diag.TypeMismatch, "resize needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	r := in.dims.Rank()
	if r == 0 {
		c.errorf(diag.ShapeMismatch, "resize needs an input of rank 1 or more; %q is a scalar", in.name)
		return
	}
	out, ok := l.outputDims(c, in)
	if !ok {
		return
	}
	// Only the innermost dims of each mode may change size.
	limit := resizeMaxDims[l.mode]
	for i := 0; i < r-limit; i++ {
		if in.dims[i] >= 0 && out[i] >= 0 && in.dims[i] != out[i] {
			c.errorf(diag.UnsupportedAttr, "%v resize changes dim %d of %q (%d to %d); it may only resize the last %d dims", l.mode, i, in.name, in.dims[i], out[i], limit)
			return
		}
		if l.useScales && l.scales[i] != 1 {
			c.errorf(diag.UnsupportedAttr, "%v resize has scale %g for dim %d of %q; it may only resize the last %d dims", l.mode, l.scales[i], i, in.name, limit)
			return
		}
	}
	c.setOutput(0, in.dtype, out)
}

// outputDims works out the output dims from input 1, the scales, or the
// set output dims.
func (l *ResizeLayer) outputDims(c *inferCtx, in *Tensor) (Dims, bool) {
	r := in.dims.Rank()
	if c.has(1) {
		s := c.in(1)
		if s.dtype != Int32 && s.dtype != Int64 {
			c.errorf(diag.TypeMismatch, "output shape tensor %q is %v; it must be Int32 or Int64", s.name, s.dtype)
			return nil, false
		}
		if s.dims.Rank() != 1 || (s.dims[0] >= 0 && s.dims[0] != int64(r)) {
			c.errorf(diag.ShapeMismatch, "output shape tensor %q has dims %v; it must be a 1-D tensor of %d values (one per dim of %q)", s.name, s.dims, r, in.name)
			return nil, false
		}
		out := make(Dims, r)
		for i := range out {
			out[i] = -1
		}
		if v, ok := c.values(1); ok && len(v) == r {
			for i, d := range v {
				if d < 0 {
					c.errorf(diag.ShapeMismatch, "output shape tensor %q holds %v; dim %d is negative", s.name, v, i)
					return nil, false
				}
				out[i] = d
			}
		}
		return out, true
	}
	if l.useScales {
		if len(l.scales) != r {
			c.errorf(diag.InvalidNode, "resize has %d scales; %q has %d dims and needs one scale per dim", len(l.scales), in.name, r)
			return nil, false
		}
		out := make(Dims, r)
		for i, s := range l.scales {
			if !(s > 0) || math.IsInf(float64(s), 0) {
				c.errorf(diag.InvalidNode, "scale %d is %g; scales must be positive and finite", i, s)
				return nil, false
			}
			out[i] = ResizeScaledDim(in.dims[i], s)
		}
		return out, true
	}
	if l.outDims == nil {
		c.errorf(diag.InvalidNode, "resize of %q has no output size: call SetOutputDimensions or SetScales, or set input 1 to a shape tensor", in.name)
		return nil, false
	}
	if len(l.outDims) != r {
		c.errorf(diag.InvalidNode, "output dims %v have %d dims; %q has %d", l.outDims, len(l.outDims), in.name, r)
		return nil, false
	}
	for i, d := range l.outDims {
		if d < 0 {
			c.errorf(diag.InvalidNode, "output dims %v: dim %d is negative; static resize needs known sizes (use input 1 for sizes known at run time)", l.outDims, i)
			return nil, false
		}
	}
	return l.outDims.Clone(), true
}

// ResizeScaledDim is floor(in*scale), the output size of a scaled dim,
// computed in float32 as TensorRT does; -1 stays -1.
func ResizeScaledDim(in int64, scale float32) int64 {
	if in < 0 {
		return -1
	}
	return int64(math.Floor(float64(float32(in) * scale)))
}
