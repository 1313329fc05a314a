package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// convGeom3 is a sliding-window geometry with exactly three spatial dims:
// 2-d layers run as 3-d ones with a unit leading depth, so every spatial
// kernel has one code path.
type convGeom3 struct {
	in, out, k, stride, dil, pre [3]int
}

// newConvGeom3 pads the per-dim parameters of an ns-d window (ns = 2 or 3)
// to three dims with neutral values in front.
func newConvGeom3(in, out, k, stride, dil, pre []int64) convGeom3 {
	var g convGeom3
	off := 3 - len(in)
	for i := 0; i < 3; i++ {
		g.in[i], g.out[i], g.k[i], g.stride[i], g.dil[i], g.pre[i] = 1, 1, 1, 1, 1, 0
	}
	for i := range in {
		g.in[off+i], g.out[off+i], g.k[off+i] = int(in[i]), int(out[i]), int(k[i])
		g.stride[off+i], g.dil[off+i], g.pre[off+i] = int(stride[i]), int(dil[i]), int(pre[i])
	}
	return g
}

func (g *convGeom3) inVol() int  { return g.in[0] * g.in[1] * g.in[2] }
func (g *convGeom3) outVol() int { return g.out[0] * g.out[1] * g.out[2] }
func (g *convGeom3) kVol() int   { return g.k[0] * g.k[1] * g.k[2] }

// convWeightValues returns weights as float32 rounded to the compute type
// dt: float32 weights given to an fp16/bf16 layer are converted first, as
// TensorRT converts weights to the layer's precision.
func convWeightValues(t *tensor.Tensor, dt tensor.DataType) []float32 {
	if t == nil {
		return nil
	}
	v := t.AsFloat32()
	if t.DType() == dt || dt == tensor.Float32 {
		return v
	}
	r, err := tensor.FromFloat32s(dt, []int64{int64(len(v))}, v)
	if err != nil {
		return v
	}
	return r.AsFloat32()
}

// convKernelAndBias picks the kernel and bias values from the optional
// inputs 1 and 2 or from the layer's weights; bias is nil without bias.
func convKernelAndBias(in []*tensor.Tensor, kernel, bias dsl.Weights, dt tensor.DataType) (k, b []float32, kt *tensor.Tensor) {
	kt = kernel.Tensor()
	if t := convOptional(in, 1); t != nil {
		kt = t
	}
	bt := bias.Tensor()
	if t := convOptional(in, 2); t != nil {
		bt = t
	}
	k = convWeightValues(kt, dt)
	if bt != nil && bt.Len() > 0 {
		b = convWeightValues(bt, dt)
	}
	return k, b, kt
}

// convOptional returns optional input i, or nil when it is not set (the
// input slice is only as long as the highest input ever set).
func convOptional(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// convFillBias sets every output row (n, k) of dst, N×K rows of P values,
// to bias[k] (0 without bias), so the GEMM that follows accumulates onto it.
func convFillBias(dst, bias []float32, N, K, P int) {
	for n := 0; n < N; n++ {
		for k := 0; k < K; k++ {
			b := float32(0)
			if bias != nil {
				b = bias[k]
			}
			row := dst[(n*K+k)*P : (n*K+k+1)*P]
			for i := range row {
				row[i] = b
			}
		}
	}
}

// convCheckWeights checks the run-time kernel (flattened kw, tensor kt) and
// bias of a convolution or deconvolution against the shapes they need.
func convCheckWeights(l dsl.Layer, in []*tensor.Tensor, kt *tensor.Tensor, kw, bias []float32, kshape []int64, K int64) error {
	if kt == nil || int64(len(kw)) != tensor.Volume(kshape) || (convOptional(in, 1) != nil && !sameShape(kt.Shape(), kshape)) {
		return layerErr(l, diag.ShapeMismatch, "kernel has %d values, want shape %v", len(kw), kshape)
	}
	if bias != nil && int64(len(bias)) != K {
		return layerErr(l, diag.ShapeMismatch, "bias has %d values, want %d", len(bias), K)
	}
	return nil
}
