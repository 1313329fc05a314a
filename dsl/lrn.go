package dsl

import (
	"math"

	"github.com/trtc/trtc/diag"
)

// LRNLayer is local response normalization across channels (TensorRT
// ILRNLayer): for channel c of an (N, C, ...) input,
//
//	y[c] = x[c] / (k + alpha/window * sum(x[c']^2))^beta
//
// where c' runs over the window channels centered on c (clipped at the
// edges). The output has the input's type and dims.
type LRNLayer struct {
	layerBase
	window            int64
	alpha, beta, kval float32
}

// AddLRN adds an LRN layer with an odd window size in [1, 15], alpha in
// [-1e20, 1e20], beta in [0.01, 1e5] and k in [1e-5, 1e10], as TensorRT
// requires.
func (n *Network) AddLRN(in *Tensor, window int64, alpha, beta, k float32) *LRNLayer {
	l := &LRNLayer{window: window, alpha: alpha, beta: beta, kval: k}
	n.addLayer(l, LayerLRN, 1, 1, in)
	return l
}

func (l *LRNLayer) WindowSize() int64 { return l.window }
func (l *LRNLayer) Alpha() float32    { return l.alpha }
func (l *LRNLayer) Beta() float32     { return l.beta }
func (l *LRNLayer) K() float32        { return l.kval }

func (l *LRNLayer) SetWindowSize(w int64) {
	l.window = w
	l.changed()
}
func (l *LRNLayer) SetAlpha(a float32) {
	l.alpha = a
	l.changed()
}
func (l *LRNLayer) SetBeta(b float32) {
	l.beta = b
	l.changed()
}
func (l *LRNLayer) SetK(k float32) {
	l.kval = k
	l.changed()
}

func lrnInRange(v float32, lo, hi float64) bool {
	f := float64(v)
	return !math.IsNaN(f) && f >= lo && f <= hi
}

func (l *LRNLayer) infer(c *inferCtx) {
	in := c.in(0)
	switch {
	case l.window < 1 || l.window > 15 || l.window%2 == 0:
		c.errorf(diag.InvalidNode, "LRN window size %d must be odd and in [1, 15]", l.window)
		return
	case !lrnInRange(l.alpha, -1e20, 1e20):
		c.errorf(diag.InvalidNode, "LRN alpha %g is outside [-1e20, 1e20]", l.alpha)
		return
	case !lrnInRange(l.beta, 0.01, 1e5):
		c.errorf(diag.InvalidNode, "LRN beta %g is outside [0.01, 1e5]", l.beta)
		return
	case !lrnInRange(l.kval, 1e-5, 1e10):
		c.errorf(diag.InvalidNode, "LRN k %g is outside [1e-5, 1e10]", l.kval)
		return
	}
	switch in.dtype {
	case Float32, Float16, BFloat16:
	default:
		c.errorf(diag.TypeMismatch, "LRN needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	if in.dims.Rank() < 3 {
		c.errorf(diag.ShapeMismatch, "LRN needs an input of rank 3 or more (N, C, spatial...); %q has dims %v", in.name, in.dims)
		return
	}
	c.setOutput(0, in.dtype, in.dims)
}
