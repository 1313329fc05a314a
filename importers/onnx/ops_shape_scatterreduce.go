package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// ScatterElements and ScatterND with reduction add, mul, max or min
// (opset 16/18). trtc's Scatter layer overwrites, so a reduction is
// composed: every update gets the linear position it writes in a [L, T]
// view of the data (T = 1 for ScatterElements, the slice volume for
// ScatterND); an [N, L] comparison matrix spreads the N updates over the
// rows, a Reduce along N combines duplicates, and the result is combined
// with the data. This takes O(N·L·T) memory, fine for the index-add and
// histogram patterns these nodes come from, not for huge tensors.

type shScatterReduceOp struct {
	ew  dsl.ElementWiseOperation
	red dsl.ReduceOperation
}

var shScatterReduceOps = map[string]shScatterReduceOp{
	"add": {dsl.ElementWiseSum, dsl.ReduceSum},
	"mul": {dsl.ElementWiseProd, dsl.ReduceProd},
	"max": {dsl.ElementWiseMax, dsl.ReduceMax},
	"min": {dsl.ElementWiseMin, dsl.ReduceMin},
}

// shScatterNeutral is the value an empty reduction gives for op on dt.
func (c *nodeCtx) shScatterNeutral(name string, dt dsl.DataType) *dsl.Tensor {
	v := 0.0
	switch name {
	case "mul":
		v = 1
	case "max":
		v = math.Inf(-1)
		if dt == dsl.Int32 {
			v = math.MinInt32
		} else if dt == dsl.Int64 {
			return c.shScalarI64(math.MinInt64)
		}
	case "min":
		v = math.Inf(1)
		if dt == dsl.Int32 {
			v = math.MaxInt32
		} else if dt == dsl.Int64 {
			return c.shScalarI64(math.MaxInt64)
		}
	}
	return c.shScalarOf(dt, v)
}

// shScatterStrides is the [r] Int64 row-major strides of a shape vector.
func (c *nodeCtx) shScatterStrides(shape *dsl.Tensor, r int) *dsl.Tensor {
	parts := make([]*dsl.Tensor, r)
	for d := 0; d < r; d++ {
		if d == r-1 {
			parts[d] = c.shI64(1)
		} else {
			parts[d] = c.shProd(c.shSlice1(shape, int64(d+1), int64(r-d-1)))
		}
	}
	return c.shConcat(parts...)
}

// shScatterReduce combines data viewed as [L, T] with updates [N, 1, T]
// written at rows lin [N, 1, 1] under the named reduction.
func (c *nodeCtx) shScatterReduce(name string, data, lin, upd, L, T *dsl.Tensor) *dsl.Tensor {
	op := shScatterReduceOps[name]
	var iota *dsl.Tensor
	if v, ok := L.KnownValues(); ok {
		iota = c.shIota(v[0])
	} else {
		f := c.Net().AddFill(nil, dsl.FillLinspace, dsl.Int64)
		f.SetInput(0, L)
		f.SetInput(1, c.shScalarI64(0))
		f.SetInput(2, c.shI64(1))
		iota = f.Output(0)
	}
	iota = c.shReshape(iota, dsl.Dims{1, -1, 1})
	hit := c.ew(lin, iota, dsl.ElementWiseEqual)                          // [N, L, 1]
	spread := c.shSelect(hit, upd, c.shScatterNeutral(name, data.Type())) // [N, L, T]
	red := c.Net().AddReduce(spread, op.red, 1, false).Output(0)          // [L, T]
	flat := c.shReshapeTo(data, c.shConcat(L, T))                         // [L, T]
	return c.shReshapeTo(c.ew(flat, red, op.ew), c.shShapeOf(data))
}

func (c *nodeCtx) shScatterReductionName() (string, error) {
	name := c.AttrString("reduction", "none")
	if _, ok := shScatterReduceOps[name]; !ok && name != "none" {
		return "", c.Errorf(diag.UnsupportedAttr, "reduction %q is not one of none, add, mul, max, min", name)
	}
	return name, nil
}

// shScatterElementsReduce: the linear position of update p is
// sum over d != axis of p[d]*stride[d] plus idx[p]*stride[axis]; the
// first part is a Fill linspace over the indices' shape.
func (c *nodeCtx) shScatterElementsReduce(name string, data, idx, upd *dsl.Tensor, axis int) *dsl.Tensor {
	r := data.Rank()
	shape := c.shShapeOf(data)
	strides := c.shScatterStrides(shape, r)
	mask := make([]int64, r)
	for d := range mask {
		if d != axis {
			mask[d] = 1
		}
	}
	f := c.Net().AddFill(nil, dsl.FillLinspace, dsl.Int64)
	f.SetInput(0, c.shShapeOf(idx))
	f.SetInput(1, c.shScalarI64(0))
	f.SetInput(2, c.ew(strides, c.shI64(mask...), dsl.ElementWiseProd))
	sa := c.shSlice1(strides, int64(axis), 1)
	lin := c.ew(f.Output(0), c.ew(c.shToI64(idx), sa, dsl.ElementWiseProd), dsl.ElementWiseSum)
	lin = c.shReshape(lin, dsl.Dims{-1, 1, 1})
	u := c.shReshape(upd, dsl.Dims{-1, 1, 1})
	return c.shScatterReduce(name, data, lin, u, c.shProd(shape), c.shI64(1))
}

// shScatterNDReduce: index tuples of length k address rows of data viewed
// as [prod(dims[:k]), prod(dims[k:])].
func (c *nodeCtx) shScatterNDReduce(name string, data, idx, upd *dsl.Tensor) *dsl.Tensor {
	q := idx.Rank()
	k := idx.Dims()[q-1]
	shape := c.shShapeOf(data)
	lead := c.shSlice1(shape, 0, k)
	strides := c.shScatterStrides(lead, int(k))
	lin := c.ew(c.shToI64(idx), strides, dsl.ElementWiseProd)
	lin = c.Net().AddReduce(lin, dsl.ReduceSum, 1<<uint(q-1), false).Output(0)
	lin = c.shReshape(lin, dsl.Dims{-1, 1, 1})
	L := c.shProd(lead)
	T := c.shProd(c.shSlice1(shape, k, int64(data.Rank())-k))
	u := c.shReshapeTo(upd, c.shConcat(c.shI64(-1, 1), T))
	return c.shScatterReduce(name, data, lin, u, L, T)
}
