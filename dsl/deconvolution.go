package dsl

// DeconvolutionLayer is an N-d transposed convolution with groups,
// dilation and bias over an (N, C, spatial...) input with 2 or 3 spatial
// dims (TensorRT IDeconvolutionLayer). Each input element scatters the
// kernel, scaled by its value, into the output at stride spacing; padding
// then crops the result (the inverse of a convolution with that padding).
// Kernel weights are in CKRS order: C input channels, K/groups output maps
// per group, then the kernel's spatial dims.
//
// Optional inputs, set with SetInput: 1 is the kernel as a tensor (the
// kernel weights must then be empty), 2 is the bias as a tensor of
// nbOutputMaps values (the bias weights must then be empty).
type DeconvolutionLayer struct {
	layerBase
	convParams
}

// AddDeconvolutionNd adds a transposed convolution with nbOutputMaps output
// channels, a kernel of spatial size kernelSize, and optional bias.
func (n *Network) AddDeconvolutionNd(in *Tensor, nbOutputMaps int64, kernelSize Dims, kernel, bias Weights) *DeconvolutionLayer {
	l := &DeconvolutionLayer{}
	l.convParams.setup(&l.layerBase, nbOutputMaps, kernelSize, kernel, bias)
	n.addLayer(l, LayerDeconvolution, 1, 3, in)
	return l
}

// Geometry returns the output spatial dims and the cropping applied for an
// input with spatial dims in, with TensorRT's deconvolution formulas.
func (l *DeconvolutionLayer) Geometry(in Dims) SpatialGeometry { return l.sp.deconvGeometry(in) }

func (l *DeconvolutionLayer) infer(c *inferCtx) {
	if !l.checkCommon(c, "deconvolution") {
		return
	}
	in := c.in(0)
	kdims := append(Dims{in.dims[1], l.nbOutputMaps / l.groups}, l.sp.window...)
	if !l.checkWeights(c, kdims) {
		return
	}
	g := l.sp.deconvGeometry(in.dims[2:])
	if !g.checkPositive(c, in, &l.sp, "kernel") {
		return
	}
	c.setOutput(0, in.dtype, append(Dims{in.dims[0], l.nbOutputMaps}, g.Out...))
}
