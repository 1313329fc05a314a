package ir

import "github.com/trtc/trtc/dsl"

// Options are what the passes are told about the build (the compiler's
// Config, reduced to what passes read).
type Options struct {
	// Compute is the float type the autocast pass rewrites float layers
	// into: Float32 (no rewrite), Float16 or BFloat16.
	Compute dsl.DataType
	// TF32 lets float32 matrix multiplies and convolutions use TF32 tensor
	// cores (recorded per layer; the CPU engine computes in float32).
	TF32 bool
	// LayerPrecisions overrides Compute for the layers named (TensorRT's
	// per-layer precision): the layer computes in the given float type.
	LayerPrecisions map[string]dsl.DataType
	// OptLevel is the builder optimization level, 0 to 5 (TensorRT's
	// builderOptimizationLevel); passes with a higher MinLevel are skipped.
	OptLevel int
	// MaxFoldElements bounds constant folding: a folded tensor larger than
	// this many elements stays computed at run time (a broadcast of a
	// scalar to a huge tensor would bloat the engine). 0 means the default.
	MaxFoldElements int64
}
