package engine

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

func openManifest(t *testing.T, m *enginepb.Manifest) *File {
	t.Helper()
	f, err := readBytes(writeEngine(t, m, nil))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckCompatible(t *testing.T) {
	// testManifest: cuda sm_90, cuda 12.4.1, cudnn 9.1.0, cublasLt 12.4.5.
	f := openManifest(t, testManifest())
	libs := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	same := libs("cuda", "12.4.1", "cudnn", "9.1.0", "cublasLt", "12.4.5")
	for _, tc := range []struct {
		name  string
		want  Compat
		frags []string // nil: compatible
	}{
		{"same", Compat{FormatVersion: 1, Target: "cuda", DeviceArch: "sm_90", Libraries: same}, nil},
		{"nothing checked", Compat{}, nil},
		{"minor versions differ", Compat{Target: "cuda", Libraries: libs("cuda", "12.6", "cudnn", "9.3.0", "cublasLt", "v12.9.1", "nccl", "2.21")}, nil},
		{"other arch", Compat{Target: "cuda", DeviceArch: "sm_80"},
			[]string{"engine built for target cuda sm_90, this is sm_80"}},
		{"other target", Compat{Target: "cpu", DeviceArch: "amd64"},
			[]string{"engine built for target cuda sm_90, this is target cpu amd64"}},
		{"other target, no arch", Compat{Target: "tensorrt"},
			[]string{"engine built for target cuda sm_90, this is target tensorrt"}},
		{"cudnn major", Compat{Libraries: libs("cuda", "12.4.1", "cudnn", "8.9.7", "cublasLt", "12.4.5")},
			[]string{"engine built with cudnn 9.1.0, this has cudnn 8.9.7 (major versions differ)"}},
		{"library missing", Compat{Libraries: libs("cuda", "12.4.1", "cudnn", "9.1.0")},
			[]string{"engine built with cublasLt 12.4.5, this has no cublasLt"}},
		{"no libraries at all", Compat{Libraries: map[string]string{}},
			[]string{"this has no cuda", "this has no cudnn", "this has no cublasLt"}},
		{"format version", Compat{FormatVersion: 2},
			[]string{"engine file format version 1, this runtime reads version 2"}},
		{"everything", Compat{FormatVersion: 3, Target: "cuda", DeviceArch: "sm_100", Libraries: libs("cuda", "13.0", "cudnn", "9.1.0", "cublasLt", "13.0.1")},
			[]string{"format version 1, this runtime reads version 3", "this is sm_100", "cuda 12.4.1, this has cuda 13.0", "cublasLt 12.4.5, this has cublasLt 13.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.CheckCompatible(tc.want)
			if tc.frags == nil {
				if err != nil {
					t.Fatalf("want compatible, got %v", err)
				}
				return
			}
			wantErr(t, err, diag.EngineIncompatible, tc.frags...)
		})
	}
}

// An engine with no device architecture runs on any device of its target;
// one with no libraries needs none.
func TestCheckCompatiblePortable(t *testing.T) {
	f := openManifest(t, &enginepb.Manifest{Target: "cpu"})
	if err := f.CheckCompatible(Compat{FormatVersion: 1, Target: "cpu", DeviceArch: "arm64", Libraries: map[string]string{}}); err != nil {
		t.Error(err)
	}
	wantErr(t, f.CheckCompatible(Compat{Target: "cuda", DeviceArch: "sm_90"}), diag.EngineIncompatible,
		"engine built for target cpu, this is target cuda sm_90")
}

func TestMajorVersion(t *testing.T) {
	for in, want := range map[string]string{"12.4.1": "12", "v9.1": "9", " 10 ": "10", "": "", "11": "11", "2024.1-rc": "2024"} {
		if got := majorVersion(in); got != want {
			t.Errorf("majorVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
