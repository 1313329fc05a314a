package dsl

import "fmt"

// This file duplicates SampleMode as the datamove branch defines it in
// dsl/slice.go (same names, same values), so that GridSample builds on this
// branch alone. Whoever merges both branches drops this file.

// SampleMode says how Slice and GridSample read coordinates outside their
// input; values are TensorRT's nvinfer1::SampleMode.
type SampleMode int

const (
	SampleStrictBounds SampleMode = iota // an out-of-bounds coordinate is an error
	SampleWrap                           // coordinates wrap around periodically
	SampleClamp                          // coordinates clamp to the nearest edge
	SampleFill                           // out-of-bounds elements take the fill value
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
