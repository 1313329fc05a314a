package tensorrt

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestLibraryCandidates(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if got := LibraryCandidates(get); !slices.Equal(got, []string{"libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so"}) {
		t.Errorf("no environment: %v", got)
	}
	env["TRTC_LIBNVINFER"] = "/opt/x/libnvinfer.so.10.16.1"
	env["TENSORRT_ROOT"] = "/opt/trt"
	got := LibraryCandidates(get)
	if got[0] != "/opt/x/libnvinfer.so.10.16.1" || got[1] != "/opt/trt/lib/libnvinfer.so.11" || got[4] != "/opt/trt/lib64/libnvinfer.so.11" || len(got) != 10 {
		t.Errorf("with TRTC_LIBNVINFER and TENSORRT_ROOT: %v", got)
	}
}

func TestNotFoundError(t *testing.T) {
	err := NotFoundError([]string{"libnvinfer.so.11", "libnvinfer.so.10"}, "libnvinfer.so.11: cannot open shared object file\nlibnvinfer.so.10: opened, but createInferBuilder_INTERNAL is missing\n")
	if !errors.Is(err, diag.NoDevice) {
		t.Errorf("code: %v", err)
	}
	for _, want := range []string{"libnvinfer.so.11 (cannot open shared object file)", "libnvinfer.so.10 (opened, but createInferBuilder_INTERNAL is missing)", "TRTC_LIBNVINFER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for trt, want := range map[int]diag.Code{1: diag.Internal, 2: diag.Internal, 3: diag.InvalidArgument, 4: diag.InvalidArgument, 5: diag.OutOfMemory, 6: diag.NoDevice, 7: diag.Internal, 10: diag.UnsupportedNode, 99: diag.Internal} {
		if got := ErrorCode(trt); got != want {
			t.Errorf("ErrorCode(%d [%s]) = %v, want %v", trt, ErrorCodeName(trt), got, want)
		}
	}
	if ErrorCodeName(5) != "kFAILED_ALLOCATION" || ErrorCodeName(42) != "ErrorCode(42)" {
		t.Errorf("names: %s %s", ErrorCodeName(5), ErrorCodeName(42))
	}
}

type sections map[string][]byte

func (s sections) Section(n string) ([]byte, error) {
	if b, ok := s[n]; ok {
		return b, nil
	}
	return nil, diag.Errorf(diag.EngineCorrupt, "no section %q", n)
}

func TestPlan(t *testing.T) {
	s := sections{SectionPlan: []byte("plan")}
	if b, err := Plan("tensorrt", s); err != nil || string(b) != "plan" {
		t.Errorf("tensorrt engine: %q %v", b, err)
	}
	if _, err := Plan("cpu", s); !errors.Is(err, diag.EngineIncompatible) || !strings.Contains(err.Error(), "--target tensorrt") {
		t.Errorf("cpu engine: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (BuilderOptions{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
	good := BuilderOptions{HardwareCompatibility: "ampere+", VersionCompatible: true, ExcludeLeanRuntime: true, Refit: true, StripPlan: true, TacticSources: []string{"jit_convolutions"}}
	if err := good.Validate(); err != nil {
		t.Errorf("good options: %v", err)
	}
	if f := good.flags(); !slices.Equal(f, []string{"version_compatible", "exclude_lean_runtime", "refit", "strip_plan"}) {
		t.Errorf("flags: %v", f)
	}
	bad := BuilderOptions{HardwareCompatibility: "hopper", ExcludeLeanRuntime: true, StripPlan: true, TacticSources: []string{"cudnn", "cudnn", "magic"}}
	err := bad.Validate()
	if !errors.Is(err, diag.InvalidArgument) {
		t.Fatalf("bad options: %v", err)
	}
	for _, want := range []string{`hardware compatibility "hopper"`, "lean runtime needs a version-compatible", "stripped plan needs refittable", `"cudnn" given twice`, `unknown tactic source "magic"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q (every problem is reported at once)", err, want)
		}
	}
	if err := Configure(bad); err == nil || Options().HardwareCompatibility == "hopper" {
		t.Errorf("Configure accepted bad options")
	}
	if err := Configure(good); err != nil || Options().HardwareCompatibility != "ampere+" {
		t.Errorf("Configure(good): %v, %+v", err, Options())
	}
	Configure(BuilderOptions{})
}
