package dsl

import "github.com/trtc/trtc/diag"

// ParametricReLULayer computes x >= 0 ? x : slope*x (TensorRT
// IParametricReLULayer). The slope has the input's type and rank and
// broadcasts to the input in one direction only: along each axis its
// length equals the input's or is 1. The output has the input's type and
// dims. Inputs are Float32, Float16 or BFloat16.
type ParametricReLULayer struct {
	layerBase
}

// AddParametricReLU adds a parametric ReLU layer.
func (n *Network) AddParametricReLU(in, slope *Tensor) *ParametricReLULayer {
	l := &ParametricReLULayer{}
	n.addLayer(l, LayerParametricReLU, 1, 2, in, slope)
	return l
}

func (l *ParametricReLULayer) infer(c *inferCtx) {
	in, slope := c.in(0), c.in(1)
	if in.dtype != Float32 && in.dtype != Float16 && in.dtype != BFloat16 {
		c.errorf(diag.TypeMismatch, "parametric ReLU needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	if slope.dtype != in.dtype {
		c.errorf(diag.TypeMismatch, "the slope %q is %v but the input %q is %v; they must match (insert a Cast layer)", slope.name, slope.dtype, in.name, in.dtype)
		return
	}
	if len(slope.dims) != len(in.dims) {
		c.errorf(diag.ShapeMismatch, "the slope %q has rank %d but the input %q has rank %d; they must be equal (insert a Shuffle or Unsqueeze)", slope.name, len(slope.dims), in.name, len(in.dims))
		return
	}
	for i, s := range slope.dims {
		x := in.dims[i]
		if s != 1 && s != x && s >= 0 && x >= 0 {
			c.errorf(diag.ShapeMismatch, "the slope %q (%v) does not broadcast to the input %q (%v): dimension %d is %d, want 1 or %d", slope.name, slope.dims, in.name, in.dims, i, s, x)
			return
		}
	}
	c.setOutput(0, in.dtype, in.dims)
}
