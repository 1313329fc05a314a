package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	const types = "float32, float16, bfloat16"
	for _, since := range []int64{1, 9, 13} {
		register(OpInfo{Op: "MatMul", Since: since, Types: types}, importMatMul)
	}
	for _, since := range []int64{1, 6, 7, 9, 11, 13} {
		register(OpInfo{Op: "Gemm", Since: since, Types: types}, importGemm)
	}
	for _, since := range []int64{12} {
		register(OpInfo{Op: "Einsum", Since: since, Types: types,
			Restrictions: "float inputs; at most 26 distinct subscripts"}, importEinsum)
	}
}

// importMatMul follows numpy.matmul: a 1-d operand is a vector (the
// Vector operation drops its unit dim from the result), and the operand
// with fewer batch dims gets leading unit dims so both have as many.
func importMatMul(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(2); err != nil {
		return nil, err
	}
	a, b := c.Input(0), c.Input(1)
	if err := c.nnCheckFloat(a); err != nil {
		return nil, err
	}
	if a.Rank() == 0 || b.Rank() == 0 {
		return nil, c.Errorf(diag.ShapeMismatch, "MatMul operands must have rank >= 1; they have dims %v and %v", a.Dims(), b.Dims())
	}
	opA, opB := dsl.MatrixOpNone, dsl.MatrixOpNone
	batchA, batchB := a.Rank()-2, b.Rank()-2
	if a.Rank() == 1 {
		opA, batchA = dsl.MatrixOpVector, 0
	}
	if b.Rank() == 1 {
		opB, batchB = dsl.MatrixOpVector, 0
	}
	if batchA < batchB {
		a = c.unsqueezeTo(a, a.Rank()+batchB-batchA)
	} else if batchB < batchA {
		b = c.unsqueezeTo(b, b.Rank()+batchA-batchB)
	}
	return outputs(c.Net().AddMatrixMultiply(a, opA, b, opB)), nil
}

// importGemm is alpha*op(A)*op(B) + beta*C with C broadcast to the result.
func importGemm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(2); err != nil {
		return nil, err
	}
	a, b := c.Input(0), c.Input(1)
	if err := c.nnCheckFloat(a); err != nil {
		return nil, err
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "Gemm needs 2-D A and B; they have dims %v and %v", a.Dims(), b.Dims())
	}
	alpha := float64(c.AttrFloat("alpha", 1))
	beta := float64(c.AttrFloat("beta", 1))
	op := func(name string) dsl.MatrixOperation {
		if c.AttrInt(name, 0) != 0 {
			return dsl.MatrixOpTranspose
		}
		return dsl.MatrixOpNone
	}
	y := c.Net().AddMatrixMultiply(a, op("transA"), b, op("transB")).Output(0)
	if c.err != nil {
		return nil, c.err
	}
	if alpha != 1 {
		y = c.ew(y, c.scalarLike(alpha, y), dsl.ElementWiseProd)
	}
	if c.HasInput(2) && beta != 0 {
		cc := c.Input(2)
		if cc.Rank() > 2 {
			return nil, c.Errorf(diag.ShapeMismatch, "Gemm's C has dims %v; it must broadcast to 2-D", cc.Dims())
		}
		cc = c.unsqueezeTo(cc, 2)
		if beta != 1 {
			cc = c.ew(cc, c.scalarLike(beta, cc), dsl.ElementWiseProd)
		}
		y = c.ew(y, cc, dsl.ElementWiseSum)
	}
	return []*dsl.Tensor{y}, nil
}

func importEinsum(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	eq := c.AttrString("equation", "")
	if c.err != nil {
		return nil, c.err
	}
	eq, err := c.nnEinsumLower(eq)
	if err != nil {
		return nil, err
	}
	ins := make([]*dsl.Tensor, c.NbInputs())
	for i := range ins {
		ins[i] = c.Input(i)
		if err := c.nnCheckFloat(ins[i]); err != nil {
			return nil, err
		}
	}
	y := c.Net().AddEinsum(ins, eq).Output(0)
	// The layer's output is Float32 (TensorRT's definition); ONNX keeps
	// the input type.
	if dt := ins[0].Type(); y.Type() != dt {
		y = c.Net().AddCast(y, dt).Output(0)
	}
	return []*dsl.Tensor{y}, nil
}

// nnEinsumLower drops spaces and renames upper-case subscripts (ONNX
// allows them; the layer takes lower-case letters only) to unused
// lower-case ones.
func (c *nodeCtx) nnEinsumLower(eq string) (string, error) {
	used := map[rune]bool{}
	for _, r := range eq {
		used[r] = true
	}
	rename := map[rune]rune{}
	next := 'a'
	out := make([]rune, 0, len(eq))
	for _, r := range eq {
		switch {
		case r == ' ':
			continue
		case r >= 'A' && r <= 'Z':
			if _, ok := rename[r]; !ok {
				for next <= 'z' && used[next] {
					next++
				}
				if next > 'z' {
					return "", c.Errorf(diag.UnsupportedAttr, "equation %q uses more than 26 distinct subscripts", eq)
				}
				rename[r], used[next] = next, true
			}
			r = rename[r]
		}
		out = append(out, r)
	}
	return string(out), nil
}
