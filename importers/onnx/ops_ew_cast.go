package onnx

import (
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// Cast, CastLike and Dropout (an identity at inference).

func init() {
	const castTypes = "float32, float16, bfloat16, int8, uint8, int32, int64, bool (double, int16, uint16/32/64 widened)"
	const noFP8 = "no string, float8 or int4 targets (use QuantizeLinear)"
	ewRegister(OpInfo{Op: "Cast", Since: 1, Types: castTypes, Restrictions: noFP8}, 1, importCast1)
	for _, since := range []int64{6, 9, 13, 19, 21} {
		ewRegister(OpInfo{Op: "Cast", Since: since, Types: castTypes, Restrictions: noFP8 + "; saturate is ignored (it only concerns float8)"}, 1, importCast)
	}
	for _, since := range []int64{15, 19, 21} {
		ewRegister(OpInfo{Op: "CastLike", Since: since, Types: castTypes, Restrictions: noFP8}, 2, importCastLike)
	}
	for _, since := range []int64{1, 6, 7, 10, 12, 13} {
		ewRegister(OpInfo{Op: "Dropout", Since: since, Types: "all float types",
			Restrictions: "inference only: an identity (training_mode must be false or the ratio 0; is_test of opsets 1 and 6 is ignored)"}, 1, importDropout)
	}
}

func importCast(c *nodeCtx) ([]*dsl.Tensor, error) {
	if !c.HasAttr("to") {
		return nil, c.Errorf(diag.InvalidNode, "Cast has no \"to\" attribute")
	}
	to := c.AttrInt("to", 0)
	dt, err := DataTypeFromProto(int32(to))
	if err != nil {
		return nil, c.Errorf(diag.CodeOf(err), "Cast to: %v", err)
	}
	return c.ewCast(c.Input(0), dt, protoTypeName(int32(to)))
}

// importCast1: before opset 6, "to" names the type ("FLOAT", "INT32").
func importCast1(c *nodeCtx) ([]*dsl.Tensor, error) {
	name := c.AttrString("to", "")
	code, ok := onnxpb.TensorProto_DataType_value[strings.ToUpper(name)]
	if !ok {
		return nil, c.Errorf(diag.InvalidNode, "Cast \"to\" is %q; want an ONNX type name such as FLOAT or INT32", name)
	}
	dt, err := DataTypeFromProto(code)
	if err != nil {
		return nil, c.Errorf(diag.CodeOf(err), "Cast to: %v", err)
	}
	return c.ewCast(c.Input(0), dt, name)
}

// importCastLike casts input 0 to input 1's type (input 1's values are not
// read, so a constant there adds no layer).
func importCastLike(c *nodeCtx) ([]*dsl.Tensor, error) {
	var dt dsl.DataType
	if k, ok := c.Const(1); ok {
		dt = k.DType()
	} else {
		dt = c.Input(1).Type()
	}
	return c.ewCast(c.Input(0), dt, dt.String())
}

// ewCast adds a Cast layer, or rejects types the Cast layer does not
// convert.
func (c *nodeCtx) ewCast(x *dsl.Tensor, dt dsl.DataType, name string) ([]*dsl.Tensor, error) {
	switch dt {
	case tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int8, tensor.UInt8, tensor.Int32, tensor.Int64, tensor.Bool:
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "%s cannot cast to %s: %v is a quantized storage type (use QuantizeLinear/DequantizeLinear)", c.node.GetOpType(), name, dt)
	}
	return outputs(c.Net().AddCast(x, dt)), nil
}

// importDropout is an identity; the optional mask output is all true
// (all ones of the input's type before opset 10).
func importDropout(c *nodeCtx) ([]*dsl.Tensor, error) {
	if c.opset >= 12 && c.HasInput(2) {
		mode, ok := c.ConstInts(2)
		if !ok {
			return nil, c.Errorf(diag.UnsupportedAttr, "Dropout training_mode %q is computed at run time; trtc imports Dropout for inference only and needs it to be a constant false", c.node.GetInput()[2])
		}
		if len(mode) == 1 && mode[0] != 0 && !c.ewDropoutRatioZero() {
			return nil, c.Errorf(diag.UnsupportedAttr, "Dropout training_mode is true; trtc imports Dropout for inference only (training mode drops random elements)")
		}
	}
	x := c.Input(0)
	n := c.Net()
	y := n.AddIdentity(x).Output(0)
	if !c.HasOutput(1) {
		return ewOne(y), nil
	}
	// All true with x's dims, NaN included: (x == x) or true.
	same := n.AddElementWise(x, x, dsl.ElementWiseEqual).Output(0)
	mask := n.AddElementWise(same, c.ewScalar(1, tensor.Bool, x.Rank()), dsl.ElementWiseOr).Output(0)
	if c.opset < 10 {
		mask = n.AddCast(mask, x.Type()).Output(0)
	}
	return []*dsl.Tensor{y, mask}, nil
}

// ewDropoutRatioZero reports whether Dropout's ratio input is a known 0
// (then training mode keeps every element too).
func (c *nodeCtx) ewDropoutRatioZero() bool {
	r, ok := c.ConstFloats(1)
	return ok && len(r) == 1 && r[0] == 0
}
