package dsl

import (
	"github.com/trtc/trtc/diag"
)

// convParams are what convolution and deconvolution share: output maps,
// groups, weights and the window (kernel size, stride, padding, dilation).
type convParams struct {
	spatialWindow
	nbOutputMaps int64
	groups       int64
	kernel, bias Weights
}

func (p *convParams) setup(owner *layerBase, nbOutputMaps int64, kernelSize Dims, kernel, bias Weights) {
	p.owner = owner
	p.sp = newSpatialParams(kernelSize)
	p.nbOutputMaps, p.groups, p.kernel, p.bias = nbOutputMaps, 1, kernel, bias
}

// NbOutputMaps returns the number of output channels.
func (p *convParams) NbOutputMaps() int64 { return p.nbOutputMaps }

// SetNbOutputMaps sets the number of output channels.
func (p *convParams) SetNbOutputMaps(k int64) {
	p.nbOutputMaps = k
	p.touch()
}

// NbGroups returns the number of groups (default 1).
func (p *convParams) NbGroups() int64 { return p.groups }

// SetNbGroups splits input and output channels into groups convolved
// independently; both channel counts must be divisible by it.
func (p *convParams) SetNbGroups(g int64) {
	p.groups = g
	p.touch()
}

// KernelWeights returns the kernel weights (empty when input 1 is used).
func (p *convParams) KernelWeights() Weights { return p.kernel }

// SetKernelWeights replaces the kernel weights.
func (p *convParams) SetKernelWeights(w Weights) {
	p.kernel = w
	p.touch()
}

// BiasWeights returns the bias (empty: no bias).
func (p *convParams) BiasWeights() Weights { return p.bias }

// SetBiasWeights replaces the bias; empty weights mean no bias.
func (p *convParams) SetBiasWeights(w Weights) {
	p.bias = w
	p.touch()
}

// KernelSizeNd returns the kernel's spatial size.
func (p *convParams) KernelSizeNd() Dims { return p.sp.window.Clone() }

// SetKernelSizeNd sets the kernel's spatial size.
func (p *convParams) SetKernelSizeNd(k Dims) {
	p.sp.window = k.Clone()
	p.touch()
}

// DilationNd returns the dilation per spatial dim (default all 1).
func (p *convParams) DilationNd() Dims { return p.sp.dilation.Clone() }

// SetDilationNd sets the dilation per spatial dim.
func (p *convParams) SetDilationNd(d Dims) {
	p.sp.dilation = d.Clone()
	p.touch()
}

// checkCommon validates what convolution and deconvolution share: input
// type and rank, a static channel dim, output maps, groups and the window.
func (p *convParams) checkCommon(c *inferCtx, what string) bool {
	in := c.in(0)
	switch in.dtype {
	case Float32, Float16, BFloat16:
	case Int8, FP8E4M3, Int4:
		c.errorf(diag.TypeMismatch, "%s input %q is %v: quantized inputs must go through a Dequantize layer (Q/DQ network)", what, in.name, in.dtype)
		return false
	default:
		c.errorf(diag.TypeMismatch, "%s needs a float input (float32, float16, bfloat16); %q is %v", what, in.name, in.dtype)
		return false
	}
	ns := len(p.sp.window)
	if ns != 2 && ns != 3 {
		c.errorf(diag.InvalidNode, "%s kernel size %v has %d dims; TensorRT supports 2 or 3 spatial dims (for 1-d, add a unit dim with a Shuffle layer)", what, p.sp.window, ns)
		return false
	}
	if in.dims.Rank() != ns+2 {
		c.errorf(diag.ShapeMismatch, "%s with a %d-d kernel %v needs a rank-%d input (N, C, %d spatial dims); %q has dims %v", what, ns, p.sp.window, ns+2, ns, in.name, in.dims)
		return false
	}
	if in.dims[1] < 0 {
		c.errorf(diag.ShapeMismatch, "the channel dim (1) of %s input %q must be static; it is dynamic (dims %v)", what, in.name, in.dims)
		return false
	}
	if p.nbOutputMaps < 1 {
		c.errorf(diag.InvalidNode, "number of output maps is %d, want >= 1", p.nbOutputMaps)
		return false
	}
	if p.groups < 1 {
		c.errorf(diag.InvalidNode, "number of groups is %d, want >= 1", p.groups)
		return false
	}
	if ch := in.dims[1]; ch%p.groups != 0 {
		c.errorf(diag.ShapeMismatch, "input channels %d of %q are not divisible by %d groups", ch, in.name, p.groups)
		return false
	}
	if p.nbOutputMaps%p.groups != 0 {
		c.errorf(diag.ShapeMismatch, "output maps %d are not divisible by %d groups", p.nbOutputMaps, p.groups)
		return false
	}
	return p.sp.check(c, "kernel", ns)
}

// checkWeights validates the kernel and bias, from weights or from the
// optional inputs 1 and 2. In a strongly typed network the weights have the
// input's type or Float32; Float32 weights are rounded to the input's type
// at run time, as TensorRT converts weights to the layer's precision.
func (p *convParams) checkWeights(c *inferCtx, kernelDims Dims) bool {
	in := c.in(0)
	if c.has(1) {
		k := c.in(1)
		if !p.kernel.IsEmpty() {
			c.errorf(diag.InvalidNode, "kernel tensor %q is set as input 1, so the kernel weights must be empty (they have %d values)", k.name, p.kernel.Count())
			return false
		}
		if k.dtype != in.dtype {
			c.errorf(diag.TypeMismatch, "kernel tensor %q is %v but input %q is %v; they must have the same type", k.name, k.dtype, in.name, in.dtype)
			return false
		}
		if !convDimsCompatible(k.dims, kernelDims) {
			c.errorf(diag.ShapeMismatch, "kernel tensor %q has dims %v, want %v", k.name, k.dims, kernelDims)
			return false
		}
	} else {
		want := kernelDims.Volume()
		if p.kernel.Count() != want {
			c.errorf(diag.InvalidNode, "kernel weights have %d values, want %d (%v)", p.kernel.Count(), want, kernelDims)
			return false
		}
		if t := p.kernel.Type(); t != in.dtype && t != Float32 {
			c.errorf(diag.TypeMismatch, "kernel weights are %v; with a %v input they must be %v or float32", t, in.dtype, in.dtype)
			return false
		}
	}
	if c.has(2) {
		b := c.in(2)
		if !p.bias.IsEmpty() {
			c.errorf(diag.InvalidNode, "bias tensor %q is set as input 2, so the bias weights must be empty (they have %d values)", b.name, p.bias.Count())
			return false
		}
		if b.dtype != in.dtype {
			c.errorf(diag.TypeMismatch, "bias tensor %q is %v but input %q is %v; they must have the same type", b.name, b.dtype, in.name, in.dtype)
			return false
		}
		if v := b.dims.Volume(); v >= 0 && v != p.nbOutputMaps {
			c.errorf(diag.ShapeMismatch, "bias tensor %q has dims %v (%d values), want %d values (one per output map)", b.name, b.dims, v, p.nbOutputMaps)
			return false
		}
	} else if !p.bias.IsEmpty() {
		if p.bias.Count() != p.nbOutputMaps {
			c.errorf(diag.InvalidNode, "bias weights have %d values, want %d (one per output map) or none", p.bias.Count(), p.nbOutputMaps)
			return false
		}
		if t := p.bias.Type(); t != in.dtype && t != Float32 {
			c.errorf(diag.TypeMismatch, "bias weights are %v; with a %v input they must be %v or float32", t, in.dtype, in.dtype)
			return false
		}
	}
	return true
}

// convDimsCompatible reports whether dims d can be want at run time.
func convDimsCompatible(d, want Dims) bool {
	if len(d) != len(want) {
		return false
	}
	for i := range d {
		if d[i] >= 0 && d[i] != want[i] {
			return false
		}
	}
	return true
}

// ConvolutionLayer is an N-d convolution (cross-correlation) with groups,
// dilation and bias over an (N, C, spatial...) input with 2 or 3 spatial
// dims (TensorRT IConvolutionLayer). Kernel weights are in KCRS order (K
// output maps, C/groups input channels, then the kernel's spatial dims),
// groups outermost.
//
// The input is float32, float16 or bfloat16 (quantized inputs go through
// Dequantize). Kernel and bias weights have the input's type or float32;
// float32 weights of an fp16/bf16 layer are rounded to the layer's type,
// as TensorRT converts weights to the layer precision. Accumulation is
// float32 in the CPU engine.
//
// Optional inputs, set with SetInput: 1 is the kernel as a tensor (for Q/DQ
// networks; the kernel weights must then be empty), 2 is the bias as a
// tensor of nbOutputMaps values (the bias weights must then be empty).
// Tensor kernel and bias have the input's type.
type ConvolutionLayer struct {
	layerBase
	convParams
}

// AddConvolutionNd adds a convolution with nbOutputMaps output channels, a
// kernel of spatial size kernelSize, and optional bias (empty Weights).
func (n *Network) AddConvolutionNd(in *Tensor, nbOutputMaps int64, kernelSize Dims, kernel, bias Weights) *ConvolutionLayer {
	l := &ConvolutionLayer{}
	l.convParams.setup(&l.layerBase, nbOutputMaps, kernelSize, kernel, bias)
	n.addLayer(l, LayerConvolution, 1, 3, in)
	return l
}

// Geometry returns the output spatial dims and the padding applied for an
// input with spatial dims in (the dims after N and C).
func (l *ConvolutionLayer) Geometry(in Dims) SpatialGeometry { return l.sp.convGeometry(in) }

func (l *ConvolutionLayer) infer(c *inferCtx) {
	if !l.checkCommon(c, "convolution") {
		return
	}
	in := c.in(0)
	kdims := append(Dims{l.nbOutputMaps, in.dims[1] / l.groups}, l.sp.window...)
	if !l.checkWeights(c, kdims) {
		return
	}
	g := l.sp.convGeometry(in.dims[2:])
	if !g.checkPositive(c, in, &l.sp, "kernel") {
		return
	}
	c.setOutput(0, in.dtype, append(Dims{in.dims[0], l.nbOutputMaps}, g.Out...))
}
