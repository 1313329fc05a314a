package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// MatrixOperation says how a MatrixMultiplyLayer reads one operand; values
// are TensorRT's nvinfer1::MatrixOperation.
type MatrixOperation int

const (
	// MatrixOpNone reads the last two dims as a matrix (rank >= 2).
	MatrixOpNone MatrixOperation = iota
	// MatrixOpTranspose reads the last two dims as a transposed matrix (rank >= 2).
	MatrixOpTranspose
	// MatrixOpVector reads the last dim as a vector (rank >= 1): a row
	// vector [1,K] for input 0, a column vector [K,1] for input 1, and the
	// output loses that unit dim.
	MatrixOpVector
	numMatrixOps
)

var matrixOpNames = [...]string{"None", "Transpose", "Vector"}

func (o MatrixOperation) String() string {
	if o >= 0 && o < numMatrixOps {
		return matrixOpNames[o]
	}
	return fmt.Sprintf("MatrixOperation(%d)", int(o))
}

// AllMatrixOperations lists every matrix operation.
func AllMatrixOperations() []MatrixOperation {
	return []MatrixOperation{MatrixOpNone, MatrixOpTranspose, MatrixOpVector}
}

// MatrixMultiplyLayer is a batched matrix product (TensorRT
// IMatrixMultiplyLayer): op0(input 0) × op1(input 1). Dims before the
// matrix (or vector) dims are batch dims: both inputs have the same number
// of them, and where one side has 1 it is broadcast. The inputs have the
// same float type (Float32, Float16 or BFloat16; TensorRT rejects Int32)
// and the output has that type; products accumulate in float32.
type MatrixMultiplyLayer struct {
	layerBase
	ops [2]MatrixOperation
}

// AddMatrixMultiply adds op0(a) × op1(b).
func (n *Network) AddMatrixMultiply(a *Tensor, op0 MatrixOperation, b *Tensor, op1 MatrixOperation) *MatrixMultiplyLayer {
	l := &MatrixMultiplyLayer{ops: [2]MatrixOperation{op0, op1}}
	n.addLayer(l, LayerMatrixMultiply, 1, 2, a, b)
	return l
}

// Operation returns the operation on input index (0 or 1).
func (l *MatrixMultiplyLayer) Operation(index int) MatrixOperation {
	if index < 0 || index > 1 {
		return MatrixOpNone
	}
	return l.ops[index]
}

// SetOperation sets the operation on input index (0 or 1).
func (l *MatrixMultiplyLayer) SetOperation(index int, op MatrixOperation) {
	if index < 0 || index > 1 {
		l.net.addError(callerLoc(), l.name, "MatrixMultiply layer %q: SetOperation(%d): index must be 0 or 1", l.name, index)
		return
	}
	l.ops[index] = op
	l.changed()
}

// MatMulShape describes one matrix product with concrete or declared dims:
// the broadcast batch dims, M, N, K, and which operands are vectors. Shared
// by inference and the targets so both read operands the same way.
type MatMulShape struct {
	Batch      Dims // broadcast batch dims of the output
	BatchA     Dims // batch dims of input 0 (before broadcasting)
	BatchB     Dims // batch dims of input 1
	M, N, K    int64
	KB         int64 // K as input 1 declares it (equal to K when valid)
	VecA, VecB bool
	TransA     bool
	TransB     bool
	Out        Dims
}

// MatMulShapeOf splits the dims of both operands by their operations and
// checks ranks, batch broadcasting and the inner dimension. Dynamic dims
// (-1) are accepted wherever a run-time value could make them agree.
func MatMulShapeOf(a Dims, opA MatrixOperation, b Dims, opB MatrixOperation) (MatMulShape, diag.Code, error) {
	var s MatMulShape
	for i, op := range []MatrixOperation{opA, opB} {
		if op < 0 || op >= numMatrixOps {
			return s, diag.InvalidNode, fmt.Errorf("unknown matrix operation %d for input %d", int(op), i)
		}
	}
	need := func(d Dims, op MatrixOperation, which int) error {
		minRank := 2
		if op == MatrixOpVector {
			minRank = 1
		}
		if len(d) < minRank {
			return fmt.Errorf("input %d has rank %d, but MatrixOperation %v needs rank >= %d", which, len(d), op, minRank)
		}
		return nil
	}
	if err := need(a, opA, 0); err != nil {
		return s, diag.ShapeMismatch, err
	}
	if err := need(b, opB, 1); err != nil {
		return s, diag.ShapeMismatch, err
	}
	s.VecA, s.VecB = opA == MatrixOpVector, opB == MatrixOpVector
	s.TransA, s.TransB = opA == MatrixOpTranspose, opB == MatrixOpTranspose
	ra, rb := len(a), len(b)
	switch opA {
	case MatrixOpVector:
		s.BatchA, s.M, s.K = a[:ra-1], 1, a[ra-1]
	case MatrixOpNone:
		s.BatchA, s.M, s.K = a[:ra-2], a[ra-2], a[ra-1]
	default:
		s.BatchA, s.M, s.K = a[:ra-2], a[ra-1], a[ra-2]
	}
	switch opB {
	case MatrixOpVector:
		s.BatchB, s.KB, s.N = b[:rb-1], b[rb-1], 1
	case MatrixOpNone:
		s.BatchB, s.KB, s.N = b[:rb-2], b[rb-2], b[rb-1]
	default:
		s.BatchB, s.KB, s.N = b[:rb-2], b[rb-1], b[rb-2]
	}
	if len(s.BatchA) != len(s.BatchB) {
		return s, diag.ShapeMismatch, fmt.Errorf("input 0 has %d batch dims (%v) and input 1 has %d (%v); TensorRT needs the same number (add unit dims with a Shuffle)",
			len(s.BatchA), s.BatchA, len(s.BatchB), s.BatchB)
	}
	if s.K >= 0 && s.KB >= 0 && s.K != s.KB {
		return s, diag.ShapeMismatch, fmt.Errorf("inner dimensions differ: op0(input 0) has K=%d, op1(input 1) has K=%d", s.K, s.KB)
	}
	if s.K < 0 {
		s.K = s.KB
	}
	batch, err := BroadcastDims(s.BatchA, s.BatchB)
	if err != nil {
		return s, diag.ShapeMismatch, fmt.Errorf("batch dims do not broadcast: %v", err)
	}
	s.Batch = batch
	s.Out = append(Dims{}, batch...)
	if !s.VecA {
		s.Out = append(s.Out, s.M)
	}
	if !s.VecB {
		s.Out = append(s.Out, s.N)
	}
	return s, 0, nil
}

func (l *MatrixMultiplyLayer) infer(c *inferCtx) {
	a, b := c.in(0), c.in(1)
	if a.dtype != b.dtype {
		c.errorf(diag.TypeMismatch, "inputs have different types: %q is %v, %q is %v (insert a Cast layer)", a.name, a.dtype, b.name, b.dtype)
		return
	}
	if !linalgIsFloat(a.dtype) {
		c.errorf(diag.TypeMismatch, "inputs are %v; MatrixMultiply takes Float32, Float16 or BFloat16 (TensorRT rejects Int32 operands; Cast or Dequantize first)", a.dtype)
		return
	}
	s, code, err := MatMulShapeOf(a.dims, l.ops[0], b.dims, l.ops[1])
	if err != nil {
		c.errorf(code, "%q %v × %q %v: %v", a.name, a.dims, b.name, b.dims, err)
		return
	}
	c.setOutput(0, a.dtype, s.Out)
}
