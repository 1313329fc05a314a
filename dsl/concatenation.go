package dsl

import "github.com/trtc/trtc/diag"

// ConcatenationLayer joins tensors along one axis (TensorRT
// IConcatenationLayer). The inputs have the same type and rank and equal
// dims except along the axis, where the output dim is the sum.
//
// The axis defaults to rank-3, or 0 for tensors of rank below 3 (the
// channel axis of NCHW), as in TensorRT. A negative axis counts from the
// end, as in ONNX Concat.
type ConcatenationLayer struct {
	layerBase
	axis    int
	axisSet bool
}

// AddConcatenation adds a concatenation of inputs (at least one).
func (n *Network) AddConcatenation(inputs []*Tensor) *ConcatenationLayer {
	l := &ConcatenationLayer{}
	n.addLayer(l, LayerConcatenation, 1, len(inputs), inputs...)
	return l
}

// Axis returns the concatenation axis as set, or the default for the
// first input's rank.
func (l *ConcatenationLayer) Axis() int {
	if l.axisSet {
		return l.axis
	}
	if in := l.Input(0); in != nil && len(in.dims) >= 3 {
		return len(in.dims) - 3
	}
	return 0
}

// SetAxis sets the concatenation axis.
func (l *ConcatenationLayer) SetAxis(axis int) {
	l.axis, l.axisSet = axis, true
	l.changed()
}

func (l *ConcatenationLayer) infer(c *inferCtx) {
	if len(c.l.inputs) == 0 {
		c.errorf(diag.InvalidArgument, "concatenation needs at least one input")
		return
	}
	first := c.in(0)
	rank := len(first.dims)
	if rank == 0 {
		c.errorf(diag.ShapeMismatch, "input 0 (%q) is a scalar; concatenation needs tensors of rank >= 1 (add an Unsqueeze)", first.name)
		return
	}
	axis, ok := normAxis(l.Axis(), rank)
	if !ok {
		c.errorf(diag.InvalidNode, "axis %d is out of range for rank-%d inputs; want [%d, %d)", l.Axis(), rank, -rank, rank)
		return
	}
	out := first.dims.Clone()
	out[axis] = 0
	allKnown := rank == 1
	var vals []int64
	for i, t := range c.l.inputs {
		if t.dtype != first.dtype {
			c.errorf(diag.TypeMismatch, "input %d (%q) is %v but input 0 (%q) is %v; all inputs need one type", i, t.name, t.dtype, first.name, first.dtype)
			return
		}
		if len(t.dims) != rank {
			c.errorf(diag.ShapeMismatch, "input %d (%q) has rank %d (%v), input 0 (%q) has rank %d (%v)", i, t.name, len(t.dims), t.dims, first.name, rank, first.dims)
			return
		}
		for d := range t.dims {
			v := t.dims[d]
			switch {
			case d == axis:
				if v < 0 || out[d] < 0 {
					out[d] = Dynamic
				} else {
					out[d] += v
				}
			case out[d] < 0:
				out[d] = v
			case v >= 0 && v != out[d]:
				c.errorf(diag.ShapeMismatch, "input %d (%q, %v) has dimension %d = %d but the other inputs have %d; only axis %d may differ", i, t.name, t.dims, d, v, out[d], axis)
				return
			}
		}
		v, known := c.values(i)
		allKnown = allKnown && known
		vals = append(vals, v...)
	}
	c.setOutput(0, first.dtype, out)
	if allKnown && int64(len(vals)) == out.Volume() {
		c.setValues(0, vals)
	}
}
