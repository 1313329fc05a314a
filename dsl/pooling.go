package dsl

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
)

// PoolingType selects the reduction of a PoolingLayer; values are
// TensorRT's nvinfer1::PoolingType.
type PoolingType int

const (
	PoolingMax             PoolingType = iota // maximum over the window; padding counts as -inf
	PoolingAverage                            // mean over the window; padding counts as 0
	PoolingMaxAverageBlend                    // (1-blendFactor)*max + blendFactor*average
	numPoolingTypes
)

var poolingTypeNames = [...]string{"Max", "Average", "MaxAverageBlend"}

func (p PoolingType) String() string {
	if p >= 0 && p < numPoolingTypes {
		return poolingTypeNames[p]
	}
	return fmt.Sprintf("PoolingType(%d)", int(p))
}

// AllPoolingTypes lists every pooling type.
func AllPoolingTypes() []PoolingType {
	out := make([]PoolingType, numPoolingTypes)
	for i := range out {
		out[i] = PoolingType(i)
	}
	return out
}

// PoolingLayer pools windows of the 2 or 3 innermost dims of an (N, C,
// spatial...) input (TensorRT IPoolingLayer). Padding is -inf for max
// pooling and 0 for average pooling. A window that covers only padding
// gives -inf for max pooling and 0 for average pooling that excludes
// padding (there is nothing to average).
type PoolingLayer struct {
	layerBase
	spatialWindow
	ptype          PoolingType
	blend          float32
	excludePadding bool
}

// AddPoolingNd adds a pooling layer with the given window; stride defaults
// to 1 in every dim, as in TensorRT.
func (n *Network) AddPoolingNd(in *Tensor, ptype PoolingType, windowSize Dims) *PoolingLayer {
	l := &PoolingLayer{ptype: ptype, excludePadding: true}
	l.owner = &l.layerBase
	l.sp = newSpatialParams(windowSize)
	n.addLayer(l, LayerPooling, 1, 1, in)
	return l
}

// PoolingType returns the pooling type.
func (l *PoolingLayer) PoolingType() PoolingType { return l.ptype }

// SetPoolingType sets the pooling type.
func (l *PoolingLayer) SetPoolingType(p PoolingType) {
	l.ptype = p
	l.changed()
}

// WindowSizeNd returns the pooling window.
func (l *PoolingLayer) WindowSizeNd() Dims { return l.sp.window.Clone() }

// SetWindowSizeNd sets the pooling window.
func (l *PoolingLayer) SetWindowSizeNd(w Dims) {
	l.sp.window = w.Clone()
	l.changed()
}

// BlendFactor returns the weight of the average in PoolingMaxAverageBlend.
func (l *PoolingLayer) BlendFactor() float32 { return l.blend }

// SetBlendFactor sets the weight of the average in PoolingMaxAverageBlend,
// in [0, 1] (default 0: pure max); other types ignore it.
func (l *PoolingLayer) SetBlendFactor(f float32) {
	l.blend = f
	l.changed()
}

// AverageCountExcludesPadding reports whether averages divide by the
// number of real input elements in the window (default true) rather than
// by the window's overlap with the padded input.
func (l *PoolingLayer) AverageCountExcludesPadding() bool { return l.excludePadding }

// SetAverageCountExcludesPadding chooses the average's denominator.
func (l *PoolingLayer) SetAverageCountExcludesPadding(exclusive bool) {
	l.excludePadding = exclusive
	l.changed()
}

// Geometry returns the output spatial dims and the padding applied for an
// input with spatial dims in.
func (l *PoolingLayer) Geometry(in Dims) SpatialGeometry { return l.sp.convGeometry(in) }

func (l *PoolingLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.ptype < 0 || l.ptype >= numPoolingTypes {
		c.errorf(diag.InvalidNode, "unknown pooling type %d", int(l.ptype))
		return
	}
	if !(l.blend >= 0 && l.blend <= 1) || math.IsNaN(float64(l.blend)) {
		c.errorf(diag.InvalidNode, "blend factor %g is outside [0, 1]", l.blend)
		return
	}
	switch in.dtype {
	case Float32, Float16, BFloat16:
	default:
		c.errorf(diag.TypeMismatch, "pooling needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	ns := len(l.sp.window)
	if ns != 2 && ns != 3 {
		c.errorf(diag.InvalidNode, "pooling window %v has %d dims; TensorRT pools over 2 or 3 spatial dims", l.sp.window, ns)
		return
	}
	if in.dims.Rank() != ns+2 {
		c.errorf(diag.ShapeMismatch, "pooling with a %d-d window %v needs a rank-%d input (N, C, %d spatial dims); %q has dims %v", ns, l.sp.window, ns+2, ns, in.name, in.dims)
		return
	}
	l.sp.dilation = spatialOnes(ns) // pooling has no dilation; keep it in step with the window
	if !l.sp.check(c, "window", ns) {
		return
	}
	g := l.sp.convGeometry(in.dims[2:])
	if !g.checkPositive(c, in, &l.sp, "window") {
		return
	}
	c.setOutput(0, in.dtype, append(Dims{in.dims[0], in.dims[1]}, g.Out...))
}
