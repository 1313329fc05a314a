package engine

import (
	"bytes"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/engine/enginepb"
)

// FuzzRead feeds arbitrary bytes to Read. Nothing may panic or allocate
// from an unchecked length (the fuzzer's memory limit catches that). A file
// that reads must be self-consistent: every section readable (or failing
// with EngineCorrupt), and a file written again from what was read must
// read back to the same manifest and sections.
func FuzzRead(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new interesting input, which
	// costs time quadratic in its size, so kilobyte seeds would spend most
	// of the run minimizing instead of exploring.
	tiny := &enginepb.Manifest{Target: "cpu", Inputs: []*enginepb.TensorDesc{{Name: "x", Dims: []int64{-1, 2}}},
		Profiles: []*enginepb.OptimizationProfile{{Inputs: []*enginepb.ShapeRange{{Input: "x", Min: []int64{1, 2}, Opt: []int64{1, 2}, Max: []int64{4, 2}}}}}}
	for _, seed := range []struct {
		m    *enginepb.Manifest
		secs []testSection
	}{
		{tiny, nil},
		{tiny, []testSection{{"w", "weights", randBytes(9, 7)}, {"e", "", nil}, {"c", "cubin", randBytes(8, 3)}}},
		{testManifest(), nil},
	} {
		file := writeEngine(f, seed.m, seed.secs)
		f.Add(file)
		for _, cut := range []int{0, 7, 8, 12, 63, 64, 65, 100, len(file) / 2, len(file) - 1} {
			if cut < len(file) {
				f.Add(file[:cut])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		m := ef.Manifest()
		_ = ef.CheckCompatible(Compat{FormatVersion: 1, Target: "cuda", DeviceArch: "sm_90", Libraries: map[string]string{"cuda": "12.4"}})
		verr := ef.Verify()
		w := NewWriter(m)
		for _, s := range m.GetSections() {
			b, err := ef.Section(s.GetName())
			if err != nil {
				if verr == nil {
					t.Fatalf("Verify passed but section %q fails: %v", s.GetName(), err)
				}
				return
			}
			if uint64(len(b)) != s.GetLength() {
				t.Fatalf("section %q: %d bytes, manifest says %d", s.GetName(), len(b), s.GetLength())
			}
			sr, err := ef.SectionReader(s.GetName())
			if err != nil {
				t.Fatal(err)
			}
			if rb, err := io.ReadAll(sr); err != nil || !bytes.Equal(rb, b) {
				t.Fatalf("SectionReader(%q) differs from Section: %v", s.GetName(), err)
			}
			if err := w.AddSection(s.GetName(), s.GetKind(), b); err != nil {
				t.Fatalf("a file that reads has a section the writer refuses: %v", err)
			}
		}
		if verr != nil {
			t.Fatalf("every section read but Verify failed: %v", verr)
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatalf("rewriting a file that reads: %v", err)
		}
		again, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("rewritten file does not read: %v", err)
		}
		if err := again.Verify(); err != nil {
			t.Fatalf("rewritten file does not verify: %v", err)
		}
		a, b := proto.CloneOf(m), proto.CloneOf(again.Manifest())
		a.Sections, b.Sections = nil, nil
		if !proto.Equal(a, b) {
			t.Fatalf("manifest changed on rewrite:\n%v\n%v", a, b)
		}
	})
}
