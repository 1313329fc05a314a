package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerNormalization, runNormalization) }

func runNormalization(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	nl := l.(*dsl.NormalizationLayer)
	x, scale, bias := in[0], in[1], in[2]
	shape := x.Shape()
	if !sameShape(scale.Shape(), bias.Shape()) {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time scale is %v and bias is %v; they must match", scale.Shape(), bias.Shape())
	}
	groups := nl.NbGroups()
	var key, param []int64 // statistics group and scale/bias index of each element
	var nKeys int64
	if groups > 1 {
		ch := shape[1]
		if ch%groups != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time nbGroups %d does not divide %d channels", groups, ch)
		}
		spatial := tensor.Volume(shape[2:])
		block := ch / groups * spatial // one group's elements are contiguous
		n := x.Len()
		key = make([]int64, n)
		for i := range key {
			key[i] = int64(i) / block
		}
		nKeys = shape[0] * groups
		if nl.GroupScaled() {
			if scale.Len() != groups {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time scale has %d values; want one per group (%d)", scale.Len(), groups)
			}
			param = make([]int64, n)
			for i := range param {
				param[i] = key[i] % groups
			}
		}
	} else {
		axes, err := dsl.AxesFromMask(nl.Axes(), len(shape))
		if err != nil {
			return nil, layerErr(l, diag.InvalidNode, "%v", err)
		}
		kept := dsl.ReduceOutDims(shape, axes, true)
		key = reduceDest(shape, kept)
		nKeys = tensor.Volume(kept)
	}
	if param == nil {
		ss := scale.Shape()
		for i := range ss {
			if ss[i] != 1 && ss[i] != shape[i] {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time scale %v does not broadcast to input %v", ss, shape)
			}
		}
		param = broadcastIndex(shape, ss)[0]
	}
	xv, sv, bv := x.AsFloat32(), scale.AsFloat32(), bias.AsFloat32()
	mean := make([]float64, nKeys)
	count := make([]float64, nKeys)
	for i, v := range xv {
		mean[key[i]] += float64(v)
		count[key[i]]++
	}
	for k := range mean {
		mean[k] /= count[k]
	}
	variance := make([]float64, nKeys)
	for i, v := range xv {
		d := float64(v) - mean[key[i]]
		variance[key[i]] += d * d
	}
	eps := float64(nl.Epsilon())
	inv := make([]float64, nKeys)
	for k := range variance {
		inv[k] = 1 / math.Sqrt(variance[k]/count[k]+eps)
	}
	out := make([]float32, len(xv))
	for i, v := range xv {
		k, p := key[i], param[i]
		out[i] = float32((float64(v)-mean[k])*inv[k]*float64(sv[p]) + float64(bv[p]))
	}
	t, err := tensor.FromFloat32s(x.DType(), shape, out)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}
