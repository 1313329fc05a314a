package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// SqueezeLayer removes unit dims (TensorRT ISqueezeLayer).
//
// Inputs:
//   - 0: the tensor.
//   - 1: the axes to remove, a 1-D Int32/Int64 tensor whose values are known
//     at build time (a constant); negative axes count from the end. Each
//     listed dim must be 1.
type SqueezeLayer struct{ layerBase }

// AddSqueeze adds a squeeze of in along axes.
func (n *Network) AddSqueeze(in, axes *Tensor) *SqueezeLayer {
	l := &SqueezeLayer{}
	n.addLayer(l, LayerSqueeze, 1, 2, in, axes)
	return l
}

// UnsqueezeLayer inserts unit dims (TensorRT IUnsqueezeLayer).
//
// Inputs:
//   - 0: the tensor.
//   - 1: the output axes where dims of 1 are inserted, a 1-D Int32/Int64
//     tensor whose values are known at build time; negative axes count
//     from the end of the output.
type UnsqueezeLayer struct{ layerBase }

// AddUnsqueeze adds an unsqueeze of in at axes.
func (n *Network) AddUnsqueeze(in, axes *Tensor) *UnsqueezeLayer {
	l := &UnsqueezeLayer{}
	n.addLayer(l, LayerUnsqueeze, 1, 2, in, axes)
	return l
}

// squeezeAxes reads the known axes of input 1 and normalizes them against
// rank; it reports problems and returns ok=false.
func squeezeAxes(c *inferCtx, rank int) ([]int, bool) {
	if _, ok := datamoveShapeInput(c, 1, "axes"); !ok {
		return nil, false
	}
	v, known := c.values(1)
	if !known {
		c.errorf(diag.InvalidNode, "the axes %q must be known at build time (a constant), as in TensorRT", c.in(1).name)
		return nil, false
	}
	axes, err := SqueezeNormAxes(v, rank)
	if err != nil {
		c.errorf(diag.InvalidNode, "axes %v: %v", v, err)
		return nil, false
	}
	return axes, true
}

// SqueezeNormAxes turns axes in [-rank, rank) into [0, rank) and checks
// they are unique. Exported for targets.
func SqueezeNormAxes(v []int64, rank int) ([]int, error) {
	seen := make([]bool, rank)
	out := make([]int, len(v))
	for i, a := range v {
		if a < -int64(rank) || a >= int64(rank) {
			return nil, fmt.Errorf("axis %d is out of range for rank %d; want [%d, %d)", a, rank, -rank, rank)
		}
		na, _ := normAxis(int(a), rank)
		if seen[na] {
			return nil, fmt.Errorf("axis %d is listed twice", na)
		}
		seen[na] = true
		out[i] = na
	}
	return out, nil
}

// SqueezeDims returns dims with the given (normalized) axes removed.
func SqueezeDims(d Dims, axes []int) Dims {
	drop := make([]bool, len(d))
	for _, a := range axes {
		drop[a] = true
	}
	out := Dims{}
	for i, v := range d {
		if !drop[i] {
			out = append(out, v)
		}
	}
	return out
}

// UnsqueezeDims returns dims with 1s inserted at the given (normalized)
// output axes.
func UnsqueezeDims(d Dims, axes []int) Dims {
	rank := len(d) + len(axes)
	ins := make([]bool, rank)
	for _, a := range axes {
		ins[a] = true
	}
	out := make(Dims, 0, rank)
	k := 0
	for i := 0; i < rank; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, d[k])
			k++
		}
	}
	return out
}

func (l *SqueezeLayer) infer(c *inferCtx) {
	in := c.in(0)
	axes, ok := squeezeAxes(c, len(in.dims))
	if !ok {
		return
	}
	for _, a := range axes {
		if in.dims[a] != 1 && in.dims[a] != Dynamic {
			c.errorf(diag.ShapeMismatch, "cannot squeeze axis %d of %q (%v): its dim is %d, not 1", a, in.name, in.dims, in.dims[a])
			return
		}
	}
	c.setOutput(0, in.dtype, SqueezeDims(in.dims, axes))
	if v, ok := c.values(0); ok {
		c.setValues(0, v)
	}
}

func (l *UnsqueezeLayer) infer(c *inferCtx) {
	in := c.in(0)
	if _, ok := datamoveShapeInput(c, 1, "axes"); !ok {
		return
	}
	n := int64(0)
	if v, ok := c.values(1); ok {
		n = int64(len(v))
	}
	axes, ok := squeezeAxes(c, len(in.dims)+int(n))
	if !ok {
		return
	}
	c.setOutput(0, in.dtype, UnsqueezeDims(in.dims, axes))
	if v, ok := c.values(0); ok {
		c.setValues(0, v)
	}
}
