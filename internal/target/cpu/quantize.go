package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	register(dsl.LayerQuantize, runQuantize)
	register(dsl.LayerDequantize, runDequantize)
}

func runQuantize(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	q := l.(*dsl.QuantizeLayer)
	idx, err := quantScaleIndex(l, in[0].Shape(), in[1].Shape(), q.Axis(), q.BlockShape())
	if err != nil {
		return nil, err
	}
	if err := quantCheckScales(l, in[1]); err != nil {
		return nil, err
	}
	x := in[0].AsFloat32()
	s := in[1].AsFloat32()
	var zp []float64
	if zt := quantOptIn(in, 2); zt != nil {
		zp = zt.Float64s()
	}
	// Values are computed in parallel and stored at the end: Int4 packs two
	// elements per byte, so concurrent stores could race.
	vals := make([]float64, len(x))
	parallelFor(len(x), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			// The division is float32, as on the GPU; rounding and the
			// zero point happen in float64, where they are exact.
			r := float64(x[i] / s[idx[i]])
			z := 0.0
			if zp != nil {
				z = zp[idx[i]]
			}
			vals[i] = quantRound(q.ToType(), r, z)
		}
	})
	out, err := tensor.FromFloat64s(q.ToType(), in[0].Shape(), vals)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}

// quantRound applies TensorRT's rounding and saturation for the quantized
// type: integers round half to even, then add the zero point and saturate;
// FP8 adds the zero point and lets the store round to nearest even on the
// fp8 grid with satfinite (NaN stays NaN).
func quantRound(dt tensor.DataType, r, z float64) float64 {
	if dt == tensor.FP8E4M3 {
		return r + z
	}
	if math.IsNaN(r) {
		return 0
	}
	v := math.RoundToEven(r) + z
	lo, hi := -128.0, 127.0
	if dt == tensor.Int4 {
		lo, hi = -8, 7
	}
	return math.Max(lo, math.Min(hi, v))
}

func runDequantize(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	d := l.(*dsl.DequantizeLayer)
	idx, err := quantScaleIndex(l, in[0].Shape(), in[1].Shape(), d.Axis(), d.BlockShape())
	if err != nil {
		return nil, err
	}
	if err := quantCheckScales(l, in[1]); err != nil {
		return nil, err
	}
	x := in[0].AsFloat32()
	s := in[1].AsFloat32()
	var zp []float32
	if zt := quantOptIn(in, 2); zt != nil {
		zp = zt.AsFloat32()
	}
	out := make([]float32, len(x))
	parallelFor(len(x), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := x[i]
			if zp != nil {
				v -= zp[idx[i]]
			}
			out[i] = v * s[idx[i]]
		}
	})
	t, err := tensor.FromFloat32s(d.ToType(), in[0].Shape(), out)
	return []*tensor.Tensor{t}, err
}

// quantCheckScales rejects non-positive scales, which TensorRT forbids and
// which would turn the division into infinities.
func quantCheckScales(l dsl.Layer, scale *tensor.Tensor) error {
	for i, v := range scale.Float64s() {
		if !(v > 0) {
			return layerErr(l, diag.OutOfRange, "scale element %d is %g; every scale must be strictly positive", i, v)
		}
	}
	return nil
}

// quantScaleIndex maps every flat index of the data to the flat index of its
// scale: 0 (per-tensor), the coordinate along axis (per-channel), or the
// block the element falls in (block quantization). It repeats the dsl's
// shape checks on the concrete shapes, since dims may have been dynamic.
func quantScaleIndex(l dsl.Layer, shape, sshape []int64, axis int, block dsl.Dims) ([]int64, error) {
	n := tensor.Volume(shape)
	idx := make([]int64, n)
	switch {
	case tensor.Volume(sshape) == 1 && len(sshape) <= 1:
		return idx, nil
	case len(sshape) == 1 && (len(shape) != 1 || len(block) == 0):
		if shape[axis] != sshape[0] {
			return nil, layerErr(l, diag.ShapeMismatch, "the per-channel scale has %d values but the data has %d along axis %d", sshape[0], shape[axis], axis)
		}
		st := strides(shape)
		for i := range idx {
			idx[i] = int64(i) / st[axis] % shape[axis]
		}
		return idx, nil
	}
	bs, err := QuantBlockShape(l, shape, sshape, block)
	if err != nil {
		return nil, err
	}
	sst := strides(sshape)
	coord := make([]int64, len(shape))
	for i := range idx {
		var off int64
		for d := range coord {
			off += coord[d] / bs[d] * sst[d]
		}
		idx[i] = off
		for d := len(coord) - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < shape[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx, nil
}

// QuantBlockShape is the block each scale element of a block-quantized
// layer covers, for data of dims shape and a scale of dims sshape: block
// where it is given (-1 a whole dim), else the data dims divided by the
// scale's. The CUDA target plans its kernels with it, so both targets
// refuse the same shapes with the same words.
func QuantBlockShape(l dsl.Layer, shape, sshape []int64, block dsl.Dims) ([]int64, error) {
	if len(sshape) != len(shape) || len(block) != 0 && len(block) != len(shape) {
		return nil, layerErr(l, diag.ShapeMismatch, "a block scale of dims %v (block %v) for data of dims %v", sshape, block, shape)
	}
	bs := make([]int64, len(shape))
	for i := range shape {
		switch {
		case len(block) != 0 && block[i] == -1:
			bs[i] = max(shape[i], 1)
		case len(block) != 0:
			bs[i] = block[i]
		case sshape[i] == 0 || shape[i]%sshape[i] != 0:
			return nil, layerErr(l, diag.ShapeMismatch, "scale dimension %d is %d, which does not divide the data dimension %d", i, sshape[i], shape[i])
		default:
			bs[i] = shape[i] / sshape[i]
		}
		if bs[i] <= 0 {
			return nil, layerErr(l, diag.InvalidNode, "block shape %v: dimension %d is %d", block, i, bs[i])
		}
		if want := (shape[i] + bs[i] - 1) / bs[i]; len(block) != 0 && sshape[i] != want {
			return nil, layerErr(l, diag.ShapeMismatch, "scale dimension %d is %d; data dimension %d in blocks of %d needs %d", i, sshape[i], shape[i], bs[i], want)
		}
	}
	return bs, nil
}

// quantOptIn returns optional input i, or nil when it was never set (the
// input list is only as long as the highest input set).
func quantOptIn(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
