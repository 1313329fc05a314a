package dsl

import "github.com/trtc/trtc/diag"

// ReverseSequenceLayer reverses a prefix of each sequence (TensorRT
// IReverseSequenceLayer, like ONNX ReverseSequence). For batch i (an index
// along the batch axis) the first lengths[i] elements along the sequence
// axis are reversed and the rest are copied. The input has rank >= 2;
// lengths is a 1-D Int32/Int64 tensor with one entry per batch, each in
// [0, sequence length] (checked at run time). The axes are in [0, rank)
// and differ; as in TensorRT the batch axis defaults to 1 and the
// sequence axis to 0.
type ReverseSequenceLayer struct {
	layerBase
	batchAxis, seqAxis int
}

// AddReverseSequence adds a ReverseSequence layer.
func (n *Network) AddReverseSequence(in, lengths *Tensor) *ReverseSequenceLayer {
	l := &ReverseSequenceLayer{batchAxis: 1, seqAxis: 0}
	n.addLayer(l, LayerReverseSequence, 1, 2, in, lengths)
	return l
}

// BatchAxis returns the batch axis (default 1).
func (l *ReverseSequenceLayer) BatchAxis() int { return l.batchAxis }

// SetBatchAxis sets the batch axis.
func (l *ReverseSequenceLayer) SetBatchAxis(a int) {
	l.batchAxis = a
	l.changed()
}

// SequenceAxis returns the sequence axis (default 0).
func (l *ReverseSequenceLayer) SequenceAxis() int { return l.seqAxis }

// SetSequenceAxis sets the sequence axis.
func (l *ReverseSequenceLayer) SetSequenceAxis(a int) {
	l.seqAxis = a
	l.changed()
}

func (l *ReverseSequenceLayer) infer(c *inferCtx) {
	in, lens := c.in(0), c.in(1)
	r := len(in.dims)
	if r < 2 {
		c.errorf(diag.ShapeMismatch, "input %q has rank %d; ReverseSequence needs rank >= 2", in.name, r)
		return
	}
	for _, a := range []struct {
		name string
		v    int
	}{{"batch", l.batchAxis}, {"sequence", l.seqAxis}} {
		if a.v < 0 || a.v >= r {
			c.errorf(diag.InvalidNode, "%s axis %d is out of range; want [0, %d)", a.name, a.v, r)
			return
		}
	}
	if l.batchAxis == l.seqAxis {
		c.errorf(diag.InvalidNode, "the batch and sequence axes are both %d; they must differ", l.batchAxis)
		return
	}
	n, ok := datamoveShapeInput(c, 1, "sequence lengths")
	if !ok {
		return
	}
	if b := in.dims[l.batchAxis]; n >= 0 && b >= 0 && n != b {
		c.errorf(diag.ShapeMismatch, "sequence lengths %q have %d entries but the batch axis %d of %q (%v) has %d", lens.name, n, l.batchAxis, in.name, in.dims, b)
		return
	}
	c.setOutput(0, in.dtype, in.dims)
}
