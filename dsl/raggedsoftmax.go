package dsl

import "github.com/trtc/trtc/diag"

// RaggedSoftMaxLayer computes a softmax over the valid prefix of each row
// (TensorRT IRaggedSoftMaxLayer). The input is [N, Z, S]: N×Z sequences
// padded to length S. The bounds are [N, Z, 1] Int32 holding each
// sequence's length L (0 <= L <= S, checked at run time). Row r becomes
// softmax(x[r, :L]) followed by zeros for the S-L padding positions.
// TensorRT requires both tensors to be rank 3, the input to be a float
// type, and the last dim of bounds to be known (1).
type RaggedSoftMaxLayer struct {
	layerBase
}

// AddRaggedSoftMax adds a ragged softmax of in with sequence lengths bounds.
func (n *Network) AddRaggedSoftMax(in, bounds *Tensor) *RaggedSoftMaxLayer {
	l := &RaggedSoftMaxLayer{}
	n.addLayer(l, LayerRaggedSoftMax, 1, 2, in, bounds)
	return l
}

func (l *RaggedSoftMaxLayer) infer(c *inferCtx) {
	in, b := c.in(0), c.in(1)
	if !linalgIsFloat(in.dtype) {
		c.errorf(diag.TypeMismatch, "input %q is %v; RaggedSoftMax takes Float32, Float16 or BFloat16", in.name, in.dtype)
		return
	}
	if b.dtype != Int32 {
		c.errorf(diag.TypeMismatch, "bounds %q is %v; it must be Int32", b.name, b.dtype)
		return
	}
	if len(in.dims) != 3 || len(b.dims) != 3 {
		c.errorf(diag.ShapeMismatch, "input %q is %v and bounds %q is %v; both must be rank 3 ([N,Z,S] and [N,Z,1])", in.name, in.dims, b.name, b.dims)
		return
	}
	if b.dims[2] != 1 {
		c.errorf(diag.ShapeMismatch, "bounds %q is %v; its last dim must be 1 (and not dynamic)", b.name, b.dims)
		return
	}
	for i := 0; i < 2; i++ {
		if x, y := in.dims[i], b.dims[i]; x >= 0 && y >= 0 && x != y {
			c.errorf(diag.ShapeMismatch, "input %q is %v but bounds %q is %v; dim %d must match", in.name, in.dims, b.name, b.dims, i)
			return
		}
	}
	c.setOutput(0, in.dtype, in.dims)
}
