package dsl

import "github.com/trtc/trtc/diag"

// PaddingLayer pads the two innermost dims of a tensor of rank 4 or more
// with zeros (TensorRT IPaddingLayer). Negative padding crops that many
// elements from that edge instead. TensorRT supports only these two dims;
// to pad other dims use a Slice layer with the fill mode.
type PaddingLayer struct {
	layerBase
	pre, post Dims
}

// AddPaddingNd adds a padding layer; prePadding and postPadding have two
// entries each (for the second-to-last and last dims).
func (n *Network) AddPaddingNd(in *Tensor, prePadding, postPadding Dims) *PaddingLayer {
	l := &PaddingLayer{pre: prePadding.Clone(), post: postPadding.Clone()}
	n.addLayer(l, LayerPadding, 1, 1, in)
	return l
}

// PrePaddingNd returns the padding at the start of the two innermost dims.
func (l *PaddingLayer) PrePaddingNd() Dims { return l.pre.Clone() }

// SetPrePaddingNd sets the padding at the start (negative crops).
func (l *PaddingLayer) SetPrePaddingNd(p Dims) {
	l.pre = p.Clone()
	l.changed()
}

// PostPaddingNd returns the padding at the end of the two innermost dims.
func (l *PaddingLayer) PostPaddingNd() Dims { return l.post.Clone() }

// SetPostPaddingNd sets the padding at the end (negative crops).
func (l *PaddingLayer) SetPostPaddingNd(p Dims) {
	l.post = p.Clone()
	l.changed()
}

func (l *PaddingLayer) infer(c *inferCtx) {
	in := c.in(0)
	if len(l.pre) != 2 || len(l.post) != 2 {
		c.errorf(diag.UnsupportedAttr, "padding has %d pre and %d post entries; TensorRT pads exactly the two innermost dims (use a Slice layer with the fill mode for others)", len(l.pre), len(l.post))
		return
	}
	if in.dtype == Int4 {
		c.errorf(diag.TypeMismatch, "padding does not take packed int4 tensors; %q is int4", in.name)
		return
	}
	r := in.dims.Rank()
	if r < 4 {
		c.errorf(diag.ShapeMismatch, "padding needs an input of rank 4 or more (it pads the two innermost dims); %q has dims %v", in.name, in.dims)
		return
	}
	out := in.dims.Clone()
	for i := 0; i < 2; i++ {
		d := in.dims[r-2+i]
		if d < 0 {
			continue
		}
		out[r-2+i] = d + l.pre[i] + l.post[i]
		if out[r-2+i] < 0 {
			c.errorf(diag.ShapeMismatch, "padding %v/%v crops more than dim %d of %q has (%d): the output size would be %d", l.pre, l.post, r-2+i, in.name, d, out[r-2+i])
			return
		}
	}
	c.setOutput(0, in.dtype, out)
}
