package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// STFT: frames are gathered from the signal with an index grid
// f*frame_step + n ([frames, frame_length]), multiplied by the window and
// transformed with the DFT matrices along the frame axis. Output
// [batch, frames, bins, 2] with frames = (T - frame_length)/frame_step + 1
// and bins = frame_length/2 + 1 when onesided (the default).

func init() {
	register(OpInfo{Op: "STFT", Since: 17, Types: "float32, float16, bfloat16 (double widened)"}, importSTFT)
}

func importSTFT(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0, 1); err != nil {
		return nil, err
	}
	net := c.Net()
	x := c.Input(0)
	if c.err != nil {
		return nil, c.err
	}
	if x.Rank() != 3 || !x.Type().IsFloat() {
		return nil, c.Errorf(diag.ShapeMismatch, "signal %q is %v %v; want floats [batch, signal_length, 1 or 2]", x.Name(), x.Type(), x.Dims())
	}
	re, im, err := sigParts(c, x)
	if err != nil {
		return nil, err
	}
	step, err := sigScalarSize(c, 1, "frame_step")
	if err != nil {
		return nil, err
	}
	if step.static() && step.n < 1 {
		return nil, c.Errorf(diag.InvalidNode, "frame_step is %d; want at least 1", step.n)
	}
	var window *dsl.Tensor
	var L sigSize
	switch {
	case c.HasInput(2):
		window = c.Input(2)
		if window.Rank() != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "window %q has dims %v; want [frame_length]", window.Name(), window.Dims())
		}
		L = sigDimSize(c, window, 0)
	case c.HasInput(3):
		if L, err = sigScalarSize(c, 3, "frame_length"); err != nil {
			return nil, err
		}
	default:
		return nil, c.Errorf(diag.InvalidNode, "STFT needs a window or a frame_length")
	}
	T := sigDimSize(c, x, 1)
	var grid *dsl.Tensor
	if T.static() && L.static() && step.static() {
		if L.n > T.n {
			return nil, c.Errorf(diag.ShapeMismatch, "frame_length %d is longer than the signal (%d samples)", L.n, T.n)
		}
		frames := (T.n-L.n)/step.n + 1
		g := make([]int64, frames*L.n)
		for f := int64(0); f < frames; f++ {
			for n := int64(0); n < L.n; n++ {
				g[f*L.n+n] = f*step.n + n
			}
		}
		gt, _ := tensor.FromInt64([]int64{frames, L.n}, g)
		grid = c.Constant(gt)
	} else {
		frames := redEW(c, redEW(c, redEW(c, T.tensor(c), L.tensor(c), dsl.ElementWiseSub), step.tensor(c), dsl.ElementWiseFloorDiv),
			redInts(c, 1), dsl.ElementWiseSum)
		starts := redEW(c, redReshape(c, sigRange(c, sigSize{n: -1, t: frames}, dsl.Int64), -1, 1),
			redReshape(c, step.tensor(c), 1, 1), dsl.ElementWiseProd)
		grid = redEW(c, starts, redReshape(c, sigRange(c, L, dsl.Int64), 1, -1), dsl.ElementWiseSum)
	}
	frame := func(t *dsl.Tensor) *dsl.Tensor {
		fr := net.AddGather(t, grid, 1).Output(0) // [batch, frames, L]
		if window != nil {
			fr = redEW(c, fr, redCast(c, window, fr.Type()), dsl.ElementWiseProd)
		}
		return fr
	}
	re, im = frame(re), sigMaybe(im, frame)
	K := L
	if c.AttrInt("onesided", 1) != 0 {
		K = sigHalfPlusOne(c, L)
	}
	outRe, outIm := sigDFTLast(c, re, im, L, K, false)
	return []*dsl.Tensor{sigStack(c, outRe, outIm)}, c.err
}
