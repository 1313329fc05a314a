package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// CumulativeOperation selects the reduction of a CumulativeLayer; values
// are TensorRT's nvinfer1::CumulativeOperation.
type CumulativeOperation int

const (
	CumulativeSum CumulativeOperation = iota // running sum
	numCumulativeOps
)

var cumulativeNames = [...]string{"Sum"}

var _ = [1]struct{}{}[len(cumulativeNames)-int(numCumulativeOps)]

func (o CumulativeOperation) String() string {
	if o >= 0 && o < numCumulativeOps {
		return cumulativeNames[o]
	}
	return fmt.Sprintf("CumulativeOperation(%d)", int(o))
}

// AllCumulativeOperations lists every cumulative op.
func AllCumulativeOperations() []CumulativeOperation {
	out := make([]CumulativeOperation, numCumulativeOps)
	for i := range out {
		out[i] = CumulativeOperation(i)
	}
	return out
}

// CumulativeLayer computes running reductions along one axis (TensorRT
// ICumulativeLayer). Input 0 is the data (Float32, Float16, BFloat16, Int32
// or Int64; rank >= 1); input 1 is the axis, a rank-0 Int32 or Int64 tensor
// whose value is known at build time (a Constant), in [-rank, rank-1].
// For output element j along the axis of length n the reduction covers
// 0..j (forward inclusive), 0..j-1 (forward exclusive), j..n-1 (reverse
// inclusive) or j+1..n-1 (reverse exclusive); an empty range gives 0. The
// output has the input's type and dims.
type CumulativeLayer struct {
	layerBase
	op                 CumulativeOperation
	exclusive, reverse bool
}

// AddCumulative adds a cumulative layer.
func (n *Network) AddCumulative(in, axis *Tensor, op CumulativeOperation, exclusive, reverse bool) *CumulativeLayer {
	l := &CumulativeLayer{op: op, exclusive: exclusive, reverse: reverse}
	n.addLayer(l, LayerCumulative, 1, 2, in, axis)
	return l
}

func (l *CumulativeLayer) Operation() CumulativeOperation { return l.op }
func (l *CumulativeLayer) SetOperation(op CumulativeOperation) {
	l.op = op
	l.changed()
}
func (l *CumulativeLayer) Exclusive() bool { return l.exclusive }
func (l *CumulativeLayer) SetExclusive(e bool) {
	l.exclusive = e
	l.changed()
}
func (l *CumulativeLayer) Reverse() bool { return l.reverse }
func (l *CumulativeLayer) SetReverse(r bool) {
	l.reverse = r
	l.changed()
}

// Axis returns the normalized axis, or false when it is not known (the
// layer then has an error).
func (l *CumulativeLayer) Axis() (int, bool) {
	in, ax := l.Input(0), l.Input(1)
	if in == nil || ax == nil {
		return 0, false
	}
	v, ok := ax.KnownValues()
	if !ok || len(v) != 1 {
		return 0, false
	}
	return normAxis(int(v[0]), in.Rank())
}

func (l *CumulativeLayer) infer(c *inferCtx) {
	in, ax := c.in(0), c.in(1)
	if l.op < 0 || l.op >= numCumulativeOps {
		c.errorf(diag.InvalidNode, "unknown cumulative operation %d", int(l.op))
		return
	}
	switch in.dtype {
	case Float32, Float16, BFloat16, Int32, Int64:
	default:
		c.errorf(diag.TypeMismatch, "cumulative %v needs float32, float16, bfloat16, int32 or int64 data; %q is %v", l.op, in.name, in.dtype)
		return
	}
	if len(in.dims) == 0 {
		c.errorf(diag.ShapeMismatch, "the data %q is a scalar; cumulative needs rank >= 1", in.name)
		return
	}
	if ax.dtype != Int32 && ax.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "the axis %q must be Int32 or Int64, got %v", ax.name, ax.dtype)
		return
	}
	if len(ax.dims) != 0 {
		c.errorf(diag.ShapeMismatch, "the axis %q must be a scalar (rank 0), got dims %v", ax.name, ax.dims)
		return
	}
	v, ok := c.values(1)
	if !ok {
		c.errorf(diag.InvalidNode, "the axis %q must be a build-time constant (for example a Constant layer)", ax.name)
		return
	}
	r := len(in.dims)
	if v[0] < int64(-r) || v[0] >= int64(r) {
		c.errorf(diag.InvalidNode, "axis %d is out of range [%d, %d] for the data %q of rank %d", v[0], -r, r-1, in.name, r)
		return
	}
	c.setOutput(0, in.dtype, in.dims)
}
