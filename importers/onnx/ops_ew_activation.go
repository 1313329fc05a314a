package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Activation ops: TensorRT IActivationLayer with ONNX's default alpha and
// beta, and compositions for the functions TensorRT has no type for.

func init() {
	const floats = "float32, float16, bfloat16 (double widened)"
	for _, since := range []int64{1, 6, 13, 14} {
		ewRegister(OpInfo{Op: "Relu", Since: since, Types: floats + ", int8, int32, int64 (int16 widened)"}, 1, importRelu)
	}
	simple := []struct {
		op    string
		since []int64
		act   dsl.ActivationType
		// alpha and beta name the ONNX attributes that give TensorRT's
		// alpha and beta ("" for a fixed value), with ONNX's defaults.
		alpha, beta       string
		alphaDef, betaDef float32
	}{
		{"Sigmoid", []int64{1, 6, 13}, dsl.ActivationSigmoid, "", "", 0, 0},
		{"Tanh", []int64{1, 6, 13}, dsl.ActivationTanh, "", "", 0, 0},
		{"LeakyRelu", []int64{1, 6, 16}, dsl.ActivationLeakyReLU, "alpha", "", 0.01, 0},
		{"Elu", []int64{1, 6}, dsl.ActivationELU, "alpha", "", 1, 0},
		// TensorRT's SELU is beta*(alpha*exp(x)-alpha) below 0, beta*x
		// above: ONNX's gamma is TensorRT's beta.
		{"Selu", []int64{1, 6}, dsl.ActivationSELU, "alpha", "gamma", 1.67326319217681884765625, 1.05070102214813232421875},
		{"HardSigmoid", []int64{1, 6}, dsl.ActivationHardSigmoid, "alpha", "beta", 0.2, 0.5},
		{"ThresholdedRelu", []int64{10}, dsl.ActivationThresholdedReLU, "alpha", "", 1, 0},
		{"Softsign", []int64{1}, dsl.ActivationSoftsign, "", "", 0, 0},
		// ONNX's Softplus is log(exp(x)+1): TensorRT's alpha*log(exp(beta*x)+1) with both 1.
		{"Softplus", []int64{1}, dsl.ActivationSoftplus, "", "", 1, 1},
	}
	for _, s := range simple {
		for _, since := range s.since {
			s := s
			ewRegister(OpInfo{Op: s.op, Since: since, Types: floats}, 1, func(c *nodeCtx) ([]*dsl.Tensor, error) {
				alpha, beta := s.alphaDef, s.betaDef
				if s.alpha != "" {
					alpha = c.AttrFloat(s.alpha, alpha)
				}
				if s.beta != "" {
					beta = c.AttrFloat(s.beta, beta)
				}
				x, err := c.ewFloatInput(0)
				if err != nil {
					return nil, err
				}
				return ewOne(c.ewActivation(x, s.act, alpha, beta)), nil
			})
		}
	}
	ewRegister(OpInfo{Op: "Celu", Since: 12, Types: "float32 (double widened)"}, 1, importCelu)
	ewRegister(OpInfo{Op: "HardSwish", Since: 14, Types: floats}, 1, importHardSwish)
	ewRegister(OpInfo{Op: "Mish", Since: 18, Types: floats}, 1, importMish)
	ewRegister(OpInfo{Op: "Gelu", Since: 20, Types: floats}, 1, importGelu)
	ewRegister(OpInfo{Op: "Shrink", Since: 9, Types: floats + ", int8, uint8, int32, int64"}, 1, importShrink)
	for _, since := range []int64{1, 6, 7, 9, 16} {
		ewRegister(OpInfo{Op: "PRelu", Since: since, Types: floats + ", int32, int64"}, 2, importPRelu)
	}
}

// ewFloatInput returns input i, or an error naming its type when it is not
// a float (activations take only floats).
func (c *nodeCtx) ewFloatInput(i int) (*dsl.Tensor, error) {
	x := c.Input(i)
	if !ewIsFloat(x) {
		return nil, c.Errorf(diag.TypeMismatch, "%s needs a float input (float32, float16, bfloat16); %q is %v", c.node.GetOpType(), x.Name(), x.Type())
	}
	return x, nil
}

// importRelu: an activation for floats; max(x, 0) for integers (opset 14).
func importRelu(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	if ewIsFloat(x) {
		return ewOne(c.ewActivation(x, dsl.ActivationReLU, 0, 0)), nil
	}
	return ewOne(c.ewBinary(x, c.scalarLike(0, x), dsl.ElementWiseMax)), nil
}

// importCelu: max(0,x) + min(0, alpha*(exp(x/alpha)-1)) = alpha*ELU(x/alpha)
// with ELU's alpha 1 (ONNX's own function body).
func importCelu(c *nodeCtx) ([]*dsl.Tensor, error) {
	alpha := c.AttrFloat("alpha", 1)
	if alpha == 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "Celu alpha is 0; it must be nonzero (x is divided by it)")
	}
	x, err := c.ewFloatInput(0)
	if err != nil {
		return nil, err
	}
	a := c.scalarLike(float64(alpha), x)
	scaled := c.Net().AddElementWise(x, a, dsl.ElementWiseDiv).Output(0)
	elu := c.ewActivation(scaled, dsl.ActivationELU, 1, 0)
	return ewOne(c.Net().AddElementWise(elu, a, dsl.ElementWiseProd).Output(0)), nil
}

// importHardSwish: x * HardSigmoid(x) with alpha 1/6, beta 0.5.
func importHardSwish(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, err := c.ewFloatInput(0)
	if err != nil {
		return nil, err
	}
	hs := c.ewActivation(x, dsl.ActivationHardSigmoid, 1.0/6, 0.5)
	return ewOne(c.Net().AddElementWise(x, hs, dsl.ElementWiseProd).Output(0)), nil
}

// importMish: x * tanh(softplus(x)).
func importMish(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, err := c.ewFloatInput(0)
	if err != nil {
		return nil, err
	}
	sp := c.ewActivation(x, dsl.ActivationSoftplus, 1, 1)
	th := c.ewActivation(sp, dsl.ActivationTanh, 0, 0)
	return ewOne(c.Net().AddElementWise(x, th, dsl.ElementWiseProd).Output(0)), nil
}

// importGelu: approximate "none" is TensorRT's GeluErf, "tanh" GeluTanh.
func importGelu(c *nodeCtx) ([]*dsl.Tensor, error) {
	act := dsl.ActivationGeluErf
	switch a := c.AttrString("approximate", "none"); a {
	case "none":
	case "tanh":
		act = dsl.ActivationGeluTanh
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "Gelu approximate is %q; want \"none\" or \"tanh\"", a)
	}
	x, err := c.ewFloatInput(0)
	if err != nil {
		return nil, err
	}
	return ewOne(c.ewActivation(x, act, 0, 0)), nil
}

// importShrink: x < -lambd ? x+bias : x > lambd ? x-bias : 0, as two
// selects.
func importShrink(c *nodeCtx) ([]*dsl.Tensor, error) {
	lambd, bias := float64(c.AttrFloat("lambd", 0.5)), float64(c.AttrFloat("bias", 0))
	x := c.Input(0)
	n := c.Net()
	lo, hi := c.scalarLike(-lambd, x), c.scalarLike(lambd, x)
	b := c.scalarLike(bias, x)
	below := n.AddElementWise(x, lo, dsl.ElementWiseLess).Output(0)
	above := n.AddElementWise(x, hi, dsl.ElementWiseGreater).Output(0)
	plus := n.AddElementWise(x, b, dsl.ElementWiseSum).Output(0)
	minus := n.AddElementWise(x, b, dsl.ElementWiseSub).Output(0)
	zero := c.scalarLike(0, x)
	inner := n.AddSelect(above, minus, zero).Output(0)
	return ewOne(n.AddSelect(below, plus, inner).Output(0)), nil
}

// importPRelu: the slope broadcasts to x in one direction (ONNX's
// unidirectional broadcasting): it gets x's rank by leading unit dims.
// Integer inputs (opset 16) compose x < 0 ? x*slope : x.
func importPRelu(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, slope := c.Input(0), c.Input(1)
	if slope.Rank() > x.Rank() {
		return nil, c.Errorf(diag.ShapeMismatch, "PRelu slope %q has rank %d, more than the input %q (rank %d); it must broadcast to the input", slope.Name(), slope.Rank(), x.Name(), x.Rank())
	}
	if c.opset < 7 && slope.Rank() == 1 && x.Rank() > 2 {
		// Before opset 7 a slope of C values is per channel (axis 1).
		slope = c.ewChannelSlope(slope, x.Rank())
	}
	slope = c.unsqueezeTo(slope, x.Rank())
	if ewIsFloat(x) {
		return ewOne(c.Net().AddParametricReLU(x, slope).Output(0)), nil
	}
	n := c.Net()
	neg := n.AddElementWise(x, c.scalarLike(0, x), dsl.ElementWiseLess).Output(0)
	scaled := n.AddElementWise(x, slope, dsl.ElementWiseProd).Output(0)
	return ewOne(n.AddSelect(neg, scaled, x).Output(0)), nil
}

// ewChannelSlope reshapes a rank-1 slope to [1, C, 1, ...] of rank r.
func (c *nodeCtx) ewChannelSlope(slope *dsl.Tensor, r int) *dsl.Tensor {
	axes := []int64{0}
	for i := 2; i < r; i++ {
		axes = append(axes, int64(i))
	}
	at, _ := tensor.FromInt64([]int64{int64(len(axes))}, axes)
	return c.Net().AddUnsqueeze(slope, c.Constant(at)).Output(0)
}
