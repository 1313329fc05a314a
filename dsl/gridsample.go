package dsl

import "github.com/trtc/trtc/diag"

// GridSampleLayer samples an (N, C, H, W) input at the positions of an
// (N, Hout, Wout, 2) grid (TensorRT IGridSampleLayer), giving (N, C, Hout,
// Wout). grid[n, h, w] = (x, y) is normalized: -1 and 1 are the centers of
// the edge pixels with align corners, their outer edges without. The
// interpolation is nearest (ties to even), bilinear or bicubic (A = -0.75);
// coordinates outside the input read 0 (SampleFill, the default), the edge
// (SampleClamp) or a reflection (SampleReflect). TensorRT supports no
// other sample mode. Defaults: linear, align corners false, SampleFill.
type GridSampleLayer struct {
	layerBase
	mode         InterpolationMode
	alignCorners bool
	sampleMode   SampleMode
}

// AddGridSample adds a grid sample layer.
func (n *Network) AddGridSample(in, grid *Tensor) *GridSampleLayer {
	l := &GridSampleLayer{mode: InterpolationLinear, sampleMode: SampleFill}
	n.addLayer(l, LayerGridSample, 1, 2, in, grid)
	return l
}

func (l *GridSampleLayer) InterpolationMode() InterpolationMode { return l.mode }
func (l *GridSampleLayer) SetInterpolationMode(m InterpolationMode) {
	l.mode = m
	l.changed()
}
func (l *GridSampleLayer) AlignCorners() bool { return l.alignCorners }
func (l *GridSampleLayer) SetAlignCorners(a bool) {
	l.alignCorners = a
	l.changed()
}
func (l *GridSampleLayer) SampleMode() SampleMode { return l.sampleMode }

// SetSampleMode sets how out-of-bounds coordinates are read and reports
// whether the layer supports the mode (SampleClamp, SampleFill,
// SampleReflect); an unsupported mode is also reported by Err.
func (l *GridSampleLayer) SetSampleMode(m SampleMode) bool {
	l.sampleMode = m
	l.changed()
	return m == SampleClamp || m == SampleFill || m == SampleReflect
}

func (l *GridSampleLayer) infer(c *inferCtx) {
	in, grid := c.in(0), c.in(1)
	switch {
	case l.mode < 0 || l.mode >= numInterpolationModes:
		c.errorf(diag.InvalidNode, "unknown interpolation mode %d", int(l.mode))
		return
	case l.sampleMode != SampleClamp && l.sampleMode != SampleFill && l.sampleMode != SampleReflect:
		c.errorf(diag.UnsupportedAttr, "grid sample mode %v is not supported; TensorRT grid sample supports Clamp, Fill and Reflect", l.sampleMode)
		return
	}
	switch in.dtype {
	case Float32, Float16, BFloat16:
	default:
		c.errorf(diag.TypeMismatch, "grid sample needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	if grid.dtype != in.dtype {
		c.errorf(diag.TypeMismatch, "grid %q is %v but input %q is %v; they must have the same type", grid.name, grid.dtype, in.name, in.dtype)
		return
	}
	if in.dims.Rank() != 4 {
		c.errorf(diag.ShapeMismatch, "grid sample needs a rank-4 input (N, C, H, W); %q has dims %v", in.name, in.dims)
		return
	}
	if grid.dims.Rank() != 4 || (grid.dims[3] >= 0 && grid.dims[3] != 2) {
		c.errorf(diag.ShapeMismatch, "grid %q must have dims (N, Hout, Wout, 2); it has %v", grid.name, grid.dims)
		return
	}
	n := in.dims[0]
	if n >= 0 && grid.dims[0] >= 0 && n != grid.dims[0] {
		c.errorf(diag.ShapeMismatch, "batch sizes differ: input %q has %d, grid %q has %d", in.name, n, grid.name, grid.dims[0])
		return
	}
	if n < 0 {
		n = grid.dims[0]
	}
	c.setOutput(0, in.dtype, Dims{n, in.dims[1], grid.dims[1], grid.dims[2]})
}
