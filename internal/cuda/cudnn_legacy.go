package cuda

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// LegacyConv is a convolution through cuDNN's legacy descriptor API
// (cudnnConvolutionForward), which cuDNN 9 still ships; it ignores Bias and
// Activation (use ConvPlan for fused epilogues). It is the fallback where
// the backend API proposes no engine.
type LegacyConv struct {
	d         *Cudnn
	cfg       Conv2D
	x, y      C.cudnnTensorDescriptor_t
	w         C.cudnnFilterDescriptor_t
	conv      C.cudnnConvolutionDescriptor_t
	algo      C.int
	workspace int
}

// NewLegacyConv describes cfg and picks the fastest algorithm cuDNN's
// heuristics (cudnnGetConvolutionForwardAlgorithm_v7) rank first.
func (d *Cudnn) NewLegacyConv(cfg Conv2D) (*LegacyConv, error) {
	if err := loadCudnnLegacy(); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.ChannelsLast || cfg.Residual {
		return nil, diag.Errorf(diag.UnsupportedAttr, "the legacy cuDNN convolution here takes NCHW tensors and no residual")
	}
	if cfg.PadBegin != cfg.PadEnd {
		return nil, diag.Errorf(diag.UnsupportedAttr, "the legacy cuDNN API needs symmetric padding, got begin %v end %v", cfg.PadBegin, cfg.PadEnd)
	}
	dt, err := cudnnDataType(cfg.DataType)
	if err != nil {
		return nil, err
	}
	lc := &LegacyConv{d: d, cfg: cfg}
	p, q := cfg.OutputHW()
	err = d.ctx.do(func() error {
		steps := []struct {
			op string
			r  func() C.cudnnStatus_t
		}{
			{"cudnnCreateTensorDescriptor", func() C.cudnnStatus_t { return C.t_cudnnCreateTensorDescriptor(&lc.x) }},
			{"cudnnCreateTensorDescriptor", func() C.cudnnStatus_t { return C.t_cudnnCreateTensorDescriptor(&lc.y) }},
			{"cudnnCreateFilterDescriptor", func() C.cudnnStatus_t { return C.t_cudnnCreateFilterDescriptor(&lc.w) }},
			{"cudnnCreateConvolutionDescriptor", func() C.cudnnStatus_t { return C.t_cudnnCreateConvolutionDescriptor(&lc.conv) }},
			{"cudnnSetTensor4dDescriptor(x)", func() C.cudnnStatus_t {
				return C.t_cudnnSetTensor4dDescriptor(lc.x, 0, C.int(dt), C.int(cfg.N), C.int(cfg.C), C.int(cfg.H), C.int(cfg.W))
			}},
			{"cudnnSetTensor4dDescriptor(y)", func() C.cudnnStatus_t {
				return C.t_cudnnSetTensor4dDescriptor(lc.y, 0, C.int(dt), C.int(cfg.N), C.int(cfg.K), C.int(p), C.int(q))
			}},
			{"cudnnSetFilter4dDescriptor", func() C.cudnnStatus_t {
				return C.t_cudnnSetFilter4dDescriptor(lc.w, C.int(dt), 0, C.int(cfg.K), C.int(cfg.C/one(cfg.Groups)), C.int(cfg.R), C.int(cfg.S))
			}},
			{"cudnnSetConvolution2dDescriptor", func() C.cudnnStatus_t {
				return C.t_cudnnSetConvolution2dDescriptor(lc.conv, C.int(cfg.PadBegin[0]), C.int(cfg.PadBegin[1]),
					C.int(one(cfg.Stride[0])), C.int(one(cfg.Stride[1])), C.int(one(cfg.Dilation[0])), C.int(one(cfg.Dilation[1])), 1, 0)
			}},
			{"cudnnSetConvolutionGroupCount", func() C.cudnnStatus_t { return C.t_cudnnSetConvolutionGroupCount(lc.conv, C.int(one(cfg.Groups))) }},
			{"cudnnSetConvolutionMathType", func() C.cudnnStatus_t {
				math := C.int(1) // CUDNN_TENSOR_OP_MATH
				if cfg.DataType == tensor.Float32 && !cfg.AllowTF32 {
					math = 3 // CUDNN_FMA_MATH: no TF32
				}
				return C.t_cudnnSetConvolutionMathType(lc.conv, math)
			}},
		}
		for _, s := range steps {
			if err := cudnnErr(s.op, s.r()); err != nil {
				return err
			}
		}
		var perf [8]C.trtcConvAlgoPerf
		var got C.int
		if err := cudnnErr("cudnnGetConvolutionForwardAlgorithm_v7", C.t_cudnnGetConvolutionForwardAlgorithm_v7(d.h, lc.x, lc.w, lc.conv, lc.y, C.int(len(perf)), &got, &perf[0])); err != nil {
			return err
		}
		for _, pf := range perf[:got] {
			if pf.status == 0 {
				lc.algo = pf.algo
				var ws C.size_t
				if err := cudnnErr("cudnnGetConvolutionForwardWorkspaceSize", C.t_cudnnGetConvolutionForwardWorkspaceSize(d.h, lc.x, lc.w, lc.conv, lc.y, pf.algo, &ws)); err != nil {
					return err
				}
				lc.workspace = int(ws)
				return nil
			}
		}
		return diag.Errorf(diag.UnsupportedAttr, "cuDNN has no legacy algorithm for convolution %+v", cfg)
	})
	if err != nil {
		lc.Close()
		return nil, err
	}
	setLeakFinalizer(lc, func(l *LegacyConv) bool { return l.conv == nil }, func(*LegacyConv) string { return "cuDNN legacy convolution" })
	return lc, nil
}

// Algorithm is the cudnnConvolutionFwdAlgo_t chosen.
func (l *LegacyConv) Algorithm() int { return int(l.algo) }

// WorkspaceSize is the bytes of workspace Forward needs.
func (l *LegacyConv) WorkspaceSize() int { return l.workspace }

// Forward computes y = conv(x, w) on the handle's stream.
func (l *LegacyConv) Forward(x, w, y, workspace DevicePtr) error {
	alpha, beta := float32(1), float32(0)
	return l.d.ctx.do(func() error {
		return cudnnErr("cudnnConvolutionForward", C.t_cudnnConvolutionForward(l.d.h, unsafe.Pointer(&alpha), l.x, C.CUdeviceptr(x), l.w, C.CUdeviceptr(w),
			l.conv, l.algo, C.CUdeviceptr(workspace), C.size_t(l.workspace), unsafe.Pointer(&beta), l.y, C.CUdeviceptr(y)))
	})
}

// Close destroys the descriptors.
func (l *LegacyConv) Close() error {
	if l.x != nil {
		C.t_cudnnDestroyTensorDescriptor(l.x)
		l.x = nil
	}
	if l.y != nil {
		C.t_cudnnDestroyTensorDescriptor(l.y)
		l.y = nil
	}
	if l.w != nil {
		C.t_cudnnDestroyFilterDescriptor(l.w)
		l.w = nil
	}
	if l.conv != nil {
		C.t_cudnnDestroyConvolutionDescriptor(l.conv)
		l.conv = nil
	}
	return nil
}
