package tensorrt

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/trtc/trtc/diag"
)

// BuilderOptions are the TensorRT builder settings target.Build does not
// carry (the workspace limit, optimization level, profiles and TF32 come
// from target.Build). Set them with Configure before compiling.
type BuilderOptions struct {
	// HardwareCompatibility is the hardware-compatibility level: "" or
	// "none" (this GPU's architecture only), "ampere+" (any Ampere or
	// newer GPU), "same-compute-capability".
	HardwareCompatibility string
	// VersionCompatible builds a plan later TensorRT versions can run
	// (BuilderFlag::kVERSION_COMPATIBLE); ExcludeLeanRuntime leaves the lean
	// runtime out of such a plan.
	VersionCompatible  bool
	ExcludeLeanRuntime bool
	// Refit makes weights refittable (kREFIT); StripPlan leaves refittable
	// weights out of the plan (kSTRIP_PLAN, needs Refit).
	Refit     bool
	StripPlan bool
	// TacticSources limits the tactic sources by name (nil: TensorRT's
	// default): "edge_mask_convolutions", "jit_convolutions"; with
	// TensorRT 10 headers also "cublas", "cublas_lt", "cudnn".
	TacticSources []string
	// TimingCache is the path of TensorRT's own timing cache file, loaded
	// before the build when it exists and saved after it (trtc's
	// timingcache is a different file).
	TimingCache string
	// ErrorOnTimingCacheMiss fails a build that would time a tactic
	// (kERROR_ON_TIMING_CACHE_MISS).
	ErrorOnTimingCacheMiss bool
	// SparseWeights allows structured-sparsity tactics (kSPARSE_WEIGHTS).
	SparseWeights bool
}

// HardwareCompatibilityLevels maps the option's names to TensorRT's
// HardwareCompatibilityLevel values.
var HardwareCompatibilityLevels = map[string]int{"": 0, "none": 0, "ampere+": 1, "same-compute-capability": 2}

// tacticSources are every name some TensorRT version accepts; the shim
// rejects names the compiled-against headers lack.
var tacticSources = map[string]bool{"edge_mask_convolutions": true, "jit_convolutions": true, "cublas": true, "cublas_lt": true, "cudnn": true}

// Validate reports every problem with the options at once.
func (o BuilderOptions) Validate() error {
	var probs []string
	if _, ok := HardwareCompatibilityLevels[o.HardwareCompatibility]; !ok {
		probs = append(probs, fmt.Sprintf("hardware compatibility %q: want none, ampere+ or same-compute-capability", o.HardwareCompatibility))
	}
	if o.ExcludeLeanRuntime && !o.VersionCompatible {
		probs = append(probs, "excluding the lean runtime needs a version-compatible plan")
	}
	if o.StripPlan && !o.Refit {
		probs = append(probs, "a stripped plan needs refittable weights (Refit)")
	}
	seen := map[string]bool{}
	for _, s := range o.TacticSources {
		if !tacticSources[s] {
			names := make([]string, 0, len(tacticSources))
			for n := range tacticSources {
				names = append(names, n)
			}
			sort.Strings(names)
			probs = append(probs, fmt.Sprintf("unknown tactic source %q: want %s", s, strings.Join(names, ", ")))
		} else if seen[s] {
			probs = append(probs, fmt.Sprintf("tactic source %q given twice", s))
		}
		seen[s] = true
	}
	if len(probs) > 0 {
		return diag.Errorf(diag.InvalidArgument, "TensorRT builder options: %s", strings.Join(probs, "; "))
	}
	return nil
}

// flags lists the builder flags (the shim's names) the options turn on.
func (o BuilderOptions) flags() []string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{o.VersionCompatible, "version_compatible"}, {o.ExcludeLeanRuntime, "exclude_lean_runtime"},
		{o.Refit, "refit"}, {o.StripPlan, "strip_plan"}, {o.ErrorOnTimingCacheMiss, "error_on_timing_cache_miss"},
		{o.SparseWeights, "sparse_weights"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return f
}

var (
	optMu   sync.Mutex
	current BuilderOptions
)

// Configure validates and sets the options the TensorRT target builds
// with, for every later build in the process.
func Configure(o BuilderOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	optMu.Lock()
	defer optMu.Unlock()
	o.TacticSources = append([]string(nil), o.TacticSources...)
	current = o
	return nil
}

// Options returns the options set by Configure.
func Options() BuilderOptions {
	optMu.Lock()
	defer optMu.Unlock()
	return current
}
