package compiler

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/target"
)

// Precision is the float precision a network is compiled for.
type Precision int

const (
	// FP32 computes in float32: the network as written.
	FP32 Precision = iota
	// TF32 is FP32 with TF32 tensor cores allowed for matrix multiplies
	// and convolutions (10-bit mantissa inputs, float32 accumulation).
	TF32
	// FP16 rewrites float layers to float16 (autocast), keeping float32
	// where it matters: softmax, normalization statistics, sums.
	FP16
	// BF16 is FP16's rewrite with bfloat16.
	BF16
	numPrecisions
)

var precisionNames = [...]string{"fp32", "tf32", "fp16", "bf16"}

func (p Precision) String() string {
	if p >= 0 && p < numPrecisions {
		return precisionNames[p]
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision reads "fp32", "tf32", "fp16" or "bf16".
func ParsePrecision(s string) (Precision, error) {
	for i, n := range precisionNames {
		if strings.EqualFold(s, n) {
			return Precision(i), nil
		}
	}
	return 0, diag.Errorf(diag.InvalidArgument, "unknown precision %q: want one of %s", s, strings.Join(precisionNames[:], ", "))
}

// computeType is the float type the autocast pass rewrites into.
func (p Precision) computeType() dsl.DataType {
	switch p {
	case FP16:
		return dsl.Float16
	case BF16:
		return dsl.BFloat16
	}
	return dsl.Float32
}

// Profile is an optimization profile: for each network input with dynamic
// dims, the smallest, tuned-for and largest shapes the engine accepts
// (TensorRT's IOptimizationProfile).
type Profile = target.Profile

// ShapeRange is one input's min/opt/max dims in a profile.
type ShapeRange = target.ShapeRange

// DefaultOptLevel is the optimization level of DefaultConfig, TensorRT's
// default builder optimization level.
const DefaultOptLevel = 3

// MaxOptLevel is the highest optimization level.
const MaxOptLevel = 5

// Config is what Build is asked to do (TensorRT's IBuilderConfig).
type Config struct {
	// Target is "auto" (the best target this machine can run: tensorrt,
	// then cuda, then cpu), "cpu", "cuda" or "tensorrt".
	Target string
	// Precision is the network-wide float precision.
	Precision Precision
	// LayerPrecisions overrides the precision of the named layers (fp32,
	// fp16 or bf16; TF32 is not a per-layer type).
	LayerPrecisions map[string]Precision
	// Profiles are the optimization profiles, required when an input has
	// dynamic dims. Each gives a range for every dynamic input.
	Profiles []Profile
	// OptLevel, 0 to 5, trades build time against how hard the builder
	// searches: passes and tactic searches have a minimum level.
	OptLevel int
	// WorkspaceLimit bounds the scratch memory a layer may use, in bytes;
	// 0 means no limit beyond the device's memory.
	WorkspaceLimit int64
	// TimingCachePath is a file of measured tactic timings that a build
	// reads and then updates, so a second build does no timing. Empty
	// means no cache. Targets that choose tactics by timing use it.
	TimingCachePath string
	// Progress, when set, is called as the build goes (phase starts, each
	// pass done).
	Progress func(Progress)
	// Verify runs the IR verifier before and after every pass (slower;
	// for debugging passes).
	Verify bool
	// Source names where the network came from, for the build report
	// ("model.onnx"); empty means built in Go.
	Source string
}

// DefaultConfig is the configuration of a plain `trtc compile`: the best
// target present, fp32, the default optimization level.
func DefaultConfig() Config {
	return Config{Target: "auto", Precision: FP32, OptLevel: DefaultOptLevel}
}

// Progress reports how far a build is.
type Progress struct {
	Phase string // "check", "passes", "lower", "write"
	// Pass is the pass that just finished (Phase "passes").
	Pass string
	// Done and Total count the passes.
	Done, Total int
}

func (c *Config) validate() error {
	var errs diag.List
	if c.OptLevel < 0 || c.OptLevel > MaxOptLevel {
		errs = append(errs, diag.Errorf(diag.InvalidArgument, "optimization level %d is out of range: want 0 to %d", c.OptLevel, MaxOptLevel))
	}
	if c.Precision < 0 || c.Precision >= numPrecisions {
		errs = append(errs, diag.Errorf(diag.InvalidArgument, "unknown precision %v", c.Precision))
	}
	for name, p := range c.LayerPrecisions {
		if p == TF32 || p < 0 || p >= numPrecisions {
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "layer %q: precision %v cannot be set per layer (want fp32, fp16 or bf16)", name, p))
		}
	}
	if c.WorkspaceLimit < 0 {
		errs = append(errs, diag.Errorf(diag.InvalidArgument, "workspace limit %d is negative", c.WorkspaceLimit))
	}
	return errs.Err()
}
