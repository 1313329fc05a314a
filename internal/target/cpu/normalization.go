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
	// Statistics groups are either contiguous runs of block elements
	// (layer, instance and group norm), or numbered by key.
	var key, param []int64 // param: scale/bias index of each element
	var nKeys int64
	block := 0
	if groups > 1 {
		ch := shape[1]
		if ch%groups != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time nbGroups %d does not divide %d channels", groups, ch)
		}
		block = int(ch / groups * tensor.Volume(shape[2:]))
		nKeys = shape[0] * groups
		if nl.GroupScaled() {
			if scale.Len() != groups {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time scale has %d values; want one per group (%d)", scale.Len(), groups)
			}
			param = make([]int64, x.Len())
			for i := range param {
				param[i] = int64(i/block) % groups
			}
		}
	} else {
		axes, err := dsl.AxesFromMask(nl.Axes(), len(shape))
		if err != nil {
			return nil, layerErr(l, diag.InvalidNode, "%v", err)
		}
		kept := dsl.ReduceOutDims(shape, axes, true)
		nKeys = tensor.Volume(kept)
		if outer, n, inner, ok := reduceSpan(shape, axes); ok && inner == 1 {
			block, nKeys = n, int64(outer)
		} else {
			key = reduceDest(shape, kept)
		}
	}
	if param == nil {
		ss := scale.Shape()
		for i := range ss {
			if ss[i] != 1 && ss[i] != shape[i] {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time scale %v does not broadcast to input %v", ss, shape)
			}
		}
		param = normParamIndex(shape, ss)
	}
	xv, sv, bv := x.AsFloat32(), scale.AsFloat32(), bias.AsFloat32()
	eps := float64(nl.Epsilon())
	out := make([]float32, len(xv))
	if key == nil {
		// Each group is a contiguous run (layer, instance and group norm):
		// groups are independent, so they run in parallel.
		parallelFor(int(nKeys), max(1, 8192/block), func(lo, hi int) {
			for g := lo; g < hi; g++ {
				seg := xv[g*block : (g+1)*block]
				mean, inv := normMoments(seg, eps)
				for j, v := range seg {
					i := g*block + j
					p := param[i]
					out[i] = float32((float64(v)-mean)*inv*float64(sv[p]) + float64(bv[p]))
				}
			}
		})
	} else {
		normScattered(xv, sv, bv, key, param, nKeys, eps, out)
	}
	t, err := tensor.FromFloat32s(x.DType(), shape, out)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}

// normMoments returns the mean of seg and 1/sqrt(biased variance + eps),
// in float64.
func normMoments(seg []float32, eps float64) (mean, inv float64) {
	for _, v := range seg {
		mean += float64(v)
	}
	mean /= float64(len(seg))
	variance := 0.0
	for _, v := range seg {
		d := float64(v) - mean
		variance += d * d
	}
	return mean, 1 / math.Sqrt(variance/float64(len(seg))+eps)
}

// normScattered normalizes when groups interleave (axes that are not a
// trailing block, e.g. batch norm style axes 0,2,3): two passes over the
// input accumulate each group's mean and variance.
func normScattered(xv, sv, bv []float32, key, param []int64, nKeys int64, eps float64, out []float32) {
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
	inv := make([]float64, nKeys)
	for k := range variance {
		inv[k] = 1 / math.Sqrt(variance[k]/count[k]+eps)
	}
	for i, v := range xv {
		k, p := key[i], param[i]
		out[i] = float32((float64(v)-mean[k])*inv[k]*float64(sv[p]) + float64(bv[p]))
	}
}

// normParamIndex maps every input element to its scale/bias element. The
// common layer-norm case (scale covering a trailing block, 1s before it)
// is i mod the scale's size; anything else goes through broadcastIndex.
func normParamIndex(shape, ss []int64) []int64 {
	n := tensor.Volume(shape)
	for r := 0; r <= len(ss); r++ {
		if !sameShape(ss[r:], shape[r:]) {
			continue
		}
		lead := true
		for _, d := range ss[:r] {
			lead = lead && d == 1
		}
		if !lead {
			break
		}
		size := tensor.Volume(ss)
		idx := make([]int64, n)
		if size == 0 {
			return idx
		}
		for i := range idx {
			idx[i] = int64(i) % size
		}
		return idx
	}
	return broadcastIndex(shape, ss)[0]
}
