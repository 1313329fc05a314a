package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerDeconvolution, runDeconvolution) }

// runDeconvolution computes a transposed convolution: per (image, group),
// one sgemm gives every input pixel's contribution to every (output map,
// kernel tap), and col2im adds them into the output at their positions.
func runDeconvolution(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	dl := l.(*dsl.DeconvolutionLayer)
	x := in[0]
	dt := x.DType()
	shape := x.Shape()
	N, C := shape[0], shape[1]
	K, G := dl.NbOutputMaps(), dl.NbGroups()
	ksize := dl.KernelSizeNd()
	geo := dl.Geometry(shape[2:])
	for i, o := range geo.Out {
		if o <= 0 && shape[2+i] != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "padding %v/%v crops the whole output for input dims %v: output spatial dim %d would be %d", geo.Pre, geo.Post, shape, i, o)
		}
	}
	kw, bias, kt := convKernelAndBias(in, dl.KernelWeights(), dl.BiasWeights(), dt)
	kshape := append([]int64{C, K / G}, ksize...)
	if err := convCheckWeights(l, in, kt, kw, bias, kshape, K); err != nil {
		return nil, err
	}
	outShape := append([]int64{N, K}, geo.Out...)
	// In the geometry, "in" is the deconvolution's input and "out" its
	// output; positions map as out = in*stride - pre + tap*dilation.
	g := newConvGeom3(shape[2:], geo.Out, ksize, dl.StrideNd(), dl.DilationNd(), geo.Pre)
	src := x.AsFloat32()
	dst := make([]float32, tensor.Volume(outShape))
	deconvForward(src, kw, bias, dst, int(N), int(C), int(K), int(G), &g)
	out, err := tensor.FromFloat32s(dt, outShape, dst)
	return []*tensor.Tensor{out}, err
}

func deconvForward(src, w, bias, dst []float32, N, C, K, G int, g *convGeom3) {
	P, I, KK := g.outVol(), g.inVol(), g.kVol()
	Cg, Kg := C/G, K/G
	if P == 0 || N == 0 || K == 0 {
		return
	}
	convFillBias(dst, bias, N, K, P)
	if I == 0 {
		return
	}
	col := make([]float32, Kg*KK*I)
	for n := 0; n < N; n++ {
		for grp := 0; grp < G; grp++ {
			xg := src[(n*C+grp*Cg)*I : (n*C+(grp+1)*Cg)*I]
			wg := w[grp*Cg*Kg*KK : (grp+1)*Cg*Kg*KK] // Cg x (Kg*KK)
			sgemm(true, false, Kg*KK, I, Cg, 1, wg, Kg*KK, xg, I, 0, col, I)
			og := dst[(n*K+grp*Kg)*P : (n*K+(grp+1)*Kg)*P]
			deconvCol2im(col, og, Kg, g)
		}
	}
}

// deconvCol2im adds col (Kg*kVol x inVol) into the Kg output planes: the
// value of tap t of input pixel i lands at i*stride - pre + t*dilation.
func deconvCol2im(col, o []float32, Kg int, g *convGeom3) {
	KK, I, P := g.kVol(), g.inVol(), g.outVol()
	D, H, W := g.in[0], g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	parallelFor(Kg, 1, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			ok := o[k*P : (k+1)*P]
			for t := 0; t < KK; t++ {
				kd, kh, kx := t/(g.k[1]*g.k[2]), (t/g.k[2])%g.k[1], t%g.k[2]
				row := col[(k*KK+t)*I : (k*KK+t+1)*I]
				for d := 0; d < D; d++ {
					od := d*g.stride[0] - g.pre[0] + kd*g.dil[0]
					if od < 0 || od >= OD {
						continue
					}
					for h := 0; h < H; h++ {
						oh := h*g.stride[1] - g.pre[1] + kh*g.dil[1]
						if oh < 0 || oh >= OH {
							continue
						}
						line := ok[(od*OH+oh)*OW : (od*OH+oh+1)*OW]
						seg := row[(d*H+h)*W : (d*H+h+1)*W]
						ow := -g.pre[2] + kx*g.dil[2]
						for _, v := range seg {
							if ow >= 0 && ow < OW {
								line[ow] += v
							}
							ow += g.stride[2]
						}
					}
				}
			}
		}
	})
}
