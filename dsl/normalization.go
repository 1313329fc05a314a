package dsl

import (
	"github.com/trtc/trtc/diag"
)

// NormalizationLayer normalizes its input over a set of axes and applies a
// scale and a bias (TensorRT INormalizationLayer):
//
//	y = (x - mean(x)) / sqrt(var(x) + epsilon) * scale + bias
//
// where mean and the biased variance (mean of squared deviations) are
// taken over the axes in the mask. The usual forms, for an NCHW input:
//
//   - layer norm: axes C,H,W (or the trailing axes), scale e.g. [1,C,H,W]
//   - instance norm: axes H,W, nbGroups 1, scale [1,C,1,1]
//   - group norm: axes H,W, nbGroups G > 1; each group of C/G channels
//     shares one mean and variance. Scale and bias are [1,C,1,1] for layers
//     from AddNormalizationV2 and [1,G,1,1] for AddNormalization (the
//     TensorRT 10 behaviour kept by the deprecated call).
//
// Input, scale and bias have the same float type; scale and bias have the
// same dims as each other and the input's rank, and broadcast to the input
// (each dim equal to the input's or 1). Statistics are computed in
// float64. TensorRT 11 has no compute-precision setting on this layer, so
// neither does trtc.
type NormalizationLayer struct {
	layerBase
	axes     uint32
	epsilon  float32
	nbGroups int64
	v2       bool
}

// AddNormalization adds a normalization layer with TensorRT 10's group-norm
// scale shape ([1,G,1,1]). Prefer AddNormalizationV2.
func (n *Network) AddNormalization(in, scale, bias *Tensor, axesMask uint32) *NormalizationLayer {
	l := &NormalizationLayer{axes: axesMask, epsilon: 1e-5, nbGroups: 1}
	n.addLayer(l, LayerNormalization, 1, 3, in, scale, bias)
	return l
}

// AddNormalizationV2 adds a normalization layer whose scale and bias are
// per channel ([1,C,1,1]) in group norm too.
func (n *Network) AddNormalizationV2(in, scale, bias *Tensor, axesMask uint32) *NormalizationLayer {
	l := &NormalizationLayer{axes: axesMask, epsilon: 1e-5, nbGroups: 1, v2: true}
	n.addLayer(l, LayerNormalization, 1, 3, in, scale, bias)
	return l
}

func (l *NormalizationLayer) Epsilon() float32 { return l.epsilon }
func (l *NormalizationLayer) SetEpsilon(eps float32) {
	l.epsilon = eps
	l.changed()
}
func (l *NormalizationLayer) Axes() uint32 { return l.axes }
func (l *NormalizationLayer) SetAxes(mask uint32) {
	l.axes = mask
	l.changed()
}
func (l *NormalizationLayer) NbGroups() int64 { return l.nbGroups }

// SetNbGroups splits the channels (axis 1) into groups that share
// statistics; 1 (the default) means no grouping.
func (l *NormalizationLayer) SetNbGroups(g int64) {
	l.nbGroups = g
	l.changed()
}

// IsV2 reports whether the layer came from AddNormalizationV2.
func (l *NormalizationLayer) IsV2() bool { return l.v2 }

// GroupScaled reports whether scale and bias hold one value per group
// (AddNormalization with nbGroups > 1) rather than broadcasting to the input.
func (l *NormalizationLayer) GroupScaled() bool { return !l.v2 && l.nbGroups > 1 }

func (l *NormalizationLayer) infer(c *inferCtx) {
	in, scale, bias := c.in(0), c.in(1), c.in(2)
	if !linalgIsFloat(in.dtype) {
		c.errorf(diag.TypeMismatch, "input %q is %v; Normalization takes Float32, Float16 or BFloat16", in.name, in.dtype)
		return
	}
	for _, t := range []*Tensor{scale, bias} {
		if t.dtype != in.dtype {
			c.errorf(diag.TypeMismatch, "%q is %v but input %q is %v; scale and bias must have the input's type", t.name, t.dtype, in.name, in.dtype)
			return
		}
	}
	rank := len(in.dims)
	axes, err := AxesFromMask(l.axes, rank)
	if err != nil {
		c.errorf(diag.InvalidNode, "axesMask of %q: %v", in.name, err)
		return
	}
	if l.epsilon < 0 || l.epsilon != l.epsilon {
		c.errorf(diag.InvalidNode, "epsilon is %g; it must be >= 0", l.epsilon)
		return
	}
	if l.nbGroups < 1 {
		c.errorf(diag.InvalidNode, "nbGroups is %d; it must be >= 1", l.nbGroups)
		return
	}
	if l.nbGroups == 1 && len(axes) == 0 {
		c.errorf(diag.InvalidNode, "axesMask is 0; name at least one axis to normalize over")
		return
	}
	if l.nbGroups > 1 {
		if rank < 2 {
			c.errorf(diag.ShapeMismatch, "group normalization needs a channel axis (axis 1), but %q has rank %d", in.name, rank)
			return
		}
		want := uint32(0)
		for a := 2; a < rank && a < 32; a++ {
			want |= 1 << uint(a)
		}
		if l.axes != want {
			c.errorf(diag.InvalidNode, "with nbGroups %d, axesMask must name every axis after the channel axis, %s, got %s", l.nbGroups, linalgMaskString(want), linalgMaskString(l.axes))
			return
		}
		if ch := in.dims[1]; ch >= 0 && ch%l.nbGroups != 0 {
			c.errorf(diag.ShapeMismatch, "nbGroups %d does not divide the %d channels of %q", l.nbGroups, ch, in.name)
			return
		}
	}
	if len(scale.dims) != rank || len(bias.dims) != rank {
		c.errorf(diag.ShapeMismatch, "scale %q (%v) and bias %q (%v) must have the input's rank %d", scale.name, scale.dims, bias.name, bias.dims, rank)
		return
	}
	for i := range scale.dims {
		s, b := scale.dims[i], bias.dims[i]
		if s >= 0 && b >= 0 && s != b {
			c.errorf(diag.ShapeMismatch, "scale %q is %v and bias %q is %v; they must have the same dims", scale.name, scale.dims, bias.name, bias.dims)
			return
		}
	}
	if l.GroupScaled() {
		for i, s := range scale.dims {
			want := int64(1)
			if i == 1 {
				want = l.nbGroups
			}
			if s >= 0 && s != want {
				c.errorf(diag.ShapeMismatch, "scale %q is %v; AddNormalization with %d groups takes one value per group, [1,%d,1,...] (use AddNormalizationV2 for per-channel scale)", scale.name, scale.dims, l.nbGroups, l.nbGroups)
				return
			}
		}
	} else {
		for i, s := range scale.dims {
			if x := in.dims[i]; s >= 0 && x >= 0 && s != 1 && s != x {
				c.errorf(diag.ShapeMismatch, "scale %q is %v and does not broadcast to input %q %v at axis %d (want 1 or %d)", scale.name, scale.dims, in.name, in.dims, i, x)
				return
			}
		}
	}
	c.setOutput(0, in.dtype, in.dims)
}
