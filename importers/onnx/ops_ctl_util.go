package onnx

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// Small layer-building helpers shared by the control-flow, quantization
// and recurrent importers (prefixed ctl to keep clear of other groups).

// ctlF32 adds a Float32 scalar constant.
func (c *nodeCtx) ctlF32(v float32) *dsl.Tensor {
	t, _ := tensor.FromFloat32([]int64{}, []float32{v})
	return c.Constant(t)
}

// ctlI64 adds an Int64 constant of the given dims (nil: a scalar).
func (c *nodeCtx) ctlI64(dims []int64, v ...int64) *dsl.Tensor {
	if dims == nil {
		dims = []int64{}
	}
	t, _ := tensor.FromInt64(dims, v)
	return c.Constant(t)
}

// ctlCast casts t to dt unless it already has that type.
func (c *nodeCtx) ctlCast(t *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	if t.Type() == dt {
		return t
	}
	return c.Net().AddCast(t, dt).Output(0)
}

// ctlReshape reshapes t to dims (0 copies the input dim, -1 is inferred).
func (c *nodeCtx) ctlReshape(t *dsl.Tensor, dims dsl.Dims) *dsl.Tensor {
	l := c.Net().AddShuffle(t)
	l.SetReshapeDimensions(dims)
	return l.Output(0)
}

// ctlScalar reshapes a one-element tensor to rank 0.
func (c *nodeCtx) ctlScalar(t *dsl.Tensor) *dsl.Tensor {
	if t.Rank() == 0 {
		return t
	}
	return c.ctlReshape(t, dsl.Dims{})
}

// ctlTake gathers index idx along axis, dropping the axis.
func (c *nodeCtx) ctlTake(t *dsl.Tensor, axis int, idx int64) *dsl.Tensor {
	return c.Net().AddGather(t, c.ctlI64(nil, idx), axis).Output(0)
}

// ctlAct adds an activation layer with alpha and beta.
func (c *nodeCtx) ctlAct(t *dsl.Tensor, act dsl.ActivationType, alpha, beta float32) *dsl.Tensor {
	l := c.Net().AddActivation(t, act)
	l.SetAlpha(alpha)
	l.SetBeta(beta)
	return l.Output(0)
}

// ctlClip clamps t to [lo, hi].
func (c *nodeCtx) ctlClip(t *dsl.Tensor, lo, hi float32) *dsl.Tensor {
	return c.ctlAct(t, dsl.ActivationClip, lo, hi)
}

// ctlDim returns dim axis of t as an Int64 scalar tensor: a constant when
// static, else read from a Shape layer at run time.
func (c *nodeCtx) ctlDim(t *dsl.Tensor, axis int) *dsl.Tensor {
	if d := t.Dims(); axis < len(d) && d[axis] >= 0 {
		return c.ctlI64(nil, d[axis])
	}
	shape := c.ctlCast(c.Net().AddShape(t).Output(0), dsl.Int64)
	return c.ctlTake(shape, 0, int64(axis))
}

// ctlNaN is a Float32 NaN scalar constant.
func (c *nodeCtx) ctlNaN() *dsl.Tensor { return c.ctlF32(float32(math.NaN())) }

// ctlProtoType returns the ONNX element type of a value name, searched in
// the model's graphs (inputs, outputs, value_info, initializers, Constant
// nodes), or 0 when the model does not say. It tells apart ONNX types
// trtc stores alike (INT16, UINT16 and INT32 are all Int32).
func (c *nodeCtx) ctlProtoType(name string) int32 {
	var found int32
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		if g == nil || found != 0 {
			return
		}
		for _, list := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetOutput(), g.GetValueInfo()} {
			for _, vi := range list {
				if vi.GetName() == name && vi.GetType().GetTensorType() != nil {
					found = vi.GetType().GetTensorType().GetElemType()
					return
				}
			}
		}
		for _, init := range g.GetInitializer() {
			if init.GetName() == name {
				found = init.GetDataType()
				return
			}
		}
		for _, n := range g.GetNode() {
			for _, a := range n.GetAttribute() {
				if n.GetOpType() == "Constant" && len(n.GetOutput()) > 0 && n.GetOutput()[0] == name && a.GetT() != nil {
					found = a.GetT().GetDataType()
					return
				}
				walk(a.GetG())
				for _, sg := range a.GetGraphs() {
					walk(sg)
				}
			}
		}
	}
	walk(c.imp.model.Proto.GetGraph())
	return found
}

// ctlIsOne reports whether t has exactly one element (static dims).
func ctlIsOne(t *dsl.Tensor) bool { return t.Dims().Volume() == 1 }
