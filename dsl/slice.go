package dsl

import "fmt"

// SampleMode says how a SliceLayer reads coordinates outside its input;
// values are TensorRT's nvinfer1::SampleMode.
type SampleMode int

const (
	SampleStrictBounds SampleMode = iota // an out-of-bounds coordinate is an error
	SampleWrap                           // coordinates wrap around periodically
	SampleClamp                          // coordinates clamp to the nearest edge
	SampleFill                           // out-of-bounds elements take the fill value (input 4, default 0)
	SampleReflect                        // coordinates reflect about the edge elements, repeatedly
	numSampleModes
)

var sampleModeNames = [...]string{"StrictBounds", "Wrap", "Clamp", "Fill", "Reflect"}

func (m SampleMode) String() string {
	if m >= 0 && m < numSampleModes {
		return sampleModeNames[m]
	}
	return fmt.Sprintf("SampleMode(%d)", int(m))
}

// AllSampleModes lists every sample mode.
func AllSampleModes() []SampleMode {
	out := make([]SampleMode, numSampleModes)
	for i := range out {
		out[i] = SampleMode(i)
	}
	return out
}

// MapCoord maps coordinate c along an axis of length n to the index read
// under mode m. It returns -1 for an element that takes the fill value
// (SampleFill), and ok=false when the mode has no element to read (strict
// bounds out of range; wrap, clamp or reflect on an empty axis). Exported
// so every target maps coordinates the same way.
func (m SampleMode) MapCoord(c, n int64) (idx int64, ok bool) {
	inside := c >= 0 && c < n
	switch m {
	case SampleStrictBounds:
		return c, inside
	case SampleFill:
		if !inside {
			return -1, true
		}
		return c, true
	case SampleWrap:
		if n <= 0 {
			return 0, false
		}
		return ((c % n) + n) % n, true
	case SampleClamp:
		if n <= 0 {
			return 0, false
		}
		return min(max(c, 0), n-1), true
	case SampleReflect:
		if n <= 0 {
			return 0, false
		}
		if n == 1 {
			return 0, true
		}
		// The reflection axis is the middle of the edge element, so the
		// pattern 0 1 .. n-1 n-2 .. 1 repeats with period 2(n-1).
		p := 2 * (n - 1)
		r := ((c % p) + p) % p
		if r >= n {
			r = p - r
		}
		return r, true
	}
	return 0, false
}

// SliceLayer copies a strided window of its input (TensorRT ISliceLayer):
// along each sliced axis, output element j reads input coordinate
// start + j*stride, mapped by the sample mode. Strides may be negative.
//
// Inputs (each optional one overrides the matching Dims; the setter of
// that Dims clears it again):
//   - 0: the tensor to slice.
//   - 1: start, a 1-D Int32/Int64 tensor.
//   - 2: size (the output dims along the sliced axes), a 1-D Int32/Int64 tensor.
//   - 3: stride, a 1-D Int32/Int64 tensor.
//   - 4: the fill value for SampleFill, a scalar of the input's type;
//     an error in any other mode. Without it the fill value is 0.
//   - 5: axes, a 1-D Int32/Int64 tensor of unique axes in [-rank, rank).
//
// Without axes, start, size and stride have one entry per input axis; with
// axes, one per listed axis, and the other axes are copied whole.
type SliceLayer struct {
	layerBase
	start, size, stride Dims
	axes                Dims // nil: every axis
	mode                SampleMode
}

// AddSlice adds a slice of in.
func (n *Network) AddSlice(in *Tensor, start, size, stride Dims) *SliceLayer {
	l := &SliceLayer{start: start.Clone(), size: size.Clone(), stride: stride.Clone()}
	n.addLayer(l, LayerSlice, 1, 6, in)
	return l
}

// clearInput removes optional input i, as TensorRT's setters do.
func (l *SliceLayer) clearInput(i int) {
	if i < len(l.inputs) {
		l.inputs[i] = nil
	}
	for len(l.inputs) > 1 && l.inputs[len(l.inputs)-1] == nil {
		l.inputs = l.inputs[:len(l.inputs)-1]
	}
	l.changed()
}

// paramDims returns d, or nil when input i overrides it.
func (l *SliceLayer) paramDims(d Dims, i int) Dims {
	if l.Input(i) != nil {
		return nil
	}
	return d.Clone()
}

// Start returns the start coordinates (nil when input 1 gives them).
func (l *SliceLayer) Start() Dims { return l.paramDims(l.start, 1) }

// SetStart sets the start coordinates and clears input 1.
func (l *SliceLayer) SetStart(d Dims) { l.start = d.Clone(); l.clearInput(1) }

// Size returns the output dims along the sliced axes (nil when input 2
// gives them).
func (l *SliceLayer) Size() Dims { return l.paramDims(l.size, 2) }

// SetSize sets the output dims along the sliced axes and clears input 2.
func (l *SliceLayer) SetSize(d Dims) { l.size = d.Clone(); l.clearInput(2) }

// Stride returns the strides (nil when input 3 gives them).
func (l *SliceLayer) Stride() Dims { return l.paramDims(l.stride, 3) }

// SetStride sets the strides and clears input 3.
func (l *SliceLayer) SetStride(d Dims) { l.stride = d.Clone(); l.clearInput(3) }

// Axes returns the sliced axes (nil: every axis, or input 5 gives them).
func (l *SliceLayer) Axes() Dims { return l.paramDims(l.axes, 5) }

// SetAxes sets the sliced axes and clears input 5.
func (l *SliceLayer) SetAxes(d Dims) { l.axes = d.Clone(); l.clearInput(5) }

// Mode returns the sample mode (default SampleStrictBounds).
func (l *SliceLayer) Mode() SampleMode { return l.mode }

// SetMode sets the sample mode.
func (l *SliceLayer) SetMode(m SampleMode) {
	l.mode = m
	l.changed()
}
