package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerConvolution, runConvolution) }

// runConvolution computes a grouped, dilated 2-d or 3-d convolution. Each
// (image, group) is an im2col followed by one sgemm; groups with a single
// input channel (depthwise) take a direct loop instead, since their GEMM
// would have an inner dimension of only the kernel volume.
func runConvolution(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	cl := l.(*dsl.ConvolutionLayer)
	x := in[0]
	dt := x.DType()
	shape := x.Shape()
	N, C := shape[0], shape[1]
	K, G := cl.NbOutputMaps(), cl.NbGroups()
	ksize := cl.KernelSizeNd()
	geo := cl.Geometry(shape[2:])
	for i, o := range geo.Out {
		if o <= 0 && shape[2+i] != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "kernel %v does not fit input dims %v: output spatial dim %d would be %d", ksize, shape, i, o)
		}
	}
	kw, bias, kt := convKernelAndBias(in, cl.KernelWeights(), cl.BiasWeights(), dt)
	kshape := append([]int64{K, C / G}, ksize...)
	if err := convCheckWeights(l, in, kt, kw, bias, kshape, K); err != nil {
		return nil, err
	}
	outShape := append([]int64{N, K}, geo.Out...)
	g := newConvGeom3(shape[2:], geo.Out, ksize, cl.StrideNd(), cl.DilationNd(), geo.Pre)
	src := x.AsFloat32()
	dst := make([]float32, tensor.Volume(outShape))
	convForward(src, kw, bias, dst, int(N), int(C), int(K), int(G), &g)
	out, err := perfOutput(dt, outShape, dst)
	return []*tensor.Tensor{out}, err
}

// convForward computes dst (N, K, out...) from src (N, C, in...) and
// weights w (K, C/G, k...), adding bias when it is not nil. dst must be
// zero on entry (as make returns it).
func convForward(src, w, bias, dst []float32, N, C, K, G int, g *convGeom3) {
	P, I, KK := g.outVol(), g.inVol(), g.kVol()
	Cg, Kg := C/G, K/G
	if P == 0 || N == 0 || K == 0 {
		return
	}
	// With a bias, start from it so the GEMM accumulates onto it (beta =
	// 1). Without one (convolutions followed by a batch norm), the GEMM
	// overwrites dst (beta = 0) and saves a pass over the output.
	beta := float32(0)
	if bias != nil {
		convFillBias(dst, bias, N, K, P)
		beta = 1
	}
	if Cg == 1 {
		convDirect(src, w, dst, N, C, K, G, g)
		return
	}
	pointwise := KK == 1 && g.pre == [3]int{} && g.stride == [3]int{1, 1, 1} && g.in == g.out
	var col []float32
	if !pointwise {
		// im2col writes every element, so a recycled buffer needs no clear.
		buf := perfGetScratch(Cg * KK * P)
		defer perfPutScratch(buf)
		col = *buf
	}
	for n := 0; n < N; n++ {
		for grp := 0; grp < G; grp++ {
			xg := src[(n*C+grp*Cg)*I : (n*C+(grp+1)*Cg)*I]
			b := xg
			if !pointwise {
				convIm2col(xg, col, Cg, g)
				b = col
			}
			wg := w[grp*Kg*Cg*KK : (grp+1)*Kg*Cg*KK]
			og := dst[(n*K+grp*Kg)*P : (n*K+(grp+1)*Kg)*P]
			sgemm(false, false, Kg, P, Cg*KK, 1, wg, Cg*KK, b, P, beta, og, P)
		}
	}
}

// convIm2col lays out x (Cg, in...) as a (Cg*kVol) x outVol matrix: row
// (c, kd, kh, kw) holds the input value each output position multiplies with
// that kernel tap, zero where the tap falls in the padding. Each row is
// built one depth slice at a time by convIm2colPlane.
func convIm2col(x, col []float32, Cg int, g *convGeom3) {
	KK, P := g.kVol(), g.outVol()
	D, H, W := g.in[0], g.in[1], g.in[2]
	OD, OHW := g.out[0], g.out[1]*g.out[2]
	parallelFor(Cg*KK, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, t := r/KK, r%KK
			kd, kh, kw := t/(g.k[1]*g.k[2]), (t/g.k[2])%g.k[1], t%g.k[2]
			xc := x[c*D*H*W : (c+1)*D*H*W]
			row := col[r*P : (r+1)*P]
			ih0, iw0 := -g.pre[1]+kh*g.dil[1], -g.pre[2]+kw*g.dil[2]
			for od := 0; od < OD; od++ {
				dst := row[od*OHW : (od+1)*OHW]
				id := od*g.stride[0] - g.pre[0] + kd*g.dil[0]
				if id < 0 || id >= D {
					clear(dst)
					continue
				}
				convIm2colPlane(dst, xc[id*H*W:(id+1)*H*W], ih0, iw0, g)
			}
		}
	})
}

// convIm2colPlane fills dst (out H × out W) with the input plane x (H × W)
// read at (ih0 + oh*strideH, iw0 + ow*strideW), zero outside the plane.
//
// The positions that stay inside the plane form one rectangle of output
// rows [ohLo, ohHi) and columns [owLo, owHi), so there are no per-element
// bounds tests: rows are a cleared prefix, a copy (a strided gather for
// stride > 1) and a cleared suffix. With stride 1 and as many output as
// input columns (the usual "same" padding) source and destination rows
// have the same stride, and the whole rectangle is a single copy of the
// plane shifted by the tap's offset, after which only the few wrapped
// columns at the row ends are cleared.
func convIm2colPlane(dst, x []float32, ih0, iw0 int, g *convGeom3) {
	H, W, OH, OW := g.in[1], g.in[2], g.out[1], g.out[2]
	sh, sw := g.stride[1], g.stride[2]
	ohLo, ohHi := convValidRange(ih0, sh, H, OH)
	owLo, owHi := convValidRange(iw0, sw, W, OW)
	if ohLo >= ohHi || owLo >= owHi {
		clear(dst)
		return
	}
	clear(dst[:ohLo*OW])
	clear(dst[ohHi*OW:])
	if sh == 1 && sw == 1 && W == OW {
		lo, hi := ohLo*OW+owLo, (ohHi-1)*OW+owHi
		copy(dst[lo:hi], x[lo+ih0*W+iw0:])
		for oh := ohLo; oh < ohHi; oh++ {
			seg := dst[oh*OW : (oh+1)*OW]
			for j := 0; j < owLo; j++ {
				seg[j] = 0
			}
			for j := owHi; j < OW; j++ {
				seg[j] = 0
			}
		}
		return
	}
	for oh := ohLo; oh < ohHi; oh++ {
		ih := ih0 + oh*sh
		line := x[ih*W : (ih+1)*W]
		seg := dst[oh*OW : (oh+1)*OW]
		clear(seg[:owLo])
		clear(seg[owHi:])
		out := seg[owLo:owHi]
		if sw == 1 {
			copy(out, line[iw0+owLo:])
			continue
		}
		src := line[iw0+owLo*sw:]
		for j := range out {
			out[j] = src[j*sw]
		}
	}
}

// convValidRange returns the range [lo, hi) of output positions o in
// [0, n) whose input position start + o*stride lies in [0, size); lo >= hi
// when there is none.
func convValidRange(start, stride, size, n int) (lo, hi int) {
	if start < 0 {
		lo = (-start + stride - 1) / stride
	}
	if last := size - 1 - start; last >= 0 {
		hi = min(n, last/stride+1)
	}
	return min(lo, n), hi
}

// convDirect handles groups of one input channel (depthwise convolution
// and its channel multipliers): each output plane is a small stencil over
// one input plane, accumulated onto dst.
func convDirect(src, w, dst []float32, N, C, K, G int, g *convGeom3) {
	P, I, KK := g.outVol(), g.inVol(), g.kVol()
	Kg := K / G
	D, H, W := g.in[0], g.in[1], g.in[2]
	OD, OH, OW := g.out[0], g.out[1], g.out[2]
	parallelFor(N*K, 1, func(lo, hi int) {
		for nk := lo; nk < hi; nk++ {
			n, k := nk/K, nk%K
			c := k / Kg // the group's only input channel
			xc := src[(n*C+c)*I : (n*C+c+1)*I]
			wk := w[k*KK : (k+1)*KK]
			o := dst[nk*P : (nk+1)*P]
			for kd := 0; kd < g.k[0]; kd++ {
				for kh := 0; kh < g.k[1]; kh++ {
					for kx := 0; kx < g.k[2]; kx++ {
						wv := wk[(kd*g.k[1]+kh)*g.k[2]+kx]
						i := 0
						for od := 0; od < OD; od++ {
							id := od*g.stride[0] - g.pre[0] + kd*g.dil[0]
							for oh := 0; oh < OH; oh++ {
								ih := oh*g.stride[1] - g.pre[1] + kh*g.dil[1]
								seg := o[i : i+OW]
								i += OW
								if id < 0 || id >= D || ih < 0 || ih >= H {
									continue
								}
								line := xc[(id*H+ih)*W : (id*H+ih+1)*W]
								iw := -g.pre[2] + kx*g.dil[2]
								for ow := range seg {
									if iw >= 0 && iw < W {
										seg[ow] += wv * line[iw]
									}
									iw += g.stride[2]
								}
							}
						}
					}
				}
			}
		}
	})
}
