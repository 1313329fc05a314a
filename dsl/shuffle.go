package dsl

import "github.com/trtc/trtc/diag"

// Permutation reorders the axes of a tensor: output axis i is input axis
// Permutation[i] (TensorRT's Permutation, so [1, 2, 0] turns CHW into HWC).
// A nil Permutation is the identity.
type Permutation []int

// IsIdentity reports whether p leaves every axis in place (nil does).
func (p Permutation) IsIdentity() bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

// ShuffleLayer transposes, reshapes and transposes again (TensorRT
// IShuffleLayer). Each step is optional: the transposes default to the
// identity and the reshape to none.
//
// Inputs:
//   - 0: the tensor to shuffle (any type).
//   - 1 (optional, SetInput): the reshape dimensions as a 1-D Int32 or Int64
//     tensor whose length is known at build time. Its values follow the
//     same rules as SetReshapeDimensions; when they are known at build time
//     (a constant or shape arithmetic on static dims) the output dims are
//     static, otherwise they are -1 at build time.
type ShuffleLayer struct {
	layerBase
	first, second     Permutation
	reshape           Dims // nil: no reshape
	zeroIsPlaceholder bool
}

// AddShuffle adds a shuffle layer that, until configured, copies its input.
func (n *Network) AddShuffle(in *Tensor) *ShuffleLayer {
	l := &ShuffleLayer{zeroIsPlaceholder: true}
	n.addLayer(l, LayerShuffle, 1, 2, in)
	return l
}

// FirstTranspose returns the permutation applied before the reshape (nil:
// identity).
func (l *ShuffleLayer) FirstTranspose() Permutation { return append(Permutation(nil), l.first...) }

// SetFirstTranspose sets the permutation applied before the reshape.
func (l *ShuffleLayer) SetFirstTranspose(p Permutation) {
	l.first = append(Permutation(nil), p...)
	l.changed()
}

// SecondTranspose returns the permutation applied after the reshape (nil:
// identity).
func (l *ShuffleLayer) SecondTranspose() Permutation { return append(Permutation(nil), l.second...) }

// SetSecondTranspose sets the permutation applied after the reshape.
func (l *ShuffleLayer) SetSecondTranspose(p Permutation) {
	l.second = append(Permutation(nil), p...)
	l.changed()
}

// ReshapeDimensions returns the static reshape dims, or nil when there is
// no static reshape (none set, or input 1 supplies them).
func (l *ShuffleLayer) ReshapeDimensions() Dims {
	if l.Input(1) != nil {
		return nil
	}
	return l.reshape.Clone()
}

// SetReshapeDimensions sets the reshape dims. A 0 copies the input dim at
// the same position (unless SetZeroIsPlaceholder(false)); one -1 is
// inferred so the volume is unchanged. As in TensorRT, it clears input 1.
func (l *ShuffleLayer) SetReshapeDimensions(d Dims) {
	l.reshape = d.Clone()
	if l.reshape == nil {
		l.reshape = Dims{}
	}
	if len(l.inputs) > 1 {
		l.inputs = l.inputs[:1]
	}
	l.changed()
}

// ZeroIsPlaceholder reports whether a 0 in the reshape dims copies the
// input dim (true, the default) or means a zero-length dim.
func (l *ShuffleLayer) ZeroIsPlaceholder() bool { return l.zeroIsPlaceholder }

// SetZeroIsPlaceholder sets the meaning of 0 in the reshape dims.
func (l *ShuffleLayer) SetZeroIsPlaceholder(v bool) {
	l.zeroIsPlaceholder = v
	l.changed()
}

func (l *ShuffleLayer) infer(c *inferCtx) {
	in := c.in(0)
	d := in.dims.Clone()
	firstIdentity := true
	if l.first != nil {
		if why := datamoveCheckPerm(l.first, len(d)); why != "" {
			c.errorf(diag.InvalidNode, "first transpose %v is not a permutation of the %d axes of %q (%v): it %s", []int(l.first), len(d), in.name, in.dims, why)
			return
		}
		for i, p := range l.first {
			d[i] = in.dims[p]
			firstIdentity = firstIdentity && p == i
		}
	}
	switch {
	case c.has(1):
		n, ok := datamoveShapeInput(c, 1, "reshape dimensions")
		if !ok {
			return
		}
		if n < 0 {
			c.errorf(diag.ShapeMismatch, "the reshape-dimensions tensor %q has a dynamic length; its length (the output rank) must be known at build time", c.in(1).name)
			return
		}
		if v, known := c.values(1); known {
			r, err := ResolveReshapeDims(d, v, l.zeroIsPlaceholder)
			if err != nil {
				c.errorf(diag.CodeOf(err), "reshape dimensions from %q: %s", c.in(1).name, err.(*diag.Error).Msg)
				return
			}
			d = r
		} else {
			d = make(Dims, n)
			for i := range d {
				d[i] = Dynamic
			}
		}
	case l.reshape != nil:
		r, err := ResolveReshapeDims(d, l.reshape, l.zeroIsPlaceholder)
		if err != nil {
			c.errorf(diag.CodeOf(err), "reshape of %q (%v) to %v: %s", in.name, d, l.reshape, err.(*diag.Error).Msg)
			return
		}
		d = r
	}
	out := d
	secondIdentity := true
	if l.second != nil {
		if why := datamoveCheckPerm(l.second, len(d)); why != "" {
			c.errorf(diag.InvalidNode, "second transpose %v is not a permutation of the %d axes of the reshaped tensor (%v): it %s", []int(l.second), len(d), d, why)
			return
		}
		out = make(Dims, len(d))
		for i, p := range l.second {
			out[i] = d[p]
			secondIdentity = secondIdentity && p == i
		}
	}
	c.setOutput(0, in.dtype, out)
	// Reshaping a small known tensor keeps its values in row-major order.
	if v, ok := c.values(0); ok && firstIdentity && secondIdentity && out.Volume() == int64(len(v)) {
		c.setValues(0, v)
	}
}

// ResolveReshapeDims applies TensorRT's reshape rules to dims in: a 0
// copies in's dim at the same position when zeroIsPlaceholder, and one -1
// is inferred from the volume. Dynamic dims of in give -1 where the result
// depends on them. The error (a *diag.Error) says what is wrong; a volume
// that cannot match is diag.ShapeMismatch. Exported for targets, which call
// it with concrete dims at run time.
func ResolveReshapeDims(in Dims, reshape []int64, zeroIsPlaceholder bool) (Dims, error) {
	out := make(Dims, len(reshape))
	wild := -1
	copied := make([]bool, len(in))
	for i, v := range reshape {
		switch {
		case v == 0 && zeroIsPlaceholder:
			if i >= len(in) {
				return nil, diag.Errorf(diag.InvalidNode, "dimension %d is 0 (copy the input dimension) but the input has only %d dimensions", i, len(in))
			}
			out[i] = in[i]
			copied[i] = true
		case v == -1:
			if wild >= 0 {
				return nil, diag.Errorf(diag.InvalidNode, "dimensions %d and %d are both -1; at most one dimension can be inferred", wild, i)
			}
			wild = i
			out[i] = Dynamic
		case v < 0:
			return nil, diag.Errorf(diag.InvalidNode, "dimension %d is %d; want a size >= 0, 0 to copy the input dimension, or -1 to infer it", i, v)
		default:
			out[i] = v
		}
	}
	// The volume check and the -1 work on the dims that are not copied
	// from the input: copied dims are on both sides, so they cancel even
	// when they are dynamic.
	inRest, outRest := int64(1), int64(1)
	inDyn, outDyn := false, false
	for i, v := range in {
		switch {
		case copied[i]:
		case v < 0:
			inDyn = true
		default:
			inRest *= v
		}
	}
	for i, v := range out {
		switch {
		case i == wild || (i < len(copied) && copied[i]):
		case v < 0:
			outDyn = true
		default:
			outRest *= v
		}
	}
	// A copied dim of 0 makes both volumes 0 whatever the rest is.
	zeroCopied := false
	for i := range in {
		if copied[i] && in[i] == 0 {
			zeroCopied = true
		}
	}
	if inDyn || outDyn {
		return out, nil
	}
	if wild >= 0 {
		if outRest == 0 || zeroCopied {
			return nil, diag.Errorf(diag.InvalidNode, "the -1 at dimension %d cannot be inferred: the other dimensions have zero volume", wild)
		}
		if inRest%outRest != 0 {
			return nil, diag.Errorf(diag.ShapeMismatch, "the volume %d of %v is not a multiple of %d, the product of the other dimensions of %v", in.Volume(), in, outRest, Dims(reshape))
		}
		out[wild] = inRest / outRest
		return out, nil
	}
	if inRest != outRest && !zeroCopied {
		return nil, diag.Errorf(diag.ShapeMismatch, "volumes differ: %v has %d elements, %v has %d", in, in.Volume(), out, out.Volume())
	}
	return out, nil
}
