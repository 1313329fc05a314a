package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// RandomUniform, RandomNormal, their *Like forms and Bernoulli onto Fill
// layers. trtc's CPU engine seeds its random fills itself (see
// dsl.FillSeed), so the seed attribute is not used: results are
// reproducible per network, not equal to another runtime's draws.

func init() {
	const r = "the seed attribute is ignored (trtc seeds fills per network)"
	register(OpInfo{Op: "RandomUniform", Since: 1, Types: "float32, float16, bfloat16", Restrictions: r}, importRandom(dsl.FillRandomUniform, false))
	register(OpInfo{Op: "RandomNormal", Since: 1, Types: "float32, float16, bfloat16", Restrictions: r}, importRandom(dsl.FillRandomNormal, false))
	register(OpInfo{Op: "RandomUniformLike", Since: 1, Types: "float32, float16, bfloat16", Restrictions: r}, importRandom(dsl.FillRandomUniform, true))
	register(OpInfo{Op: "RandomNormalLike", Since: 1, Types: "float32, float16, bfloat16", Restrictions: r}, importRandom(dsl.FillRandomNormal, true))
	for _, since := range []int64{15, 22} {
		register(OpInfo{Op: "Bernoulli", Since: since, Types: "probabilities float32, float16, bfloat16; output any numeric or bool", Restrictions: r}, importBernoulli)
	}
}

// ctlRandomFill draws Float32 values with the shape of like (or dims when
// like is nil).
func (c *nodeCtx) ctlRandomFill(op dsl.FillOperation, like *dsl.Tensor, dims []int64, alpha, beta float64) *dsl.Tensor {
	var f *dsl.FillLayer
	if like != nil && !like.Dims().IsStatic() {
		f = c.Net().AddFill(nil, op, dsl.Float32)
		f.SetInput(0, c.Net().AddShape(like).Output(0))
	} else {
		if like != nil {
			dims = like.Dims()
		}
		f = c.Net().AddFill(dsl.Dims(dims), op, dsl.Float32)
	}
	f.SetAlpha(alpha)
	f.SetBeta(beta)
	return f.Output(0)
}

// ctlRandomType is the dtype attribute's trtc type, or def when absent.
func (c *nodeCtx) ctlRandomType(def dsl.DataType) (dsl.DataType, error) {
	if !c.HasAttr("dtype") {
		return def, nil
	}
	dt, err := DataTypeFromProto(int32(c.AttrInt("dtype", 1)))
	if err != nil {
		return 0, c.Errorf(diag.UnsupportedAttr, "attribute dtype: %v", err)
	}
	return dt, nil
}

func importRandom(op dsl.FillOperation, like bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		alpha, beta := float64(c.AttrFloat("low", 0)), float64(c.AttrFloat("high", 1))
		if op == dsl.FillRandomNormal {
			alpha, beta = float64(c.AttrFloat("mean", 0)), float64(c.AttrFloat("scale", 1))
		}
		def := dsl.Float32
		var in *dsl.Tensor
		var dims []int64
		if like {
			in = c.Input(0)
			def = in.Type()
		} else {
			dims = c.AttrInts("shape", nil)
			if dims == nil {
				return nil, c.Errorf(diag.InvalidNode, "%s needs the shape attribute", c.node.GetOpType())
			}
		}
		dt, err := c.ctlRandomType(def)
		if err != nil {
			return nil, err
		}
		if dt != dsl.Float32 && dt != dsl.Float16 && dt != dsl.BFloat16 {
			return nil, c.Errorf(diag.UnsupportedAttr, "%s draws float32, float16 or bfloat16 values, not %v", c.node.GetOpType(), dt)
		}
		return []*dsl.Tensor{c.ctlCast(c.ctlRandomFill(op, in, dims, alpha, beta), dt)}, nil
	}
}

// importBernoulli draws u uniform in [0, 1) and outputs u < p.
func importBernoulli(c *nodeCtx) ([]*dsl.Tensor, error) {
	p := c.Input(0)
	if p.Type() != dsl.Float32 && p.Type() != dsl.Float16 && p.Type() != dsl.BFloat16 {
		return nil, c.Errorf(diag.TypeMismatch, "the probabilities %q must be float32, float16 or bfloat16, got %v", p.Name(), p.Type())
	}
	dt, err := c.ctlRandomType(p.Type())
	if err != nil {
		return nil, err
	}
	u := c.ctlRandomFill(dsl.FillRandomUniform, p, nil, 0, 1)
	hit := c.Net().AddElementWise(u, c.ctlCast(p, dsl.Float32), dsl.ElementWiseLess).Output(0)
	return []*dsl.Tensor{c.ctlCast(hit, dt)}, nil
}
