package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// ScatterMode selects how a ScatterLayer reads its indices; values are
// TensorRT's nvinfer1::ScatterMode.
type ScatterMode int

const (
	ScatterElement ScatterMode = iota // each index names one element along the axis (ONNX ScatterElements)
	ScatterND                         // each index tuple names a slice of the leading axes (ONNX ScatterND)
	numScatterModes
)

var scatterModeNames = [...]string{"Element", "ND"}

func (m ScatterMode) String() string {
	if m >= 0 && m < numScatterModes {
		return scatterModeNames[m]
	}
	return fmt.Sprintf("ScatterMode(%d)", int(m))
}

// AllScatterModes lists every scatter mode.
func AllScatterModes() []ScatterMode {
	out := make([]ScatterMode, numScatterModes)
	for i := range out {
		out[i] = ScatterMode(i)
	}
	return out
}

// ScatterLayer copies data and overwrites the elements that indices name
// with updates (TensorRT IScatterLayer). The output has data's type and
// dims; updates has data's type; indices are Int32 or Int64.
//   - ScatterElement: indices and updates have data's rank and equal dims;
//     output[J with J[axis] replaced by indices[J]] = updates[J].
//   - ScatterND: with k the last dim of indices (known at build time),
//     each k-tuple of indices names a slice data[i0..ik-1, ...] that is
//     replaced by the matching slice of updates, whose dims are
//     indices dims[:q-1] followed by data dims[k:].
//
// An index into an axis of length n is valid in [-n, n) (negative counts
// from the end, as in ONNX); any other fails the run with diag.OutOfRange.
// TensorRT leaves duplicate writes undefined; here the last one in
// row-major order of the indices wins. TensorRT has no reduction modes.
type ScatterLayer struct {
	layerBase
	mode ScatterMode
	axis int
}

// AddScatter adds a scatter layer.
func (n *Network) AddScatter(data, indices, updates *Tensor, mode ScatterMode) *ScatterLayer {
	l := &ScatterLayer{mode: mode}
	n.addLayer(l, LayerScatter, 1, 3, data, indices, updates)
	return l
}

// Mode returns the scatter mode.
func (l *ScatterLayer) Mode() ScatterMode { return l.mode }

// SetMode sets the scatter mode.
func (l *ScatterLayer) SetMode(m ScatterMode) {
	l.mode = m
	l.changed()
}

// Axis returns the axis of ScatterElement (default 0).
func (l *ScatterLayer) Axis() int { return l.axis }

// SetAxis sets the axis of ScatterElement; negative counts from the end.
func (l *ScatterLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

func (l *ScatterLayer) infer(c *inferCtx) {
	data, idx, upd := c.in(0), c.in(1), c.in(2)
	r, q := len(data.dims), len(idx.dims)
	switch {
	case idx.dtype != Int32 && idx.dtype != Int64:
		c.errorf(diag.TypeMismatch, "indices %q must be Int32 or Int64, got %v", idx.name, idx.dtype)
		return
	case upd.dtype != data.dtype:
		c.errorf(diag.TypeMismatch, "updates %q are %v but data %q is %v", upd.name, upd.dtype, data.name, data.dtype)
		return
	case r < 1:
		c.errorf(diag.ShapeMismatch, "data %q is a scalar; scatter needs rank >= 1", data.name)
		return
	}
	switch l.mode {
	case ScatterElement:
		if q != r {
			c.errorf(diag.ShapeMismatch, "ScatterElement needs indices of the data's rank: data %q is %v, indices %q is %v", data.name, data.dims, idx.name, idx.dims)
			return
		}
		axis, ok := normAxis(l.axis, r)
		if !ok {
			c.errorf(diag.InvalidNode, "axis %d is out of range for the rank-%d data %q; want [%d, %d)", l.axis, r, data.name, -r, r)
			return
		}
		if !datamoveCompatible(idx.dims, upd.dims) {
			c.errorf(diag.ShapeMismatch, "updates %q (%v) must have the dims of the indices %q (%v)", upd.name, upd.dims, idx.name, idx.dims)
			return
		}
		for d := range idx.dims {
			if d != axis && idx.dims[d] >= 0 && data.dims[d] >= 0 && idx.dims[d] > data.dims[d] {
				c.errorf(diag.ShapeMismatch, "indices %q (%v) are larger than data %q (%v) along axis %d, which is not the scatter axis", idx.name, idx.dims, data.name, data.dims, d)
				return
			}
		}
	case ScatterND:
		if q < 1 {
			c.errorf(diag.ShapeMismatch, "ScatterND needs indices of rank >= 1, got a scalar %q", idx.name)
			return
		}
		k := idx.dims[q-1]
		if k < 0 {
			c.errorf(diag.ShapeMismatch, "the last dim of the indices %q (%v) must be known at build time in ScatterND", idx.name, idx.dims)
			return
		}
		if k > int64(r) {
			c.errorf(diag.ShapeMismatch, "index tuples of length %d (last dim of %q) exceed the rank %d of data %q", k, idx.name, r, data.name)
			return
		}
		want := append(idx.dims[:q-1].Clone(), data.dims[k:]...)
		if !datamoveCompatible(upd.dims, want) {
			c.errorf(diag.ShapeMismatch, "updates %q are %v; with indices %v and data %v they must be %v", upd.name, upd.dims, idx.dims, data.dims, want)
			return
		}
	default:
		c.errorf(diag.InvalidNode, "unknown scatter mode %d", int(l.mode))
		return
	}
	c.setOutput(0, data.dtype, data.dims)
}
