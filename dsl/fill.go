package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// FillOperation selects how a FillLayer generates values; values are
// TensorRT's nvinfer1::FillOperation.
type FillOperation int

const (
	FillLinspace      FillOperation = iota // alpha + sum over k of beta[k]*index[k]
	FillRandomUniform                      // uniform between alpha (minimum) and beta (maximum)
	FillRandomNormal                       // normal with mean alpha, standard deviation beta
	numFillOps
)

var fillNames = [...]string{"Linspace", "RandomUniform", "RandomNormal"}

var _ = [1]struct{}{}[len(fillNames)-int(numFillOps)]

func (o FillOperation) String() string {
	if o >= 0 && o < numFillOps {
		return fillNames[o]
	}
	return fmt.Sprintf("FillOperation(%d)", int(o))
}

// AllFillOperations lists every fill operation.
func AllFillOperations() []FillOperation {
	out := make([]FillOperation, numFillOps)
	for i := range out {
		out[i] = FillOperation(i)
	}
	return out
}

// fillMaxKnown bounds the Linspace outputs whose values are recorded at
// build time (shape tensors are small).
const fillMaxKnown = 64

// fillMaxRank is TensorRT's Dims::MAX_DIMS; it bounds the rank a dims
// input can ask for.
const fillMaxRank = 8

// FillLayer generates a tensor (TensorRT IFillLayer).
//
// Linspace: element [i0, i1, ...] is alpha + beta[0]*i0 + beta[1]*i1 + ...;
// a static beta is one value, so static Linspace outputs are 1-D. Output
// Float32, Int32 or Int64. RandomUniform draws from [alpha, beta],
// RandomNormal from a normal distribution of mean alpha and standard
// deviation beta; output Float32 or Float16. Defaults: alpha 0, beta 1.
//
// Every parameter is static until its input is set with SetInput:
//   - 0: the output dims, a 1-D Int32 or Int64 shape tensor whose length is
//     known at build time (its values may be known too: a Shape or Constant);
//   - 1: alpha, a scalar;
//   - 2: beta, a scalar, or for Linspace a 1-D tensor with one delta per
//     output dim.
//
// Inputs 1 and 2 are set together and have the same type (any of Float32,
// Float16, BFloat16, Int32, Int64). SetDimensions, SetAlpha and SetBeta
// clear the matching input, as in TensorRT.
//
// TensorRT gives random fills no seed and advances its state across
// executions. trtc's CPU engine draws from a PCG generator seeded with
// (FillSeed, FNV-1a hash of the layer name), so every run of a network gives
// the same values, compiler passes that keep a layer's name keep its draws,
// and the reference stays reproducible. Element i of a RandomUniform takes
// draw i+1, of a RandomNormal draws 2i+1 and 2i+2 (Box-Muller), so the
// CUDA target, which jumps its generator ahead to each element, gives the
// same values; TensorRT is compared with statistics, not element by
// element.
type FillLayer struct {
	layerBase
	dims              Dims
	op                FillOperation
	toType            DataType
	alpha, beta       float64
	alphaInt, betaInt int64
	alphaBetaInt64    bool
}

// FillSeed is the first word of the seed of the CPU engine's random fills
// (the second is the FNV-1a hash of the layer's name: passes that renumber
// layers keep names).
const FillSeed = 0x7472746366696c6c // "trtcfill"

// AddFill adds a fill layer with static dims (used while input 0 is unset).
func (n *Network) AddFill(dims Dims, op FillOperation, outputType DataType) *FillLayer {
	l := &FillLayer{dims: dims.Clone(), op: op, toType: outputType, beta: 1, betaInt: 1}
	n.addLayer(l, LayerFill, 1, 3)
	return l
}

// clearInput unsets optional input i (a static setter replaces it).
func (l *FillLayer) clearInput(i int) {
	if i < len(l.inputs) {
		l.inputs[i] = nil
	}
}

// Dimensions returns the static dims, or nil while input 0 is set.
func (l *FillLayer) Dimensions() Dims {
	if l.Input(0) != nil {
		return nil
	}
	return l.dims.Clone()
}
func (l *FillLayer) SetDimensions(d Dims) {
	l.dims = d.Clone()
	l.clearInput(0)
	l.changed()
}
func (l *FillLayer) Operation() FillOperation { return l.op }
func (l *FillLayer) SetOperation(op FillOperation) {
	l.op = op
	l.changed()
}
func (l *FillLayer) ToType() DataType { return l.toType }
func (l *FillLayer) SetToType(dt DataType) {
	l.toType = dt
	l.changed()
}

// Alpha is the static alpha, or -1 while input 1 is set (TensorRT's convention).
func (l *FillLayer) Alpha() float64 {
	switch {
	case l.Input(1) != nil:
		return -1
	case l.alphaBetaInt64:
		return float64(l.alphaInt)
	}
	return l.alpha
}

// Beta is the static beta, or -1 while input 2 is set.
func (l *FillLayer) Beta() float64 {
	switch {
	case l.Input(2) != nil:
		return -1
	case l.alphaBetaInt64:
		return float64(l.betaInt)
	}
	return l.beta
}

// AlphaInt64 is the static alpha as int64, or -1 while input 1 is set.
func (l *FillLayer) AlphaInt64() int64 {
	switch {
	case l.Input(1) != nil:
		return -1
	case l.alphaBetaInt64:
		return l.alphaInt
	}
	return int64(l.alpha)
}

// BetaInt64 is the static beta as int64, or -1 while input 2 is set.
func (l *FillLayer) BetaInt64() int64 {
	switch {
	case l.Input(2) != nil:
		return -1
	case l.alphaBetaInt64:
		return l.betaInt
	}
	return int64(l.beta)
}

// IsAlphaBetaInt64 reports whether the static alpha and beta were last
// set as int64 (exact integer Linspace beyond 2^53).
func (l *FillLayer) IsAlphaBetaInt64() bool { return l.alphaBetaInt64 }

// SetAlpha sets a static float alpha (and keeps beta's value as a float).
func (l *FillLayer) SetAlpha(a float64) {
	l.toFloatParams()
	l.alpha = a
	l.clearInput(1)
	l.changed()
}
func (l *FillLayer) SetBeta(b float64) {
	l.toFloatParams()
	l.beta = b
	l.clearInput(2)
	l.changed()
}
func (l *FillLayer) SetAlphaInt64(a int64) {
	l.toIntParams()
	l.alphaInt = a
	l.clearInput(1)
	l.changed()
}
func (l *FillLayer) SetBetaInt64(b int64) {
	l.toIntParams()
	l.betaInt = b
	l.clearInput(2)
	l.changed()
}

func (l *FillLayer) toFloatParams() {
	if l.alphaBetaInt64 {
		l.alpha, l.beta = float64(l.alphaInt), float64(l.betaInt)
		l.alphaBetaInt64 = false
	}
}

func (l *FillLayer) toIntParams() {
	if !l.alphaBetaInt64 {
		l.alphaInt, l.betaInt = int64(l.alpha), int64(l.beta)
		l.alphaBetaInt64 = true
	}
}

func (l *FillLayer) infer(c *inferCtx) {
	if l.op < 0 || l.op >= numFillOps {
		c.errorf(diag.InvalidNode, "unknown fill operation %d", int(l.op))
		return
	}
	switch {
	case l.op == FillLinspace && (l.toType == Float32 || l.toType == Int32 || l.toType == Int64):
	case l.op != FillLinspace && (l.toType == Float32 || l.toType == Float16):
	case l.op == FillLinspace:
		c.errorf(diag.TypeMismatch, "Linspace fills float32, int32 or int64, not %v", l.toType)
		return
	default:
		c.errorf(diag.TypeMismatch, "%v fills float32 or float16, not %v", l.op, l.toType)
		return
	}
	dims, ok := l.inferDims(c)
	if !ok {
		return
	}
	if !l.checkAlphaBeta(c, len(dims)) {
		return
	}
	c.setOutput(0, l.toType, dims)
	if l.op == FillLinspace && l.toType != Float32 && !c.has(1) && dims.IsStatic() && dims.Volume() <= fillMaxKnown {
		// Static integer Linspace (a range of indices) is a known shape tensor.
		v := make([]int64, dims.Volume())
		for i := range v {
			if l.alphaBetaInt64 {
				v[i] = l.alphaInt + l.betaInt*int64(i)
			} else {
				v[i] = int64(l.alpha + l.beta*float64(i))
			}
			if l.toType == Int32 {
				v[i] = max(min(v[i], 1<<31-1), -1<<31)
			}
		}
		c.setValues(0, v)
	}
}

// inferDims returns the output dims: static, or from input 0 (its known
// values, or -1 for each dim of its known length).
func (l *FillLayer) inferDims(c *inferCtx) (Dims, bool) {
	if !c.has(0) {
		for i, v := range l.dims {
			if v < 0 {
				c.errorf(diag.ShapeMismatch, "fill dims %v: dimension %d is %d; static dims must be >= 0 (set input 0 for run-time dims)", l.dims, i, v)
				return nil, false
			}
		}
		if l.dims.Volume() < 0 {
			c.errorf(diag.ShapeMismatch, "fill dims %v: the volume overflows int64", l.dims)
			return nil, false
		}
		return l.dims, true
	}
	s := c.in(0)
	if s.dtype != Int32 && s.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "the dims input %q must be Int32 or Int64, got %v", s.name, s.dtype)
		return nil, false
	}
	if len(s.dims) != 1 {
		c.errorf(diag.ShapeMismatch, "the dims input %q must be 1-D, got dims %v", s.name, s.dims)
		return nil, false
	}
	if s.dims[0] < 0 {
		c.errorf(diag.ShapeMismatch, "the length of the dims input %q must be known at build time (it is the output rank), got dims %v", s.name, s.dims)
		return nil, false
	}
	if s.dims[0] > fillMaxRank {
		c.errorf(diag.ShapeMismatch, "the dims input %q has %d values; TensorRT tensors have at most %d dims", s.name, s.dims[0], fillMaxRank)
		return nil, false
	}
	d := make(Dims, s.dims[0])
	v, known := c.values(0)
	for i := range d {
		d[i] = Dynamic
		if known {
			if v[i] < 0 {
				c.errorf(diag.ShapeMismatch, "the dims input %q holds %v; dimension %d is negative", s.name, v, i)
				return nil, false
			}
			d[i] = v[i]
		}
	}
	return d, true
}

// checkAlphaBeta validates the dynamic alpha and beta inputs, or the static
// beta's use, for an output of rank r.
func (l *FillLayer) checkAlphaBeta(c *inferCtx, r int) bool {
	if c.has(1) != c.has(2) {
		c.errorf(diag.InvalidNode, "inputs 1 (alpha) and 2 (beta) must be set together; only input %d is set", map[bool]int{true: 1, false: 2}[c.has(1)])
		return false
	}
	if !c.has(1) {
		if l.op == FillLinspace && r != 1 {
			c.errorf(diag.ShapeMismatch, "a static Linspace beta is one delta, so the output must be 1-D; it has rank %d (set input 2 to a 1-D tensor of %d deltas)", r, r)
			return false
		}
		return true
	}
	a, b := c.in(1), c.in(2)
	switch a.dtype {
	case Float32, Float16, BFloat16, Int32, Int64:
	default:
		c.errorf(diag.TypeMismatch, "alpha %q must be a float or Int32/Int64 tensor, got %v", a.name, a.dtype)
		return false
	}
	if a.dtype != b.dtype {
		c.errorf(diag.TypeMismatch, "alpha %q is %v but beta %q is %v; they must have the same type", a.name, a.dtype, b.name, b.dtype)
		return false
	}
	if len(a.dims) != 0 {
		c.errorf(diag.ShapeMismatch, "alpha %q must be a scalar, got dims %v", a.name, a.dims)
		return false
	}
	if l.op != FillLinspace {
		if len(b.dims) != 0 {
			c.errorf(diag.ShapeMismatch, "beta %q must be a scalar for %v, got dims %v", b.name, l.op, b.dims)
			return false
		}
		return true
	}
	if len(b.dims) != 1 || (b.dims[0] >= 0 && b.dims[0] != int64(r)) {
		c.errorf(diag.ShapeMismatch, "the Linspace delta %q must be 1-D with one value per output dim (%d), got dims %v", b.name, r, b.dims)
		return false
	}
	return true
}
