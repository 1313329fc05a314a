package engine

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/tensor"
)

// checkDescription checks the parts of a manifest that describe the engine
// (target, inputs, outputs, profiles), which the Writer takes from its
// caller and the reader from untrusted bytes: the Writer refuses to write
// what the reader would reject. The error is a plain sentence; callers add
// the code.
func checkDescription(m *enginepb.Manifest) error {
	if m.GetTarget() == "" {
		return fmt.Errorf("the manifest names no target (cpu, cuda, tensorrt)")
	}
	if err := checkTensors("input", m.GetInputs()); err != nil {
		return err
	}
	if err := checkTensors("output", m.GetOutputs()); err != nil {
		return err
	}
	for i, p := range m.GetProfiles() {
		if err := checkProfile(i, p, m.GetInputs()); err != nil {
			return err
		}
	}
	return nil
}

func checkTensors(what string, ts []*enginepb.TensorDesc) error {
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		switch {
		case t.GetName() == "":
			return fmt.Errorf("%s %d has no name", what, i)
		case seen[t.GetName()]:
			return fmt.Errorf("%s name %q appears twice", what, t.GetName())
		case !tensor.DataType(t.GetDtype()).Valid():
			return fmt.Errorf("%s %q has unknown data type %d", what, t.GetName(), t.GetDtype())
		}
		seen[t.GetName()] = true
		for j, d := range t.GetDims() {
			if d < -1 {
				return fmt.Errorf("%s %q dim %d is %d; dims are -1 (dynamic) or non-negative", what, t.GetName(), j, d)
			}
		}
	}
	return nil
}

// checkProfile checks that every range names an input once, has the
// input's rank, satisfies 0 <= min <= opt <= max, and agrees with the
// input's fixed dims.
func checkProfile(idx int, p *enginepb.OptimizationProfile, inputs []*enginepb.TensorDesc) error {
	byName := make(map[string]*enginepb.TensorDesc, len(inputs))
	for _, in := range inputs {
		byName[in.GetName()] = in
	}
	seen := make(map[string]bool)
	for _, r := range p.GetInputs() {
		in, ok := byName[r.GetInput()]
		if !ok {
			return fmt.Errorf("profile %d has a range for %q, which is not an input", idx, r.GetInput())
		}
		if seen[r.GetInput()] {
			return fmt.Errorf("profile %d has two ranges for input %q", idx, r.GetInput())
		}
		seen[r.GetInput()] = true
		dims := in.GetDims()
		if len(r.GetMin()) != len(dims) || len(r.GetOpt()) != len(dims) || len(r.GetMax()) != len(dims) {
			return fmt.Errorf("profile %d input %q: min/opt/max have ranks %d/%d/%d, the input has rank %d",
				idx, r.GetInput(), len(r.GetMin()), len(r.GetOpt()), len(r.GetMax()), len(dims))
		}
		for j, d := range dims {
			lo, opt, hi := r.GetMin()[j], r.GetOpt()[j], r.GetMax()[j]
			if lo < 0 || lo > opt || opt > hi {
				return fmt.Errorf("profile %d input %q dim %d: min %d, opt %d, max %d; want 0 <= min <= opt <= max", idx, r.GetInput(), j, lo, opt, hi)
			}
			if d >= 0 && (lo != d || hi != d) {
				return fmt.Errorf("profile %d input %q dim %d is fixed at %d, the profile gives %d..%d", idx, r.GetInput(), j, d, lo, hi)
			}
		}
	}
	return nil
}

// checkSections checks the section table read from a file of fileSize
// bytes whose manifest ends at dataStart: unique non-empty names, 32-byte
// hashes, aligned offsets, every section after the manifest and inside the
// file, and no two sections sharing a byte.
func checkSections(name string, secs []*enginepb.Section, dataStart, fileSize uint64) error {
	seen := make(map[string]bool, len(secs))
	for i, s := range secs {
		end, carry := bits.Add64(s.GetOffset(), s.GetLength(), 0)
		switch {
		case s.GetName() == "":
			return corruptf(name, "section %d has no name", i)
		case seen[s.GetName()]:
			return corruptf(name, "duplicate section name %q", s.GetName())
		case len(s.GetSha256()) != 32:
			return corruptf(name, "section %q has a %d-byte SHA-256, want 32", s.GetName(), len(s.GetSha256()))
		case s.GetOffset()%SectionAlign != 0:
			return corruptf(name, "section %q at offset %d is not aligned to %d bytes", s.GetName(), s.GetOffset(), SectionAlign)
		case s.GetOffset() < dataStart:
			return corruptf(name, "section %q at offset %d overlaps the header and manifest, which end at %d", s.GetName(), s.GetOffset(), dataStart)
		case carry != 0 || end > fileSize:
			return corruptf(name, "section %q (offset %d, length %d) is out of range: the file is %d bytes (truncated?)", s.GetName(), s.GetOffset(), s.GetLength(), fileSize)
		}
		seen[s.GetName()] = true
	}
	// Sorted by offset, each non-empty section must end before the next
	// non-empty one starts; empty sections hold no bytes to share.
	sorted := slices.DeleteFunc(slices.Clone(secs), func(s *enginepb.Section) bool { return s.GetLength() == 0 })
	slices.SortFunc(sorted, func(a, b *enginepb.Section) int {
		switch {
		case a.GetOffset() < b.GetOffset():
			return -1
		case a.GetOffset() > b.GetOffset():
			return 1
		}
		return 0
	})
	for i := 1; i < len(sorted); i++ {
		prev, cur := sorted[i-1], sorted[i]
		if prev.GetOffset()+prev.GetLength() > cur.GetOffset() {
			return corruptf(name, "sections %q (bytes %d..%d) and %q (bytes %d..%d) overlap",
				prev.GetName(), prev.GetOffset(), prev.GetOffset()+prev.GetLength(),
				cur.GetName(), cur.GetOffset(), cur.GetOffset()+cur.GetLength())
		}
	}
	return nil
}
