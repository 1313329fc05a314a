package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// TopKOperation selects largest or smallest; values are TensorRT's
// nvinfer1::TopKOperation.
type TopKOperation int

const (
	TopKMax TopKOperation = iota // the k largest, largest first
	TopKMin                      // the k smallest, smallest first
	numTopKOps
)

func (o TopKOperation) String() string {
	switch o {
	case TopKMax:
		return "Max"
	case TopKMin:
		return "Min"
	}
	return fmt.Sprintf("TopKOperation(%d)", int(o))
}

// AllTopKOperations lists every TopK operation.
func AllTopKOperations() []TopKOperation { return []TopKOperation{TopKMax, TopKMin} }

// TopKMaxK is the largest k TensorRT supports.
const TopKMaxK = 3840

// TopKLayer selects the k largest or smallest values along one axis
// (TensorRT ITopKLayer). Output 0 holds the values, sorted (largest first
// for TopKMax, smallest first for TopKMin); output 1 their positions along
// the axis, Int32 unless SetIndicesType(Int64). Equal values keep their
// input order, so ties go to the lower index; NaN ranks above every number.
//
// Inputs: 0 is the data (Float32, Float16, BFloat16, Int32 or Int64);
// 1 (optional, SetInput) is a scalar Int32 tensor holding k, which
// overrides the static k. The axis is a bitmask with exactly one bit set,
// for one of the last four axes.
type TopKLayer struct {
	layerBase
	op          TopKOperation
	k           int
	axes        uint32
	indicesType DataType
}

// AddTopK adds a TopK layer with a static k.
func (n *Network) AddTopK(in *Tensor, op TopKOperation, k int, reduceAxes uint32) *TopKLayer {
	l := &TopKLayer{op: op, k: k, axes: reduceAxes, indicesType: Int32}
	n.addLayer(l, LayerTopK, 2, 2, in)
	return l
}

func (l *TopKLayer) Operation() TopKOperation { return l.op }
func (l *TopKLayer) SetOperation(op TopKOperation) {
	l.op = op
	l.changed()
}

// K returns the static k, or -1 when input 1 supplies k.
func (l *TopKLayer) K() int {
	if l.Input(1) != nil {
		return -1
	}
	return l.k
}

// SetK sets the static k and, as in TensorRT, removes a k input.
func (l *TopKLayer) SetK(k int) {
	l.k = k
	if len(l.inputs) > 1 {
		l.inputs = l.inputs[:1]
	}
	l.changed()
}

func (l *TopKLayer) ReduceAxes() uint32 { return l.axes }
func (l *TopKLayer) SetReduceAxes(mask uint32) {
	l.axes = mask
	l.changed()
}

// IndicesType is the type of output 1 (Int32 by default).
func (l *TopKLayer) IndicesType() DataType { return l.indicesType }

// SetIndicesType sets the type of output 1: Int32 or Int64. Any other type
// is recorded as an error and leaves the type unchanged; the result says
// whether it was set.
func (l *TopKLayer) SetIndicesType(dt DataType) bool {
	if dt != Int32 && dt != Int64 {
		l.net.addError(callerLoc(), l.name, "TopK layer %q: SetIndicesType(%v): indices are Int32 or Int64", l.name, dt)
		return false
	}
	l.indicesType = dt
	l.changed()
	return true
}

// TopKAxis checks a TopK axes mask for an input of the given rank.
func TopKAxis(mask uint32, rank int) (int, error) {
	axes, err := AxesFromMask(mask, rank)
	if err != nil {
		return 0, err
	}
	if len(axes) != 1 {
		return 0, linalgErr("reduceAxes %s must name exactly one axis", linalgMaskString(mask))
	}
	if axes[0] < rank-4 {
		return 0, linalgErr("reduceAxes names axis %d of a rank-%d input; TensorRT's TopK works on one of the last four axes", axes[0], rank)
	}
	return axes[0], nil
}

func (l *TopKLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.op < 0 || l.op >= numTopKOps {
		c.errorf(diag.InvalidNode, "unknown TopK operation %d", int(l.op))
		return
	}
	if !linalgIsFloat(in.dtype) && in.dtype != Int32 && in.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "input %q is %v; TopK takes Float32, Float16, BFloat16, Int32 or Int64", in.name, in.dtype)
		return
	}
	axis, err := TopKAxis(l.axes, len(in.dims))
	if err != nil {
		c.errorf(diag.InvalidNode, "TopK of %q: %v", in.name, err)
		return
	}
	k := int64(l.k)
	if kt := c.in(1); kt != nil {
		if kt.dtype != Int32 || len(kt.dims) != 0 {
			c.errorf(diag.TypeMismatch, "k input %q is %v %v; it must be a scalar Int32 tensor", kt.name, kt.dtype, kt.dims)
			return
		}
		k = -1
		if v, ok := c.values(1); ok && len(v) == 1 {
			k = v[0]
		}
	}
	if k != -1 || !c.has(1) {
		if k < 1 {
			c.errorf(diag.InvalidNode, "k is %d; it must be >= 1", k)
			return
		}
		if k > TopKMaxK {
			c.errorf(diag.UnsupportedAttr, "k is %d; TensorRT supports k up to %d", k, TopKMaxK)
			return
		}
		if d := in.dims[axis]; d >= 0 && k > d {
			c.errorf(diag.InvalidNode, "k is %d but axis %d of %q has only %d elements", k, axis, in.name, d)
			return
		}
	}
	out := in.dims.Clone()
	out[axis] = k
	c.setOutput(0, in.dtype, out)
	c.setOutput(1, l.indicesType, out)
}
