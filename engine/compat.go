package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Compat describes the runtime an engine is about to be loaded into. Zero
// fields are not checked: FormatVersion 0 skips the version, an empty
// Target or DeviceArch skips that comparison, and a nil Libraries map skips
// the libraries (an empty non-nil map says no libraries are present).
type Compat struct {
	FormatVersion uint32            // the engine file format version the runtime reads
	Target        string            // "cpu", "cuda", "tensorrt"
	DeviceArch    string            // "sm_80", "amd64"
	Libraries     map[string]string // library name -> version present, "12.4.1"
}

// CheckCompatible reports, as diag.EngineIncompatible, every way the engine
// differs from the runtime described by want, naming both sides. An engine
// with no device architecture runs on any device of its target. Library
// versions must agree in their major version (the part before the first
// '.', a leading "v" ignored), the ABI boundary of CUDA, cuDNN and TensorRT.
func (f *File) CheckCompatible(want Compat) error {
	m := f.manifest
	var problems []string
	if want.FormatVersion != 0 && f.version != want.FormatVersion {
		problems = append(problems, fmt.Sprintf("engine file format version %d, this runtime reads version %d", f.version, want.FormatVersion))
	}
	if want.Target != "" && m.GetTarget() != want.Target {
		problems = append(problems, fmt.Sprintf("engine built for target %s, this is target %s", describe(m.GetTarget(), m.GetDeviceArch()), describe(want.Target, want.DeviceArch)))
	} else if want.DeviceArch != "" && m.GetDeviceArch() != "" && m.GetDeviceArch() != want.DeviceArch {
		problems = append(problems, fmt.Sprintf("engine built for target %s, this is %s", describe(m.GetTarget(), m.GetDeviceArch()), want.DeviceArch))
	}
	if want.Libraries != nil {
		libs := m.GetLibraryVersions()
		for _, lib := range slices.Sorted(maps.Keys(libs)) {
			built := libs[lib]
			have, ok := want.Libraries[lib]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("engine built with %s %s, this has no %s", lib, built, lib))
			case majorVersion(built) != majorVersion(have):
				problems = append(problems, fmt.Sprintf("engine built with %s %s, this has %s %s (major versions differ)", lib, built, lib, have))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return incompatiblef(f.name, "%s", strings.Join(problems, "; "))
}

// describe is "cuda sm_90", or just "cpu" when the arch is empty.
func describe(target, arch string) string {
	if arch == "" {
		return target
	}
	return target + " " + arch
}

// majorVersion is the part of v before the first '.', without a leading
// "v" or surrounding spaces.
func majorVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	major, _, _ := strings.Cut(v, ".")
	return major
}
