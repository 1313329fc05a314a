package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Variadic Sum, Mean, Max, Min (a chain of elementwise layers with
// multidirectional broadcasting) and Clip.

func init() {
	const numeric = "float32, float16, bfloat16, int8, uint8, int32, int64 (double, int16, uint16/32/64 widened)"
	const floats = "float32, float16, bfloat16 (double widened)"
	// Opsets 1 and 6 want equal shapes: broadcasting accepts those too.
	for _, since := range []int64{1, 6, 8, 13} {
		register(OpInfo{Op: "Sum", Since: since, Types: floats}, importEwVariadic(dsl.ElementWiseSum, false))
		register(OpInfo{Op: "Mean", Since: since, Types: floats}, importEwVariadic(dsl.ElementWiseSum, true))
	}
	for _, since := range []int64{1, 6, 8, 12, 13} {
		register(OpInfo{Op: "Max", Since: since, Types: numeric}, importEwVariadic(dsl.ElementWiseMax, false))
		register(OpInfo{Op: "Min", Since: since, Types: numeric}, importEwVariadic(dsl.ElementWiseMin, false))
	}
	for _, since := range []int64{1, 6} {
		ewRegister(OpInfo{Op: "Clip", Since: since, Types: floats}, 1, importClip6)
	}
	for _, since := range []int64{11, 12, 13} {
		ewRegister(OpInfo{Op: "Clip", Since: since, Types: numeric}, 1, importClip11)
	}
}

// importEwVariadic folds the inputs left to right with op; mean divides the
// sum by the number of inputs. One input is an identity.
func importEwVariadic(op dsl.ElementWiseOperation, mean bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if c.NbInputs() == 0 {
			return nil, c.Errorf(diag.InvalidNode, "%s needs at least one input", c.node.GetOpType())
		}
		var ins []*dsl.Tensor
		for i := 0; i < c.NbInputs(); i++ {
			if !c.HasInput(i) {
				return nil, c.Errorf(diag.InvalidNode, "%s input %d is empty; every input is required", c.node.GetOpType(), i)
			}
			ins = append(ins, c.Input(i))
		}
		if len(ins) == 1 {
			return outputs(c.Net().AddIdentity(ins[0])), nil
		}
		ins = c.Broadcast(ins...)
		acc := ins[0]
		for _, t := range ins[1:] {
			acc = c.Net().AddElementWise(acc, t, op).Output(0)
		}
		if mean {
			acc = c.Net().AddElementWise(acc, c.scalarLike(float64(len(ins)), acc), dsl.ElementWiseDiv).Output(0)
		}
		return ewOne(acc), nil
	}
}

// importClip6: min and max are attributes (defaults: no bound).
func importClip6(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	if !x.Type().IsFloat() {
		return nil, c.Errorf(diag.TypeMismatch, "Clip before opset 11 takes floats; %q is %v", x.Name(), x.Type())
	}
	var b ewBounds
	for i, name := range []string{"min", "max"} {
		if c.HasAttr(name) {
			b.known[i], b.v[i] = true, float64(c.AttrFloat(name, 0))
		}
	}
	return ewOne(c.ewClip(x, b)), nil
}

// importClip11: min and max are optional scalar inputs, possibly computed
// at run time.
func importClip11(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	var b ewBounds
	for i, name := range []string{"min", "max"} {
		if !c.HasInput(i + 1) {
			continue
		}
		if v, ok := c.ConstFloats(i + 1); ok {
			if len(v) != 1 {
				return nil, c.Errorf(diag.InvalidNode, "Clip %s has %d values; it must be a scalar", name, len(v))
			}
			b.known[i], b.v[i] = true, v[0]
			continue
		}
		t := c.Input(i + 1)
		if t.Type() != x.Type() {
			return nil, c.Errorf(diag.TypeMismatch, "Clip %s %q is %v but the input %q is %v", name, t.Name(), t.Type(), x.Name(), x.Type())
		}
		b.t[i] = t
	}
	return ewOne(c.ewClip(x, b)), nil
}

// ewBounds are Clip's lower (0) and upper (1) bounds: a value known at
// import time, a tensor, or neither (no bound).
type ewBounds struct {
	known [2]bool
	v     [2]float64
	t     [2]*dsl.Tensor
}

// ewClip computes min(max(x, lo), hi) (so hi wins where lo > hi, as ONNX
// says). A float input with both bounds known, finite and ordered becomes
// one Clip activation; absent bounds are skipped.
func (c *nodeCtx) ewClip(x *dsl.Tensor, b ewBounds) *dsl.Tensor {
	lo, hi := b.v[0], b.v[1]
	if b.known[0] && b.known[1] && ewIsFloat(x) && lo <= hi && math.Abs(lo) <= math.MaxFloat32 && math.Abs(hi) <= math.MaxFloat32 {
		return c.ewActivation(x, dsl.ActivationClip, float32(lo), float32(hi))
	}
	y := x
	for i, op := range []dsl.ElementWiseOperation{dsl.ElementWiseMax, dsl.ElementWiseMin} {
		bound := b.t[i]
		if b.known[i] {
			bound = c.ewScalar(b.v[i], x.Type(), 0)
		}
		if bound != nil {
			y = c.ewBinary(y, bound, op)
		}
	}
	if y == x {
		y = c.Net().AddIdentity(x).Output(0)
	}
	return y
}
