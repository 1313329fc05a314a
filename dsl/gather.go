package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// GatherMode selects how a GatherLayer reads its indices; values are
// TensorRT's nvinfer1::GatherMode.
type GatherMode int

const (
	GatherDefault GatherMode = iota // each index picks a slice along one axis (ONNX Gather)
	GatherElement                   // each index picks one element along one axis (ONNX GatherElements)
	GatherND                        // each index tuple picks a slice of the leading axes (ONNX GatherND)
	numGatherModes
)

var gatherModeNames = [...]string{"Default", "Element", "ND"}

func (m GatherMode) String() string {
	if m >= 0 && m < numGatherModes {
		return gatherModeNames[m]
	}
	return fmt.Sprintf("GatherMode(%d)", int(m))
}

// AllGatherModes lists every gather mode.
func AllGatherModes() []GatherMode {
	out := make([]GatherMode, numGatherModes)
	for i := range out {
		out[i] = GatherMode(i)
	}
	return out
}

// GatherLayer reads elements of data at positions given by an Int32 or
// Int64 indices tensor (TensorRT IGatherLayer). With data of rank r,
// indices of rank q and b = NbElementWiseDims:
//   - GatherDefault: output = data dims with the axis replaced by the
//     indices dims; b may be 1, and then dim 0 of data and indices is a
//     batch dim that broadcasts (a 1 stretches), and the output has
//     rank q+r-2.
//   - GatherElement: q == r, b == 0; output[J] = data[J with J[axis]
//     replaced by indices[J]]; the output has the indices' dims.
//   - GatherND: the last dim k of indices (known at build time) indexes
//     data's axes b..b+k-1; the output is indices dims[:q-1] followed by
//     data dims[b+k:]. The first b dims of data and indices are equal.
//
// An index i along an axis of length n is valid in [-n, n); a negative
// index counts from the end. Where TensorRT stores zero for an index out
// of range, trtc fails the run with diag.OutOfRange naming the index.
type GatherLayer struct {
	layerBase
	axis       int
	nbElemDims int
	mode       GatherMode
}

// AddGather adds a GatherDefault layer along axis.
func (n *Network) AddGather(data, indices *Tensor, axis int) *GatherLayer {
	l := &GatherLayer{axis: axis}
	n.addLayer(l, LayerGather, 1, 2, data, indices)
	return l
}

// AddGatherV2 adds a gather layer of the given mode (axis 0).
func (n *Network) AddGatherV2(data, indices *Tensor, mode GatherMode) *GatherLayer {
	l := &GatherLayer{mode: mode}
	n.addLayer(l, LayerGather, 1, 2, data, indices)
	return l
}

// GatherAxis returns the axis of GatherDefault and GatherElement.
func (l *GatherLayer) GatherAxis() int { return l.axis }

// SetGatherAxis sets the axis; negative axes count from the end.
func (l *GatherLayer) SetGatherAxis(axis int) {
	l.axis = axis
	l.changed()
}

// NbElementWiseDims returns the number of leading batch dims.
func (l *GatherLayer) NbElementWiseDims() int { return l.nbElemDims }

// SetNbElementWiseDims sets the number of leading batch dims (0 or 1 for
// GatherDefault, below rank(data) for GatherND, 0 for GatherElement).
func (l *GatherLayer) SetNbElementWiseDims(n int) {
	l.nbElemDims = n
	l.changed()
}

// Mode returns the gather mode.
func (l *GatherLayer) Mode() GatherMode { return l.mode }

// SetMode sets the gather mode.
func (l *GatherLayer) SetMode(m GatherMode) {
	l.mode = m
	l.changed()
}

func (l *GatherLayer) infer(c *inferCtx) {
	data, idx := c.in(0), c.in(1)
	r, q, b := len(data.dims), len(idx.dims), l.nbElemDims
	if idx.dtype != Int32 && idx.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "indices %q must be Int32 or Int64, got %v", idx.name, idx.dtype)
		return
	}
	if r < 1 {
		c.errorf(diag.ShapeMismatch, "data %q is a scalar; gather needs rank >= 1", data.name)
		return
	}
	var out Dims
	switch l.mode {
	case GatherDefault:
		out = l.inferDefault(c, data, idx)
	case GatherElement:
		out = l.inferElement(c, data, idx)
	case GatherND:
		out = l.inferND(c, data, idx)
	default:
		c.errorf(diag.InvalidNode, "unknown gather mode %d", int(l.mode))
		return
	}
	if out == nil {
		return
	}
	c.setOutput(0, data.dtype, out)
	// Gathering from a known shape vector with known indices (picking
	// dims out of a Shape) stays known.
	if v, ok := c.values(0); ok && l.mode == GatherDefault && r == 1 && b == 0 && q <= 1 {
		if iv, ok := c.values(1); ok {
			res := make([]int64, len(iv))
			for k, i := range iv {
				if i < 0 {
					i += int64(len(v))
				}
				if i < 0 || i >= int64(len(v)) {
					return
				}
				res[k] = v[i]
			}
			c.setValues(0, res)
		}
	}
}

func (l *GatherLayer) inferDefault(c *inferCtx, data, idx *Tensor) Dims {
	r, q, b := len(data.dims), len(idx.dims), l.nbElemDims
	if b < 0 || b > 1 {
		c.errorf(diag.InvalidNode, "NbElementWiseDims is %d; GatherDefault allows 0 or 1", b)
		return nil
	}
	axis, ok := normAxis(l.axis, r)
	if !ok {
		c.errorf(diag.InvalidNode, "axis %d is out of range for the rank-%d data %q; want [%d, %d)", l.axis, r, data.name, -r, r)
		return nil
	}
	if b == 1 {
		if axis < 1 || q < 1 {
			c.errorf(diag.InvalidNode, "with one elementwise dim the axis must be >= 1 and the indices rank >= 1; got axis %d, indices %v", axis, idx.dims)
			return nil
		}
		bd, err := BroadcastDims(Dims{data.dims[0]}, Dims{idx.dims[0]})
		if err != nil {
			c.errorf(diag.ShapeMismatch, "the elementwise dim 0 of data %q (%d) and indices %q (%d) cannot broadcast", data.name, data.dims[0], idx.name, idx.dims[0])
			return nil
		}
		out := Dims{bd[0]}
		out = append(out, data.dims[1:axis]...)
		out = append(out, idx.dims[1:]...)
		return append(out, data.dims[axis+1:]...)
	}
	out := append(Dims{}, data.dims[:axis]...)
	out = append(out, idx.dims...)
	return append(out, data.dims[axis+1:]...)
}

func (l *GatherLayer) inferElement(c *inferCtx, data, idx *Tensor) Dims {
	r, q := len(data.dims), len(idx.dims)
	if l.nbElemDims != 0 {
		c.errorf(diag.InvalidNode, "NbElementWiseDims is %d; GatherElement needs 0", l.nbElemDims)
		return nil
	}
	if q != r {
		c.errorf(diag.ShapeMismatch, "GatherElement needs indices of the data's rank: data %q is %v, indices %q is %v", data.name, data.dims, idx.name, idx.dims)
		return nil
	}
	axis, ok := normAxis(l.axis, r)
	if !ok {
		c.errorf(diag.InvalidNode, "axis %d is out of range for the rank-%d data %q; want [%d, %d)", l.axis, r, data.name, -r, r)
		return nil
	}
	for d := range idx.dims {
		if d != axis && idx.dims[d] >= 0 && data.dims[d] >= 0 && idx.dims[d] > data.dims[d] {
			c.errorf(diag.ShapeMismatch, "indices %q (%v) are larger than data %q (%v) along axis %d, which is not the gather axis", idx.name, idx.dims, data.name, data.dims, d)
			return nil
		}
	}
	return idx.dims.Clone()
}

func (l *GatherLayer) inferND(c *inferCtx, data, idx *Tensor) Dims {
	r, q, b := len(data.dims), len(idx.dims), l.nbElemDims
	if q < 1 {
		c.errorf(diag.ShapeMismatch, "GatherND needs indices of rank >= 1, got a scalar %q", idx.name)
		return nil
	}
	if b < 0 || b >= r || b >= q {
		c.errorf(diag.InvalidNode, "NbElementWiseDims is %d; GatherND needs 0 <= it < rank(data) = %d and < rank(indices) = %d", b, r, q)
		return nil
	}
	k := idx.dims[q-1]
	if k < 0 {
		c.errorf(diag.ShapeMismatch, "the last dim of the indices %q (%v) must be known at build time in GatherND", idx.name, idx.dims)
		return nil
	}
	if k > int64(r-b) {
		c.errorf(diag.ShapeMismatch, "index tuples of length %d (last dim of %q) exceed the %d non-batch axes of data %q (%v)", k, idx.name, r-b, data.name, data.dims)
		return nil
	}
	out := make(Dims, 0, q-1+r-b-int(k))
	for d := 0; d < q-1; d++ {
		v := idx.dims[d]
		if d < b {
			dd := data.dims[d]
			switch {
			case v >= 0 && dd >= 0 && v != dd:
				c.errorf(diag.ShapeMismatch, "batch dim %d differs: data %q has %d, indices %q have %d", d, data.name, dd, idx.name, v)
				return nil
			case v < 0:
				v = dd
			}
		}
		out = append(out, v)
	}
	return append(out, data.dims[b+int(k):]...)
}
