package tensorrt

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/trtc/trtc/diag"
)

// The engine section holding TensorRT's serialized plan, and its kind.
// `trtc compile --plan FILE` writes this section's bytes as they are.
const (
	SectionPlan = "tensorrt.plan"
	KindPlan    = "tensorrt-plan"
	// MetaHeaderVersion records NV_TENSORRT_VERSION of the headers the
	// target was compiled against; MetaLibraryVersion the loaded library's.
	MetaHeaderVersion  = "tensorrt.header_version"
	MetaLibraryVersion = "tensorrt.library_version"
)

// Sonames tried, newest first.
var libraryNames = []string{"libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so"}

// LibraryCandidates lists, in order, the files the target dlopens to find
// libnvinfer: $TRTC_LIBNVINFER when set, then each soname under
// $TENSORRT_ROOT/lib (and lib64) when set, then the bare sonames (found
// through LD_LIBRARY_PATH and the ldconfig cache).
func LibraryCandidates(getenv func(string) string) []string {
	var out []string
	if p := getenv("TRTC_LIBNVINFER"); p != "" {
		out = append(out, p)
	}
	if root := getenv("TENSORRT_ROOT"); root != "" {
		for _, dir := range []string{"lib", "lib64"} {
			for _, n := range libraryNames {
				out = append(out, filepath.Join(root, dir, n))
			}
		}
	}
	return append(out, libraryNames...)
}

// NotFoundError is the error of a target that found no libnvinfer: it
// names every file tried and why each failed (reasons holds dlerror lines,
// one per file, as the shim reports them).
func NotFoundError(tried []string, reasons string) error {
	why := map[string]string{}
	for _, line := range strings.Split(reasons, "\n") {
		if i := strings.Index(line, ": "); i > 0 {
			why[line[:i]] = line[i+2:]
		}
	}
	var b strings.Builder
	for i, p := range tried {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
		if w := why[p]; w != "" {
			fmt.Fprintf(&b, " (%s)", w)
		}
	}
	return diag.Errorf(diag.NoDevice, "TensorRT's libnvinfer was not found: tried %s; install TensorRT 10 or 11, or point TRTC_LIBNVINFER at libnvinfer.so", b.String())
}

// ErrorCode maps TensorRT's nvinfer1::ErrorCode (reported through
// IErrorRecorder) to trtc's diag code.
func ErrorCode(trt int) diag.Code {
	switch trt {
	case 3: // kINVALID_ARGUMENT
		return diag.InvalidArgument
	case 4: // kINVALID_CONFIG
		return diag.InvalidArgument
	case 5: // kFAILED_ALLOCATION
		return diag.OutOfMemory
	case 6: // kFAILED_INITIALIZATION
		return diag.NoDevice
	case 10: // kUNSUPPORTED_STATE
		return diag.UnsupportedNode
	default: // kUNSPECIFIED_ERROR, kINTERNAL_ERROR, kFAILED_EXECUTION, kFAILED_COMPUTATION, kINVALID_STATE
		return diag.Internal
	}
}

// ErrorCodeName names a TensorRT ErrorCode for messages.
func ErrorCodeName(trt int) string {
	names := []string{"kSUCCESS", "kUNSPECIFIED_ERROR", "kINTERNAL_ERROR", "kINVALID_ARGUMENT", "kINVALID_CONFIG",
		"kFAILED_ALLOCATION", "kFAILED_INITIALIZATION", "kFAILED_EXECUTION", "kFAILED_COMPUTATION", "kINVALID_STATE", "kUNSUPPORTED_STATE"}
	if trt >= 0 && trt < len(names) {
		return names[trt]
	}
	return fmt.Sprintf("ErrorCode(%d)", trt)
}

// Plan returns the TensorRT plan stored in an engine (an *engine.File
// satisfies the interface), for `trtc compile --plan` and the Triton
// writer. An engine of another target is an EngineIncompatible error.
func Plan(target string, f interface{ Section(string) ([]byte, error) }) ([]byte, error) {
	if target != "tensorrt" {
		return nil, diag.Errorf(diag.EngineIncompatible, "the engine's target is %q; a TensorRT plan comes only from --target tensorrt", target)
	}
	return f.Section(SectionPlan)
}
