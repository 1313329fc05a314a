package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// ReduceOperation selects what a ReduceLayer computes; values are
// TensorRT's nvinfer1::ReduceOperation.
type ReduceOperation int

const (
	ReduceSum  ReduceOperation = iota // sum; empty: 0
	ReduceProd                        // product; empty: 1
	ReduceMax                         // maximum; empty: -inf (floats) or the type's minimum (integers)
	ReduceMin                         // minimum; empty: +inf (floats) or the type's maximum (integers)
	ReduceAvg                         // mean; empty: NaN (floats) or 0 (integers, which divide truncating)
	// ReduceNone exists in TensorRT only for multi-device collectives; a
	// Reduce layer rejects it.
	ReduceNone
	numReduceOps
)

var reduceOpNames = [...]string{"Sum", "Prod", "Max", "Min", "Avg", "None"}

func (o ReduceOperation) String() string {
	if o >= 0 && o < numReduceOps {
		return reduceOpNames[o]
	}
	return fmt.Sprintf("ReduceOperation(%d)", int(o))
}

// AllReduceOperations lists every operation a Reduce layer accepts (not
// ReduceNone).
func AllReduceOperations() []ReduceOperation {
	return []ReduceOperation{ReduceSum, ReduceProd, ReduceMax, ReduceMin, ReduceAvg}
}

// ReduceLayer reduces its input over the axes set in a bitmask (TensorRT
// IReduceLayer). With keepDimensions the reduced axes stay as 1s; without,
// they are removed. A mask of 0 reduces nothing and copies the input.
// Types: Float32, Float16, BFloat16 (accumulated in float64), Int32 and
// Int64 (exact in int64, wrapping to the type on store). Bool and the
// quantized storage types are rejected, as in TensorRT. Reducing an empty
// set of elements gives TensorRT's identity values (see ReduceOperation).
type ReduceLayer struct {
	layerBase
	op       ReduceOperation
	axes     uint32
	keepDims bool
}

// AddReduce adds a reduction of in over reduceAxes (bit i = axis i).
func (n *Network) AddReduce(in *Tensor, op ReduceOperation, reduceAxes uint32, keepDimensions bool) *ReduceLayer {
	l := &ReduceLayer{op: op, axes: reduceAxes, keepDims: keepDimensions}
	n.addLayer(l, LayerReduce, 1, 1, in)
	return l
}

func (l *ReduceLayer) Operation() ReduceOperation { return l.op }
func (l *ReduceLayer) SetOperation(op ReduceOperation) {
	l.op = op
	l.changed()
}
func (l *ReduceLayer) ReduceAxes() uint32 { return l.axes }
func (l *ReduceLayer) SetReduceAxes(mask uint32) {
	l.axes = mask
	l.changed()
}
func (l *ReduceLayer) KeepDimensions() bool { return l.keepDims }
func (l *ReduceLayer) SetKeepDimensions(keep bool) {
	l.keepDims = keep
	l.changed()
}

// ReduceOutDims returns the output dims of reducing d over axes.
func ReduceOutDims(d Dims, axes []int, keep bool) Dims {
	red := make([]bool, len(d))
	for _, a := range axes {
		red[a] = true
	}
	out := Dims{}
	for i, v := range d {
		switch {
		case !red[i]:
			out = append(out, v)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func (l *ReduceLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.op < 0 || l.op >= numReduceOps {
		c.errorf(diag.InvalidNode, "unknown reduce operation %d", int(l.op))
		return
	}
	if l.op == ReduceNone {
		c.errorf(diag.UnsupportedAttr, "ReduceNone is only meaningful for multi-device collectives; a Reduce layer needs Sum, Prod, Max, Min or Avg")
		return
	}
	if !linalgIsFloat(in.dtype) && in.dtype != Int32 && in.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "input %q is %v; Reduce takes Float32, Float16, BFloat16, Int32 or Int64 (Cast Bool, Dequantize quantized types)", in.name, in.dtype)
		return
	}
	axes, err := AxesFromMask(l.axes, len(in.dims))
	if err != nil {
		c.errorf(diag.InvalidNode, "reduceAxes of %q: %v", in.name, err)
		return
	}
	out := ReduceOutDims(in.dims, axes, l.keepDims)
	c.setOutput(0, in.dtype, out)
	if v, ok := c.values(0); ok && l.op != ReduceAvg && in.dims.IsStatic() && len(in.dims) <= 1 {
		c.setValues(0, reduceFoldInts(l.op, in.dtype, v, len(axes) > 0))
	}
}

// reduceFoldInts evaluates a reduction of a known rank-0/1 shape tensor.
func reduceFoldInts(op ReduceOperation, dt DataType, v []int64, reduce bool) []int64 {
	if !reduce {
		return v
	}
	var acc int64
	switch op {
	case ReduceProd:
		acc = 1
	case ReduceMax:
		acc = -1 << 63
		if dt == Int32 {
			acc = -1 << 31
		}
	case ReduceMin:
		acc = 1<<63 - 1
		if dt == Int32 {
			acc = 1<<31 - 1
		}
	}
	for _, x := range v {
		switch op {
		case ReduceSum:
			acc += x
		case ReduceProd:
			acc *= x
		case ReduceMax:
			acc = max(acc, x)
		case ReduceMin:
			acc = min(acc, x)
		}
	}
	if dt == Int32 {
		acc = int64(int32(acc))
	}
	return []int64{acc}
}
