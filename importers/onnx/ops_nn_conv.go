package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	const types = "float32, float16, bfloat16"
	for _, since := range []int64{1, 11} {
		register(OpInfo{Op: "Conv", Since: since, Types: types,
			Restrictions: "1, 2 or 3 spatial dims; the weight's output-channel and spatial dims must be static"}, importConv)
		register(OpInfo{Op: "ConvTranspose", Since: since, Types: types,
			Restrictions: "1, 2 or 3 spatial dims; auto_pad SAME_* and output_shape need static spatial input dims"}, importConvTranspose)
	}
}

// nnConvSetup gathers what Conv and ConvTranspose share: the input (made
// 2-d for a 1-d op), the weight dims, and the window attributes.
type nnConvSetup struct {
	x      *dsl.Tensor
	wdims  []int64
	sp     nnSpatial
	is1D   bool
	groups int64
}

func (c *nodeCtx) nnConvCommon() (nnConvSetup, error) {
	var s nnConvSetup
	if err := c.Require(2); err != nil {
		return s, err
	}
	s.x = c.Input(0)
	if err := c.nnCheckFloat(s.x); err != nil {
		return s, err
	}
	if wc, ok := c.Const(1); ok {
		s.wdims = wc.Shape()
	} else {
		s.wdims = c.Input(1).Dims()
	}
	r := s.x.Rank()
	ns := r - 2
	if ns < 1 || ns > 3 {
		return s, c.Errorf(diag.UnsupportedAttr, "%s input has rank %d; 1, 2 or 3 spatial dims are supported", c.node.GetOpType(), r)
	}
	if len(s.wdims) != r {
		return s, c.Errorf(diag.ShapeMismatch, "weight has dims %v; want rank %d like the input", s.wdims, r)
	}
	// Only the weight's input-channel dim may be dynamic: dim 1 (C/group)
	// for Conv, dim 0 (C) for ConvTranspose; the others size the layer.
	inCh := 1
	if c.node.GetOpType() == "ConvTranspose" {
		inCh = 0
	}
	for i, d := range s.wdims {
		if d < 0 && i != inCh {
			return s, c.Errorf(diag.ShapeMismatch, "weight dims %v must be static (except the input-channel dim)", s.wdims)
		}
	}
	var err error
	if s.sp, err = c.nnSpatialAttrs(ns, s.wdims[2:]); err != nil {
		return s, err
	}
	s.groups = c.AttrInt("group", 1)
	if s.groups < 1 {
		return s, c.Errorf(diag.UnsupportedAttr, "attribute group=%d must be >= 1", s.groups)
	}
	for i, k := range s.sp.kernel {
		if k != s.wdims[2+i] {
			return s, c.Errorf(diag.ShapeMismatch, "attribute kernel_shape=%v does not match the weight's spatial dims %v", s.sp.kernel, s.wdims[2:])
		}
	}
	if ns == 1 {
		s.is1D = true
		s.x = c.unsqueeze(s.x, 3)
		s.sp.extend1D()
	}
	return s, nil
}

// nnKernelAndBias returns the node's inputs 1 and 2 as weights when they
// are constants, else as tensors for the layer's inputs 1 and 2.
func (c *nodeCtx) nnKernelAndBias(s *nnConvSetup) (kw, bw dsl.Weights, kt, bt *dsl.Tensor, err error) {
	wshape := append([]int64{}, s.wdims...)
	if s.is1D {
		wshape = append(wshape, 1)
	}
	if wc, ok := c.Const(1); ok {
		if kw, err = c.nnWeights(wc, s.x.Type(), wshape); err != nil {
			return
		}
	} else {
		kt = c.Input(1)
		if s.is1D {
			kt = c.unsqueeze(kt, 3)
		}
	}
	if c.HasInput(2) {
		if bc, ok := c.Const(2); ok {
			bw, err = c.nnWeights(bc, s.x.Type(), nil)
		} else {
			bt = c.Input(2)
		}
	}
	return
}

// importConv imports Conv as a ConvolutionLayer; 1-d convolutions run as
// 2-d ones on an input with a unit trailing dim.
func importConv(c *nodeCtx) ([]*dsl.Tensor, error) {
	s, err := c.nnConvCommon()
	if err != nil {
		return nil, err
	}
	kw, bw, kt, bt, err := c.nnKernelAndBias(&s)
	if err != nil {
		return nil, err
	}
	l := c.Net().AddConvolutionNd(s.x, s.wdims[0], dsl.Dims(s.sp.kernel), kw, bw)
	l.SetStrideNd(dsl.Dims(s.sp.strides))
	l.SetDilationNd(dsl.Dims(s.sp.dilations))
	l.SetPrePadding(dsl.Dims(s.sp.pre))
	l.SetPostPadding(dsl.Dims(s.sp.post))
	l.SetPaddingMode(s.sp.mode())
	l.SetNbGroups(s.groups)
	if kt != nil {
		l.SetInput(1, kt)
	}
	if bt != nil {
		l.SetInput(2, bt)
	}
	out := l.Output(0)
	if s.is1D {
		out = c.nnSqueeze(out, 3)
	}
	return []*dsl.Tensor{out}, nil
}

// importConvTranspose imports ConvTranspose as a DeconvolutionLayer. ONNX's
// output size is stride*(in-1) + output_padding + dilated kernel - pads;
// the deconvolution crops pads, so output_padding is taken from the end
// padding, and where the end padding is smaller the output is padded with
// zeros and the bias added afterwards.
func importConvTranspose(c *nodeCtx) ([]*dsl.Tensor, error) {
	s, err := c.nnConvCommon()
	if err != nil {
		return nil, err
	}
	ns := len(s.sp.kernel)
	if s.is1D {
		ns = 1
	}
	outPad := c.AttrInts("output_padding", make([]int64, ns))
	outShape := c.AttrInts("output_shape", nil)
	if len(outPad) != ns {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute output_padding=%v needs %d values", outPad, ns)
	}
	if s.is1D {
		outPad = append(outPad, 0)
	}
	in := s.x.Dims()[2:]
	if len(outShape) > 0 || s.sp.autoPad == "SAME_UPPER" || s.sp.autoPad == "SAME_LOWER" {
		if len(outShape) > ns {
			outShape = outShape[len(outShape)-ns:] // the full output shape was given
		}
		if len(outShape) > 0 && len(outShape) != ns {
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute output_shape=%v needs %d values", outShape, ns)
		}
		if s.is1D && len(outShape) > 0 {
			outShape = append(append([]int64{}, outShape...), 1)
		}
		for i := range s.sp.kernel {
			if in[i] < 0 {
				return nil, c.Errorf(diag.UnsupportedAttr, "ConvTranspose with output_shape or auto_pad=%s needs static spatial input dims; the input has %v", s.sp.autoPad, s.x.Dims())
			}
			dk := (s.sp.kernel[i]-1)*s.sp.dilations[i] + 1
			want := in[i] * s.sp.strides[i]
			if len(outShape) > 0 {
				want = outShape[i]
			}
			total := s.sp.strides[i]*(in[i]-1) + outPad[i] + dk - want
			if total < 0 {
				// A larger output than the kernel covers: the extra is
				// padding that gets only the bias.
				s.sp.pre[i], s.sp.post[i] = 0, total
				continue
			}
			if s.sp.autoPad == "SAME_LOWER" {
				s.sp.pre[i], s.sp.post[i] = total-total/2, total/2
			} else {
				s.sp.pre[i], s.sp.post[i] = total/2, total-total/2
			}
		}
	}
	extra := make([]int64, len(s.sp.kernel))
	needPad := false
	for i := range s.sp.kernel {
		s.sp.post[i] -= outPad[i]
		if s.sp.post[i] < 0 {
			extra[i], s.sp.post[i] = -s.sp.post[i], 0
			needPad = true
		}
	}
	kw, bw, kt, bt, err := c.nnKernelAndBias(&s)
	if err != nil {
		return nil, err
	}
	m := s.wdims[1] * s.groups
	if needPad && (!bw.IsEmpty() || bt != nil) {
		if bt == nil {
			bt = c.Constant(bw.Tensor())
			if bt.Type() != s.x.Type() {
				bt = c.Net().AddCast(bt, s.x.Type()).Output(0)
			}
		}
		bw = dsl.Weights{}
	}
	l := c.Net().AddDeconvolutionNd(s.x, m, dsl.Dims(s.sp.kernel), kw, bw)
	l.SetStrideNd(dsl.Dims(s.sp.strides))
	l.SetDilationNd(dsl.Dims(s.sp.dilations))
	l.SetPrePadding(dsl.Dims(s.sp.pre))
	l.SetPostPadding(dsl.Dims(s.sp.post))
	l.SetNbGroups(s.groups)
	if kt != nil {
		l.SetInput(1, kt)
	}
	out := l.Output(0)
	if needPad {
		if out, err = c.nnPadFill(out, make([]int64, len(extra)), extra, 0); err != nil {
			return nil, err
		}
		if bt != nil {
			b := c.nnReshape(bt, -1)
			axes := make([]int64, len(extra))
			for i := range axes {
				axes[i] = int64(i + 1)
			}
			b = c.unsqueeze(b, axes...)
			out = c.ew(out, b, dsl.ElementWiseSum)
		}
	} else if bt != nil {
		l.SetInput(2, bt)
	}
	if s.is1D {
		out = c.nnSqueeze(out, 3)
	}
	return []*dsl.Tensor{out}, nil
}
