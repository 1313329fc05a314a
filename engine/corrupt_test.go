package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

var le = binary.LittleEndian

// corruptBase is a small valid file whose manifest carries a 300-byte
// metadata entry "pad" that patchManifest drops, to make room for edits.
func corruptBase(t *testing.T) []byte {
	m := testManifest()
	m.Metadata["pad"] = strings.Repeat("p", 300)
	return writeEngine(t, m, smallSections())
}

func readBytes(file []byte) (*File, error) {
	return Read(bytes.NewReader(file), int64(len(file)))
}

// patchHeader returns a copy of file with edit applied to its bytes.
func patchHeader(file []byte, edit func(b []byte)) []byte {
	b := bytes.Clone(file)
	edit(b)
	return b
}

// patchManifest decodes file's manifest, drops metadata "pad", applies
// edit, and writes the new manifest (with a matching hash in the header)
// in place, leaving every section where it was.
func patchManifest(t *testing.T, file []byte, edit func(m *enginepb.Manifest)) []byte {
	t.Helper()
	mLen := le.Uint64(file[24:32])
	var m enginepb.Manifest
	if err := proto.Unmarshal(file[64:64+mLen], &m); err != nil {
		t.Fatal(err)
	}
	dataStart := uint64(len(file))
	for _, s := range m.Sections {
		dataStart = min(dataStart, s.GetOffset())
	}
	delete(m.Metadata, "pad")
	edit(&m)
	mb, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if 64+uint64(len(mb)) > dataStart {
		t.Fatalf("patched manifest (%d bytes) does not fit before %d", len(mb), dataStart)
	}
	return rawManifest(file, mb)
}

// rawManifest puts manifest bytes mb (any bytes) after the header with a
// matching length and hash, zeroing the rest of the old manifest's place.
func rawManifest(file, mb []byte) []byte {
	b := bytes.Clone(file)
	old := le.Uint64(b[24:32])
	clear(b[64 : 64+old])
	copy(b[64:], mb)
	le.PutUint64(b[24:32], uint64(len(mb)))
	sum := sha256.Sum256(mb)
	copy(b[32:64], sum[:])
	return b
}

func sectionByName(t *testing.T, file []byte, name string) *enginepb.Section {
	t.Helper()
	f, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Manifest().GetSections() {
		if s.GetName() == name {
			return s
		}
	}
	t.Fatalf("no section %q", name)
	return nil
}

func TestCorruptHeaderAndManifest(t *testing.T) {
	base := corruptBase(t)
	mLen := le.Uint64(base[24:32])
	size := len(base)
	for _, tc := range []struct {
		name  string
		file  []byte
		code  diag.Code
		frags []string
	}{
		{"bad magic", patchHeader(base, func(b []byte) { copy(b, "GGUF\x03\x00\x00\x00") }),
			diag.EngineCorrupt, []string{"bad magic at offset 0", `"GGUF\x03\x00\x00\x00"`, "47 47 55 46 03 00 00 00", "not a trtc engine file"}},
		{"format version 2", patchHeader(base, func(b []byte) { le.PutUint32(b[8:], 2) }),
			diag.EngineIncompatible, []string{"format version 2", "reads format version 1"}},
		{"format version 0", patchHeader(base, func(b []byte) { le.PutUint32(b[8:], 0) }),
			diag.EngineIncompatible, []string{"format version 0"}},
		{"header size too small", patchHeader(base, func(b []byte) { le.PutUint32(b[12:], 32) }),
			diag.EngineCorrupt, []string{"header size 32 at offset 12", "smaller than the 64 bytes"}},
		{"header size past end", patchHeader(base, func(b []byte) { le.PutUint32(b[12:], math.MaxUint32) }),
			diag.EngineCorrupt, []string{"truncated header", fmt.Sprintf("declares %d bytes, the file is %d", uint32(math.MaxUint32), size)}},
		{"manifest offset past end", patchHeader(base, func(b []byte) { le.PutUint64(b[16:], uint64(size)+1) }),
			diag.EngineCorrupt, []string{fmt.Sprintf("manifest (offset %d, length %d) is out of range: the file is %d bytes", size+1, mLen, size)}},
		{"manifest offset huge", patchHeader(base, func(b []byte) { le.PutUint64(b[16:], math.MaxUint64-5) }),
			diag.EngineCorrupt, []string{"manifest (offset 18446744073709551610", "out of range"}},
		{"manifest offset in header", patchHeader(base, func(b []byte) { le.PutUint64(b[16:], 8) }),
			diag.EngineCorrupt, []string{"manifest offset 8 (header offset 16) is inside the 64-byte header"}},
		{"manifest length past end", patchHeader(base, func(b []byte) { le.PutUint64(b[24:], 1<<40) }),
			diag.EngineCorrupt, []string{"manifest (offset 64, length 1099511627776) is out of range"}},
		{"manifest length overflows", patchHeader(base, func(b []byte) { le.PutUint64(b[24:], math.MaxUint64) }),
			diag.EngineCorrupt, []string{"manifest (offset 64, length 18446744073709551615) is out of range"}},
		{"manifest byte flipped", patchHeader(base, func(b []byte) { b[64+mLen/2] ^= 0x40 }),
			diag.EngineCorrupt, []string{"manifest SHA-256 mismatch", "header (offset 32) says", fmt.Sprintf("manifest bytes 64..%d", 64+mLen)}},
		{"manifest hash flipped", patchHeader(base, func(b []byte) { b[40] ^= 1 }),
			diag.EngineCorrupt, []string{"manifest SHA-256 mismatch"}},
		{"manifest not protobuf", rawManifest(base, []byte{0xff, 0xff, 0xff}),
			diag.EngineCorrupt, []string{"the manifest (offset 64, length 3) does not decode"}},
		{"no target", patchManifest(t, base, func(m *enginepb.Manifest) { m.Target = "" }),
			diag.EngineCorrupt, []string{"bad manifest", "names no target"}},
		{"bad dtype", patchManifest(t, base, func(m *enginepb.Manifest) { m.Inputs[0].Dtype = -3 }),
			diag.EngineCorrupt, []string{"bad manifest", `input "image" has unknown data type -3`}},
		{"bad profile", patchManifest(t, base, func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Min[0] = 99 }),
			diag.EngineCorrupt, []string{"bad manifest", "profile 0 input \"image\" dim 0: min 99, opt 8, max 32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBytes(tc.file)
			wantErr(t, err, tc.code, tc.frags...)
			if !strings.HasPrefix(err.Error(), tc.code.String()+": engine file: ") {
				t.Errorf("error %q does not start with the code and the file", err)
			}
		})
	}
}

func TestCorruptSectionTable(t *testing.T) {
	base := corruptBase(t)
	size := uint64(len(base))
	// The section table's order follows smallSections: plan, empty, cubin, bias.
	plan := sectionByName(t, base, "plan")
	bias := sectionByName(t, base, "bias")
	mEnd := 64 + le.Uint64(base[24:32])
	for _, tc := range []struct {
		name  string
		edit  func(m *enginepb.Manifest)
		frags []string
	}{
		{"offset past end", func(m *enginepb.Manifest) { m.Sections[3].Offset = alignUp(size) + 256 },
			[]string{fmt.Sprintf(`section "bias" (offset %d, length 512) is out of range: the file is %d bytes`, alignUp(size)+256, size)}},
		{"length past end", func(m *enginepb.Manifest) { m.Sections[2].Length = size },
			[]string{`section "cubin"`, "out of range"}},
		{"offset plus length overflows", func(m *enginepb.Manifest) { m.Sections[0].Length = math.MaxUint64 },
			[]string{`section "plan" (offset`, "length 18446744073709551615) is out of range"}},
		{"empty section past end", func(m *enginepb.Manifest) { m.Sections[1].Offset = alignUp(size + 1) },
			[]string{`section "empty"`, "out of range"}},
		{"misaligned", func(m *enginepb.Manifest) { m.Sections[3].Offset++ },
			[]string{fmt.Sprintf(`section "bias" at offset %d is not aligned to 256 bytes`, bias.GetOffset()+1)}},
		{"inside the manifest", func(m *enginepb.Manifest) { m.Sections[0].Offset = 0 },
			[]string{`section "plan" at offset 0 overlaps the header and manifest, which end at`}},
		{"overlapping", func(m *enginepb.Manifest) { m.Sections[3].Offset = plan.GetOffset() },
			[]string{fmt.Sprintf(`sections "plan" (bytes %d..%d) and "bias" (bytes %d..%d) overlap`,
				plan.GetOffset(), plan.GetOffset()+300, plan.GetOffset(), plan.GetOffset()+512)}},
		{"duplicate names", func(m *enginepb.Manifest) { m.Sections[2].Name = "plan" },
			[]string{`duplicate section name "plan"`}},
		{"no name", func(m *enginepb.Manifest) { m.Sections[1].Name = "" },
			[]string{"section 1 has no name"}},
		{"short hash", func(m *enginepb.Manifest) { m.Sections[2].Sha256 = m.Sections[2].Sha256[:31] },
			[]string{`section "cubin" has a 31-byte SHA-256, want 32`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBytes(patchManifest(t, base, tc.edit))
			wantErr(t, err, diag.EngineCorrupt, tc.frags...)
		})
	}
	// An empty section may share an offset with a non-empty one: it holds
	// no bytes. The manifest end is where sections may start.
	ok := patchManifest(t, base, func(m *enginepb.Manifest) { m.Sections[1].Offset = plan.GetOffset() })
	if _, err := readBytes(ok); err != nil {
		t.Errorf("empty section at a used offset: %v", err)
	}
	if plan.GetOffset() != alignUp(mEnd) {
		t.Errorf("first section at %d, manifest ends at %d", plan.GetOffset(), mEnd)
	}
}

// A flipped byte in a section passes Read (sections are checked on use)
// and fails Section and Verify naming that section; other sections still
// read.
func TestCorruptSectionBytes(t *testing.T) {
	base := writeEngine(t, testManifest(), bigSections())
	for _, name := range []string{"weights", "cubin", "exact", "one"} {
		t.Run(name, func(t *testing.T) {
			s := sectionByName(t, base, name)
			file := bytes.Clone(base)
			file[s.GetOffset()+s.GetLength()-1] ^= 0x80
			f, err := readBytes(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Section(name)
			wantErr(t, err, diag.EngineCorrupt, fmt.Sprintf("section %q (bytes %d..%d) SHA-256 mismatch", name, s.GetOffset(), s.GetOffset()+s.GetLength()))
			wantErr(t, f.Verify(), diag.EngineCorrupt, fmt.Sprintf("section %q", name), "SHA-256 mismatch")
			for _, other := range bigSections() {
				if other.name == name {
					continue
				}
				if b, err := f.Section(other.name); err != nil || !bytes.Equal(b, other.data) {
					t.Errorf("section %q next to a corrupt one: %v", other.name, err)
				}
			}
			if _, err := f.SectionReader(name); err != nil {
				t.Errorf("SectionReader checks nothing, got %v", err)
			}
		})
	}
	// A wrong hash in the manifest (bytes intact) is caught the same way.
	file := patchManifest(t, writeEngine(t, func() *enginepb.Manifest {
		m := testManifest()
		m.Metadata["pad"] = strings.Repeat("p", 300)
		return m
	}(), smallSections()), func(m *enginepb.Manifest) { m.Sections[2].Sha256[0] ^= 1 })
	f, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.Verify(), diag.EngineCorrupt, `section "cubin"`, "SHA-256 mismatch")
	_, err = f.Section("cubin")
	wantErr(t, err, diag.EngineCorrupt, `section "cubin"`, "SHA-256 mismatch")
}

// Every prefix of a valid file is rejected as corrupt, with the part that
// is cut named at the interesting boundaries.
func TestTruncated(t *testing.T) {
	base := writeEngine(t, testManifest(), smallSections())
	for n := range len(base) {
		_, err := readBytes(base[:n])
		if err == nil || !errIs(err, diag.EngineCorrupt) {
			t.Fatalf("file cut at %d of %d: %v, want EngineCorrupt", n, len(base), err)
		}
	}
	mEnd := 64 + int(le.Uint64(base[24:32]))
	bias := sectionByName(t, base, "bias")
	for _, tc := range []struct {
		n    int
		frag string
	}{
		{0, "the file is 0 bytes, too short for the 8-byte magic"},
		{7, "the file is 7 bytes, too short for the 8-byte magic"},
		{8, "truncated header: the file is 8 bytes, the header needs 64"},
		{12, "truncated header: the file is 12 bytes, the header needs 64"},
		{63, "truncated header: the file is 63 bytes, the header needs 64"},
		{64, "manifest (offset 64"},
		{mEnd - 1, fmt.Sprintf("out of range: the file is %d bytes", mEnd-1)},
		{mEnd, `section "plan"`},
		{int(bias.GetOffset()), `section "bias"`},
		{len(base) - 1, `section "bias" (offset`},
	} {
		_, err := readBytes(base[:tc.n])
		wantErr(t, err, diag.EngineCorrupt, tc.frag)
	}
	if _, err := readBytes(base); err != nil {
		t.Fatalf("the whole file: %v", err)
	}
}

func errIs(err error, code diag.Code) bool { return diag.CodeOf(err) == code }

// A reader shorter than the size it is declared with: the header and
// manifest are read before the missing bytes, sections fail to read.
func TestReaderShorterThanSize(t *testing.T) {
	base := writeEngine(t, testManifest(), smallSections())
	bias := sectionByName(t, base, "bias")
	short := base[:bias.GetOffset()+10]
	f, err := Read(bytes.NewReader(short), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Section("bias")
	wantErr(t, err, diag.EngineCorrupt, `cannot read section "bias"`)
	wantErr(t, f.Verify(), diag.EngineCorrupt, `cannot read section "bias"`)
	if b, err := f.Section("plan"); err != nil || len(b) != 300 {
		t.Errorf("section before the cut: %d bytes, %v", len(b), err)
	}
	_, err = Read(bytes.NewReader(base[:40]), int64(len(base)))
	wantErr(t, err, diag.EngineCorrupt, "cannot read the header")
	_, err = Read(bytes.NewReader(base), -1)
	wantErr(t, err, diag.InvalidArgument, "negative size -1")
}

// A header that declares more than 64 bytes is accepted; the extra bytes
// are skipped (room for later fields within format version 1).
func TestLargerHeader(t *testing.T) {
	// Dropping the 300-byte pad leaves room to move the manifest by 64.
	base := patchManifest(t, corruptBase(t), func(*enginepb.Manifest) {})
	mLen := le.Uint64(base[24:32])
	mb := bytes.Clone(base[64 : 64+mLen])
	file := patchHeader(base, func(b []byte) {
		clear(b[64 : 64+mLen])
		copy(b[128:], mb)
		le.PutUint32(b[12:], 128)
		le.PutUint64(b[16:], 128)
	})
	f, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}
