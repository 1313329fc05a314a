package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	const types = "float32, float16, bfloat16 (MaxPool also int8/uint8, through float32)"
	for _, since := range []int64{1, 8, 10, 11, 12} {
		register(OpInfo{Op: "MaxPool", Since: since, Types: types,
			Restrictions: "dilations, the Indices output and more than 3 spatial dims need static spatial dims; " +
				"with dynamic spatial dims ceil_mode keeps a last window that starts in the end padding"}, importPool(nnPoolMax))
	}
	for _, since := range []int64{1, 7, 10, 11, 19} {
		register(OpInfo{Op: "AveragePool", Since: since, Types: types,
			Restrictions: "dilations, count_include_pad=1 and more than 3 spatial dims need static spatial dims; " +
				"with dynamic spatial dims ceil_mode keeps a last window that starts in the end padding"}, importPool(nnPoolAvg))
	}
	for _, since := range []int64{1, 2, 11, 18} {
		register(OpInfo{Op: "LpPool", Since: since, Types: types,
			Restrictions: "dilations and more than 3 spatial dims need static spatial dims"}, importPool(nnPoolLp))
	}
	for _, since := range []int64{1} {
		register(OpInfo{Op: "GlobalAveragePool", Since: since, Types: types}, importGlobalPool(dsl.ReduceAvg))
		register(OpInfo{Op: "GlobalMaxPool", Since: since, Types: types}, importGlobalPool(dsl.ReduceMax))
	}
	register(OpInfo{Op: "GlobalLpPool", Since: 2, Types: types}, importGlobalLpPool)
}

type nnPoolKind int

const (
	nnPoolMax nnPoolKind = iota
	nnPoolAvg
	nnPoolLp
)

// nnPoolOpts are a pooling node's resolved settings.
type nnPoolOpts struct {
	sp              nnSpatial
	kind            nnPoolKind
	ceil            bool
	countIncludePad bool
	storageOrder    int64
	p               float64
}

func importPool(kind nnPoolKind) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.Require(1); err != nil {
			return nil, err
		}
		x := c.Input(0)
		r := x.Rank()
		if r < 3 {
			return nil, c.Errorf(diag.ShapeMismatch, "%s input has dims %v; want (N, C, spatial...)", c.node.GetOpType(), x.Dims())
		}
		o := nnPoolOpts{kind: kind}
		if !c.HasAttr("kernel_shape") {
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute kernel_shape is required")
		}
		var err error
		if o.sp, err = c.nnSpatialAttrs(r-2, nil); err != nil {
			return nil, err
		}
		o.ceil = c.AttrInt("ceil_mode", 0) != 0
		o.countIncludePad = c.AttrInt("count_include_pad", 0) != 0
		o.storageOrder = c.AttrInt("storage_order", 0)
		if kind == nnPoolLp {
			if c.opset < 2 {
				o.p = float64(c.AttrFloat("p", 2)) // a float before opset 2
			} else {
				o.p = float64(c.AttrInt("p", 2))
			}
		}
		if c.err != nil {
			return nil, c.err
		}
		orig := x.Type()
		if kind == nnPoolMax && (orig == dsl.Int8 || orig == dsl.UInt8) {
			x = c.Net().AddCast(x, dsl.Float32).Output(0) // exact in float32
		} else if err := c.nnCheckFloat(x); err != nil {
			return nil, err
		}
		if kind == nnPoolLp {
			x = c.nnUnary(x, dsl.UnaryAbs)
			if o.p != 1 {
				x = c.ew(x, c.scalarLike(o.p, x), dsl.ElementWisePow)
			}
		}
		outs, err := c.nnPool(x, &o, c.HasOutput(1))
		if err != nil {
			return nil, err
		}
		if kind == nnPoolLp && o.p != 1 {
			outs[0] = c.ew(outs[0], c.scalarLike(1/o.p, outs[0]), dsl.ElementWisePow)
		}
		if outs[0].Type() != orig {
			outs[0] = c.Net().AddCast(outs[0], orig).Output(0)
		}
		return outs, nil
	}
}

// nnPool pools x: with a Pooling layer where it can, window element by
// window element (strided fill-mode slices) for dilations, the Indices
// output, or more than 3 spatial dims.
func (c *nodeCtx) nnPool(x *dsl.Tensor, o *nnPoolOpts, indices bool) ([]*dsl.Tensor, error) {
	ns := x.Rank() - 2
	dilated := false
	for _, d := range o.sp.dilations {
		dilated = dilated || d != 1
	}
	in := x.Dims()[2:]
	static := in.IsStatic()
	// Resolve SAME padding and ceil mode to explicit padding where the
	// spatial dims are known (ONNX's ceil mode drops a last window that
	// would start in the end padding; TensorRT's round-up does not).
	var out []int64
	if static {
		out = make([]int64, ns)
		for i := range ns {
			dk := (o.sp.kernel[i]-1)*o.sp.dilations[i] + 1
			s := o.sp.strides[i]
			switch o.sp.autoPad {
			case "SAME_UPPER", "SAME_LOWER":
				out[i] = (in[i] + s - 1) / s
				pad := max((out[i]-1)*s+dk-in[i], 0)
				if o.sp.autoPad == "SAME_UPPER" {
					o.sp.pre[i], o.sp.post[i] = pad/2, pad-pad/2
				} else {
					o.sp.pre[i], o.sp.post[i] = pad-pad/2, pad/2
				}
				continue
			}
			m := in[i] + o.sp.pre[i] + o.sp.post[i] - dk
			if m < 0 {
				return nil, c.Errorf(diag.ShapeMismatch, "window %v (dilations %v) does not fit the padded input %v", o.sp.kernel, o.sp.dilations, x.Dims())
			}
			out[i] = m/s + 1
			if o.ceil {
				out[i] = (m+s-1)/s + 1
				if (out[i]-1)*s >= in[i]+o.sp.pre[i] {
					out[i]--
				}
			}
		}
		o.sp.autoPad = "NOTSET"
	} else if o.kind == nnPoolAvg && o.countIncludePad && o.sp.autoPad != "NOTSET" && o.sp.autoPad != "VALID" {
		return nil, c.Errorf(diag.UnsupportedAttr, "AveragePool with auto_pad=%s and count_include_pad=1 needs static spatial dims; the input has %v", o.sp.autoPad, x.Dims())
	} else if dilated || indices || ns > 3 {
		return nil, c.Errorf(diag.UnsupportedAttr, "%s with dilations, the Indices output or more than 3 spatial dims needs static spatial dims; the input has %v", c.node.GetOpType(), x.Dims())
	}
	if dilated || indices || ns > 3 {
		return c.nnPoolBySlices(x, o, out, indices)
	}
	sp := o.sp
	extra := make([]int64, ns) // end padding beyond the explicit pads, for ceil mode
	if static {
		for i := range ns {
			extra[i] = max((out[i]-1)*sp.strides[i]+sp.kernel[i]-in[i]-sp.pre[i]-sp.post[i], 0)
		}
	}
	ptype := dsl.PoolingMax
	if o.kind != nnPoolMax {
		ptype = dsl.PoolingAverage
	}
	// LpPool sums: the layer averages over the whole window (padding and
	// ceil overhang included, both zeros after |x|^p) and the result is
	// scaled back by the window volume below.
	exclude := o.kind != nnPoolLp
	pre, post := sp.pre, sp.post
	padded := false
	for i := range ns {
		padded = padded || pre[i] != 0 || post[i] != 0
	}
	if o.kind == nnPoolAvg && o.countIncludePad && padded {
		// The padding counts in the average: pad with zeros explicitly, so
		// that only the ceil-mode overhang is left out of the count.
		var err error
		if x, err = c.nnPadFill(x, pre, post, 0); err != nil {
			return nil, err
		}
		pre, post = make([]int64, ns), make([]int64, ns)
	}
	post = append([]int64{}, post...)
	for i := range ns {
		post[i] += extra[i]
	}
	kernel, strides := sp.kernel, sp.strides
	if ns == 1 {
		x = c.unsqueeze(x, 3)
		kernel, strides = append(kernel, 1), append(strides, 1)
		pre, post = append(pre, 0), append(post, 0)
	}
	l := c.Net().AddPoolingNd(x, ptype, dsl.Dims(kernel))
	l.SetStrideNd(dsl.Dims(strides))
	l.SetPrePadding(dsl.Dims(pre))
	l.SetPostPadding(dsl.Dims(post))
	l.SetAverageCountExcludesPadding(exclude)
	switch {
	case sp.autoPad == "SAME_UPPER":
		l.SetPaddingMode(dsl.PaddingSameUpper)
	case sp.autoPad == "SAME_LOWER":
		l.SetPaddingMode(dsl.PaddingSameLower)
	case o.ceil && !static:
		l.SetPaddingMode(dsl.PaddingExplicitRoundUp)
	}
	y := l.Output(0)
	if ns == 1 {
		y = c.nnSqueeze(y, 3)
	}
	if o.kind == nnPoolLp {
		// The layer averaged over the whole window: scale back to a sum.
		y = c.ew(y, c.scalarLike(float64(tensor.Volume(sp.kernel)), y), dsl.ElementWiseProd)
	}
	return []*dsl.Tensor{y}, nil
}

// nnPoolBySlices pools with one strided slice per window element: slice j
// holds, for every output position, the input element at window offset j
// (padding filled with -inf for max and 0 otherwise). out holds the output
// spatial dims, o.sp explicit padding.
func (c *nodeCtx) nnPoolBySlices(x *dsl.Tensor, o *nnPoolOpts, out []int64, indices bool) ([]*dsl.Tensor, error) {
	d := x.Dims()
	ns := len(out)
	in := d[2:]
	fill := 0.0
	if o.kind == nnPoolMax {
		fill = math.Inf(-1)
	}
	slice := func(t *dsl.Tensor, off []int64, v float64) *dsl.Tensor {
		start, stride, axes := make(dsl.Dims, ns), make(dsl.Dims, ns), make(dsl.Dims, ns)
		for i := range ns {
			start[i] = off[i]*o.sp.dilations[i] - o.sp.pre[i]
			stride[i] = o.sp.strides[i]
			axes[i] = int64(2 + i)
		}
		l := c.Net().AddSlice(t, start, dsl.Dims(out), stride)
		l.SetAxes(axes)
		l.SetMode(dsl.SampleFill)
		if v != 0 {
			l.SetInput(4, c.nnScalar(t.Type(), v))
		}
		return l.Output(0)
	}
	if !indices {
		// Max and sum are separable: pool one axis at a time, sum(k)
		// slices instead of prod(k).
		acc := x
		for i := range ns {
			var red *dsl.Tensor
			for k := range o.sp.kernel[i] {
				l := c.Net().AddSlice(acc, dsl.Dims{k*o.sp.dilations[i] - o.sp.pre[i]}, dsl.Dims{out[i]}, dsl.Dims{o.sp.strides[i]})
				l.SetAxes(dsl.Dims{int64(2 + i)})
				l.SetMode(dsl.SampleFill)
				if fill != 0 {
					l.SetInput(4, c.nnScalar(acc.Type(), fill))
				}
				v := l.Output(0)
				switch {
				case red == nil:
					red = v
				case o.kind == nnPoolMax:
					red = c.Net().AddElementWise(red, v, dsl.ElementWiseMax).Output(0)
				default:
					red = c.Net().AddElementWise(red, v, dsl.ElementWiseSum).Output(0)
				}
			}
			acc = red
		}
		return []*dsl.Tensor{c.nnPoolDivide(acc, in, out, o)}, nil
	}
	var idx *dsl.Tensor
	if indices {
		if !d.IsStatic() {
			return nil, c.Errorf(diag.UnsupportedAttr, "MaxPool's Indices output needs a static input shape; the input has %v", d)
		}
		idx = c.Constant(nnPoolIndexTensor(d, o.storageOrder))
	}
	off := make([]int64, ns)
	var acc, accIdx *dsl.Tensor
	for {
		v := slice(x, off, fill)
		var vi *dsl.Tensor
		if idx != nil {
			vi = slice(idx, off, -1)
		}
		switch {
		case acc == nil:
			acc, accIdx = v, vi
		case o.kind == nnPoolMax && idx != nil:
			gt := c.Net().AddElementWise(v, acc, dsl.ElementWiseGreater).Output(0)
			acc = c.Net().AddSelect(gt, v, acc).Output(0)
			accIdx = c.Net().AddSelect(gt, vi, accIdx).Output(0)
		case o.kind == nnPoolMax:
			acc = c.Net().AddElementWise(acc, v, dsl.ElementWiseMax).Output(0)
		default:
			acc = c.Net().AddElementWise(acc, v, dsl.ElementWiseSum).Output(0)
		}
		// Next window offset, last dim fastest.
		i := ns - 1
		for ; i >= 0; i-- {
			off[i]++
			if off[i] < o.sp.kernel[i] {
				break
			}
			off[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return []*dsl.Tensor{acc, accIdx}, nil
}

// nnPoolDivide turns window sums into averages (dividing by the number of
// counted window elements per position); max and Lp results pass through.
func (c *nodeCtx) nnPoolDivide(acc *dsl.Tensor, in dsl.Dims, out []int64, o *nnPoolOpts) *dsl.Tensor {
	if o.kind != nnPoolAvg {
		return acc
	}
	cnt := nnPoolCounts(in, out, o)
	ct, err := tensor.FromFloat64s(acc.Type(), append([]int64{1, 1}, out...), cnt)
	if err != nil {
		c.fail(c.Errorf(diag.TypeMismatch, "%v", err))
		return acc
	}
	return c.Net().AddElementWise(acc, c.Constant(ct), dsl.ElementWiseDiv).Output(0)
}

// nnPoolIndexTensor holds each element's flat index in the input (row
// major, or with the spatial dims column major for storage_order 1).
func nnPoolIndexTensor(d dsl.Dims, storageOrder int64) *tensor.Tensor {
	n := tensor.Volume(d)
	vals := make([]int64, n)
	sp := d[2:]
	spVol := tensor.Volume(sp)
	for i := range n {
		if storageOrder == 0 {
			vals[i] = i
			continue
		}
		nc, rest := i/spVol, i%spVol
		// Decompose rest row-major, recompose column-major.
		coord := make([]int64, len(sp))
		for j := len(sp) - 1; j >= 0; j-- {
			coord[j] = rest % sp[j]
			rest /= sp[j]
		}
		cm, mul := int64(0), int64(1)
		for j := range sp {
			cm += coord[j] * mul
			mul *= sp[j]
		}
		vals[i] = nc*spVol + cm
	}
	t, _ := tensor.FromInt64([]int64(d), vals)
	return t
}

// nnPoolCounts counts, per output position, the window elements inside
// the input (or inside the padded input when padding counts).
func nnPoolCounts(in dsl.Dims, out []int64, o *nnPoolOpts) []float64 {
	ns := len(out)
	per := make([][]float64, ns)
	for i := range ns {
		per[i] = make([]float64, out[i])
		lo, hi := int64(0), in[i]
		if o.countIncludePad {
			lo, hi = -o.sp.pre[i], in[i]+o.sp.post[i]
		}
		for p := range out[i] {
			for k := range o.sp.kernel[i] {
				pos := p*o.sp.strides[i] + k*o.sp.dilations[i] - o.sp.pre[i]
				if pos >= lo && pos < hi {
					per[i][p]++
				}
			}
		}
	}
	total := tensor.Volume(out)
	cnt := make([]float64, total)
	coord := make([]int64, ns)
	for j := range total {
		v := 1.0
		for i := range ns {
			v *= per[i][coord[i]]
		}
		cnt[j] = v
		for i := ns - 1; i >= 0; i-- {
			coord[i]++
			if coord[i] < out[i] {
				break
			}
			coord[i] = 0
		}
	}
	return cnt
}

// importGlobalPool reduces every spatial dim, keeping them as unit dims.
func importGlobalPool(op dsl.ReduceOperation) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.Require(1); err != nil {
			return nil, err
		}
		x := c.Input(0)
		if err := c.nnCheckFloat(x); err != nil {
			return nil, err
		}
		if x.Rank() < 3 {
			return nil, c.Errorf(diag.ShapeMismatch, "%s input has dims %v; want (N, C, spatial...)", c.node.GetOpType(), x.Dims())
		}
		var mask uint32
		for a := 2; a < x.Rank(); a++ {
			mask |= 1 << uint(a)
		}
		return outputs(c.Net().AddReduce(x, op, mask, true)), nil
	}
}

// importGlobalLpPool is (sum |x|^p)^(1/p) over the spatial dims.
func importGlobalLpPool(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	if x.Rank() < 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "GlobalLpPool input has dims %v; want (N, C, spatial...)", x.Dims())
	}
	p := float64(c.AttrInt("p", 2))
	var mask uint32
	for a := 2; a < x.Rank(); a++ {
		mask |= 1 << uint(a)
	}
	y := c.ew(c.nnUnary(x, dsl.UnaryAbs), c.scalarLike(p, x), dsl.ElementWisePow)
	y = c.Net().AddReduce(y, dsl.ReduceSum, mask, true).Output(0)
	return []*dsl.Tensor{c.ew(y, c.scalarLike(1/p, y), dsl.ElementWisePow)}, nil
}
