package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger, composed:
// the integer operands are widened to Float32 with their zero points
// subtracted, the product runs as a float convolution or matrix multiply
// (exact while the sums stay below 2^24), and the result is cast to Int32
// or requantized: y = saturate(round(acc * (sa*sb/sy)) + zy).

func init() {
	const q = "uint8, int8"
	register(OpInfo{Op: "QLinearConv", Since: 10, Types: q, Restrictions: "1-3 spatial dims; static weight dims; sums exact below 2^24"}, importQLinearConv)
	register(OpInfo{Op: "ConvInteger", Since: 10, Types: q, Restrictions: "1-3 spatial dims; static weight dims; sums exact below 2^24"}, importConvInteger)
	for _, since := range []int64{10, 21} {
		register(OpInfo{Op: "QLinearMatMul", Since: since, Types: q + ", float8e4m3fn", Restrictions: "sums exact below 2^24"}, importQLinearMatMul)
	}
	register(OpInfo{Op: "MatMulInteger", Since: 10, Types: q, Restrictions: "sums exact below 2^24"}, importMatMulInteger)
}

// quantCentered returns float(input i) - float(zero point input zi), the
// zero point broadcast along axis when it is 1-D (axis < 0: per-tensor or
// broadcast as ONNX's trailing alignment does).
func (c *nodeCtx) quantCentered(i, zi int, axis int64) (*dsl.Tensor, error) {
	x := c.Input(i)
	xf := c.quantToFloat(x)
	if !c.HasInput(zi) {
		return xf, nil
	}
	zp := c.quantToFloat(c.Input(zi))
	if axis >= 0 {
		var err error
		if zp, err = c.quantBroadcast(zp, x, axis, 0); err != nil {
			return nil, err
		}
	} else if ctlIsOne(zp) {
		zp = c.ctlScalar(zp)
	}
	return c.ew(xf, zp, dsl.ElementWiseSub), nil
}

// quantConv convolves Float32 x and w with the node's Conv attributes.
func (c *nodeCtx) quantConv(x, w *dsl.Tensor) (*dsl.Tensor, error) {
	r := x.Rank()
	ns := r - 2
	if ns < 1 || ns > 3 || w.Rank() != r {
		return nil, c.Errorf(diag.UnsupportedAttr, "%s needs data and weight of equal rank with 1-3 spatial dims; got dims %v and %v", c.node.GetOpType(), x.Dims(), w.Dims())
	}
	wd := w.Dims()
	for i, d := range wd {
		if d < 0 && i != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "weight dims %v must be static", wd)
		}
	}
	ones := func(n int, v int64) []int64 {
		o := make([]int64, n)
		for i := range o {
			o[i] = v
		}
		return o
	}
	kernel := c.AttrInts("kernel_shape", []int64(wd[2:]))
	strides := c.AttrInts("strides", ones(ns, 1))
	dil := c.AttrInts("dilations", ones(ns, 1))
	pads := c.AttrInts("pads", ones(2*ns, 0))
	if len(kernel) != ns || len(strides) != ns || len(dil) != ns || len(pads) != 2*ns {
		return nil, c.Errorf(diag.UnsupportedAttr, "kernel_shape %v, strides %v, dilations %v and pads %v must have %d (pads %d) entries", kernel, strides, dil, pads, ns, 2*ns)
	}
	for i, k := range kernel {
		if k != wd[2+i] {
			return nil, c.Errorf(diag.ShapeMismatch, "attribute kernel_shape=%v does not match the weight's spatial dims %v", kernel, wd[2:])
		}
	}
	mode := dsl.PaddingExplicitRoundDown
	switch ap := c.AttrString("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		pads = ones(2*ns, 0)
	case "SAME_UPPER":
		mode = dsl.PaddingSameUpper
	case "SAME_LOWER":
		mode = dsl.PaddingSameLower
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute auto_pad=%q is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", ap)
	}
	pre, post := append([]int64{}, pads[:ns]...), append([]int64{}, pads[ns:]...)
	if ns == 1 { // run 1-d as 2-d with a unit trailing dim
		x, w = c.unsqueeze(x, 3), c.unsqueeze(w, 3)
		kernel, strides, dil = append(kernel, 1), append(strides, 1), append(dil, 1)
		pre, post = append(pre, 0), append(post, 0)
	}
	l := c.Net().AddConvolutionNd(x, wd[0], dsl.Dims(kernel), dsl.Weights{}, dsl.Weights{})
	l.SetInput(1, w)
	l.SetStrideNd(dsl.Dims(strides))
	l.SetDilationNd(dsl.Dims(dil))
	l.SetPrePadding(dsl.Dims(pre))
	l.SetPostPadding(dsl.Dims(post))
	l.SetPaddingMode(mode)
	l.SetNbGroups(c.AttrInt("group", 1))
	out := l.Output(0)
	if ns == 1 {
		out = c.Net().AddSqueeze(out, c.ctlI64([]int64{1}, 3)).Output(0)
	}
	return out, nil
}

// quantMatMul multiplies Float32 a and b with ONNX MatMul semantics (1-D
// operands, batch broadcasting).
func (c *nodeCtx) quantMatMul(a, b *dsl.Tensor) *dsl.Tensor {
	opA, opB := dsl.MatrixOpNone, dsl.MatrixOpNone
	ra, rb := a.Rank(), b.Rank()
	switch {
	case ra == 1 && rb == 1:
		opA, opB = dsl.MatrixOpVector, dsl.MatrixOpVector
	case ra == 1:
		opA = dsl.MatrixOpVector
		a = c.unsqueezeTo(a, rb-1)
	case rb == 1:
		opB = dsl.MatrixOpVector
		b = c.unsqueezeTo(b, ra-1)
	default:
		ab := c.Broadcast(a, b)
		a, b = ab[0], ab[1]
	}
	return c.Net().AddMatrixMultiply(a, opA, b, opB).Output(0)
}

// quantRequantize turns a float accumulator into the output type of zero
// point input zi: round(acc * multiplier) + zp, saturated.
func (c *nodeCtx) quantRequantize(acc, multiplier *dsl.Tensor, zi int) (*dsl.Tensor, error) {
	y := c.ew(acc, multiplier, dsl.ElementWiseProd)
	if c.HasInput(zi) && c.Input(zi).Type() == dsl.FP8E4M3 {
		// float8 outputs are not integers: the Quantize layer rounds to the
		// float8 grid and saturates (their zero point is 0).
		return c.quantFromFloat(y, dsl.FP8E4M3), nil
	}
	y = c.Net().AddUnary(y, dsl.UnaryRound).Output(0)
	dt := dsl.UInt8
	lo, hi := float32(0), float32(255)
	if c.HasInput(zi) {
		zpT := c.Input(zi)
		dt = zpT.Type()
		switch dt {
		case dsl.UInt8:
		case dsl.Int8:
			lo, hi = -128, 127
		default:
			return nil, c.Errorf(diag.TypeMismatch, "output zero point %q is %v; uint8, int8 or float8e4m3fn expected", zpT.Name(), dt)
		}
		zp := c.quantToFloat(zpT)
		if ctlIsOne(zp) {
			zp = c.ctlScalar(zp)
		}
		y = c.ew(y, zp, dsl.ElementWiseSum)
	}
	return c.quantFromFloat(c.ctlClip(y, lo, hi), dt), nil
}

func importConvInteger(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, err := c.quantCentered(0, 2, -1)
	if err != nil {
		return nil, err
	}
	w, err := c.quantCentered(1, 3, 0)
	if err != nil {
		return nil, err
	}
	y, err := c.quantConv(x, w)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{c.ctlCast(y, dsl.Int32)}, nil
}

func importMatMulInteger(c *nodeCtx) ([]*dsl.Tensor, error) {
	a, err := c.quantCentered(0, 2, c.quantRowAxis(0, 2))
	if err != nil {
		return nil, err
	}
	b, err := c.quantCentered(1, 3, -1)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{c.ctlCast(c.quantMatMul(a, b), dsl.Int32)}, nil
}

// quantRowAxis is the axis a 1-D per-row zero point or scale of matrix
// input i runs along (the row axis, second to last), or -1 when it is
// per-tensor.
func (c *nodeCtx) quantRowAxis(i, zi int) int64 {
	if !c.HasInput(zi) || ctlIsOne(c.Input(zi)) || c.Input(i).Rank() < 2 {
		return -1
	}
	return int64(c.Input(i).Rank() - 2)
}

func importQLinearConv(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, err := c.quantCentered(0, 2, -1)
	if err != nil {
		return nil, err
	}
	w, err := c.quantCentered(3, 5, 0)
	if err != nil {
		return nil, err
	}
	acc, err := c.quantConv(x, w)
	if err != nil {
		return nil, err
	}
	if c.HasInput(8) { // int32 bias in units of x_scale*w_scale
		b := c.unsqueeze(c.ctlCast(c.Input(8), dsl.Float32), 0)
		for i := 2; i < acc.Rank(); i++ {
			b = c.unsqueeze(b, int64(i))
		}
		acc = c.ew(acc, b, dsl.ElementWiseSum)
	}
	// multiplier = x_scale * w_scale / y_scale; w_scale may be per output channel.
	ws, err := c.quantBroadcast(c.ctlCast(c.Input(4), dsl.Float32), acc, 1, 0)
	if err != nil {
		return nil, err
	}
	m := c.ew(c.ctlScalar(c.ctlCast(c.Input(1), dsl.Float32)), ws, dsl.ElementWiseProd)
	m = c.ew(m, c.ctlScalar(c.ctlCast(c.Input(6), dsl.Float32)), dsl.ElementWiseDiv)
	y, err := c.quantRequantize(acc, m, 7)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{y}, nil
}

func importQLinearMatMul(c *nodeCtx) ([]*dsl.Tensor, error) {
	a, err := c.quantCentered(0, 2, c.quantRowAxis(0, 2))
	if err != nil {
		return nil, err
	}
	b, err := c.quantCentered(3, 5, -1)
	if err != nil {
		return nil, err
	}
	acc := c.quantMatMul(a, b)
	// a's scale is per tensor or per row, b's per tensor or per column.
	sa := c.ctlCast(c.Input(1), dsl.Float32)
	if ctlIsOne(sa) {
		sa = c.ctlScalar(sa)
	} else if c.Input(0).Rank() >= 2 {
		sa = c.unsqueeze(sa, 1)
	}
	sb := c.ctlCast(c.Input(4), dsl.Float32)
	if ctlIsOne(sb) {
		sb = c.ctlScalar(sb)
	}
	m := c.ew(sa, sb, dsl.ElementWiseProd)
	sy := c.ctlCast(c.Input(6), dsl.Float32)
	if ctlIsOne(sy) {
		sy = c.ctlScalar(sy)
	}
	m = c.ew(m, sy, dsl.ElementWiseDiv)
	y, err := c.quantRequantize(acc, m, 7)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{y}, nil
}
