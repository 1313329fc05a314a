package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// ElementWiseOperation selects the binary op of an ElementWiseLayer; values
// are TensorRT's nvinfer1::ElementWiseOperation.
type ElementWiseOperation int

const (
	ElementWiseSum      ElementWiseOperation = iota // a + b
	ElementWiseProd                                 // a * b
	ElementWiseMax                                  // max(a, b)
	ElementWiseMin                                  // min(a, b)
	ElementWiseSub                                  // a - b
	ElementWiseDiv                                  // a / b (integers truncate toward zero)
	ElementWisePow                                  // a ^ b
	ElementWiseFloorDiv                             // floor(a / b)
	ElementWiseAnd                                  // a && b (Bool)
	ElementWiseOr                                   // a || b (Bool)
	ElementWiseXor                                  // a != b (Bool)
	ElementWiseEqual                                // a == b, output Bool
	ElementWiseGreater                              // a > b, output Bool
	ElementWiseLess                                 // a < b, output Bool
	numElementWiseOps
)

var elementWiseNames = [...]string{"Sum", "Prod", "Max", "Min", "Sub", "Div", "Pow", "FloorDiv",
	"And", "Or", "Xor", "Equal", "Greater", "Less"}

func (o ElementWiseOperation) String() string {
	if o >= 0 && o < numElementWiseOps {
		return elementWiseNames[o]
	}
	return fmt.Sprintf("ElementWiseOperation(%d)", int(o))
}

// AllElementWiseOperations lists every binary op.
func AllElementWiseOperations() []ElementWiseOperation {
	out := make([]ElementWiseOperation, numElementWiseOps)
	for i := range out {
		out[i] = ElementWiseOperation(i)
	}
	return out
}

// IsLogical reports whether the op takes and returns Bool.
func (o ElementWiseOperation) IsLogical() bool {
	return o == ElementWiseAnd || o == ElementWiseOr || o == ElementWiseXor
}

// IsComparison reports whether the op returns Bool from non-Bool inputs.
func (o ElementWiseOperation) IsComparison() bool {
	return o == ElementWiseEqual || o == ElementWiseGreater || o == ElementWiseLess
}

// ElementWiseLayer applies a binary op with broadcasting (TensorRT
// IElementWiseLayer). Both inputs have the same rank and type; along each
// axis the dims are equal or one of them is 1.
type ElementWiseLayer struct {
	layerBase
	op ElementWiseOperation
}

// AddElementWise adds a binary pointwise layer.
func (n *Network) AddElementWise(a, b *Tensor, op ElementWiseOperation) *ElementWiseLayer {
	l := &ElementWiseLayer{op: op}
	n.addLayer(l, LayerElementWise, 1, 2, a, b)
	return l
}

func (l *ElementWiseLayer) Operation() ElementWiseOperation { return l.op }
func (l *ElementWiseLayer) SetOperation(op ElementWiseOperation) {
	l.op = op
	l.changed()
}

func (l *ElementWiseLayer) infer(c *inferCtx) {
	a, b := c.in(0), c.in(1)
	if l.op < 0 || l.op >= numElementWiseOps {
		c.errorf(diag.InvalidNode, "unknown elementwise operation %d", int(l.op))
		return
	}
	if a.dtype != b.dtype {
		c.errorf(diag.TypeMismatch, "inputs have different types: %q is %v, %q is %v (insert a Cast layer)", a.name, a.dtype, b.name, b.dtype)
		return
	}
	switch {
	case l.op.IsLogical() && a.dtype != Bool:
		c.errorf(diag.TypeMismatch, "%v needs Bool inputs, got %v", l.op, a.dtype)
		return
	case !l.op.IsLogical() && a.dtype == Bool && l.op != ElementWiseEqual:
		c.errorf(diag.TypeMismatch, "%v is not defined on Bool inputs", l.op)
		return
	case a.dtype == Int4 || a.dtype == FP8E4M3:
		c.errorf(diag.TypeMismatch, "%v inputs are storage types; Dequantize them first", a.dtype)
		return
	}
	d, err := BroadcastDims(a.dims, b.dims)
	if err != nil {
		c.errorf(diag.ShapeMismatch, "cannot broadcast %q and %q: %v", a.name, b.name, err)
		return
	}
	out := a.dtype
	if l.op.IsComparison() {
		out = Bool
	}
	c.setOutput(0, out, d)
	// Shape arithmetic on known values (e.g. batch*seq) stays known.
	if av, ok := c.values(0); ok {
		if bv, ok := c.values(1); ok && out.IsInteger() && d.IsStatic() {
			if v, ok := foldIntElementWise(l.op, av, bv, d); ok {
				c.setValues(0, v)
			}
		}
	}
}

// foldIntElementWise evaluates integer shape arithmetic on known values
// (rank 0 or 1 only: shape tensors).
func foldIntElementWise(op ElementWiseOperation, a, b []int64, od Dims) ([]int64, bool) {
	if len(od) > 1 {
		return nil, false
	}
	n := od.Volume()
	out := make([]int64, n)
	for i := int64(0); i < n; i++ {
		x, y := a[0], b[0]
		if len(a) > 1 {
			x = a[i]
		}
		if len(b) > 1 {
			y = b[i]
		}
		switch op {
		case ElementWiseSum:
			out[i] = x + y
		case ElementWiseSub:
			out[i] = x - y
		case ElementWiseProd:
			out[i] = x * y
		case ElementWiseMax:
			out[i] = max(x, y)
		case ElementWiseMin:
			out[i] = min(x, y)
		case ElementWiseDiv:
			if y == 0 {
				return nil, false
			}
			out[i] = x / y
		case ElementWiseFloorDiv:
			if y == 0 {
				return nil, false
			}
			q := x / y
			if (x%y != 0) && ((x < 0) != (y < 0)) {
				q--
			}
			out[i] = q
		default:
			return nil, false
		}
	}
	return out, true
}
