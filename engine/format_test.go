package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/engine/enginepb"
)

// TestHeaderBytes decodes a written file by hand, field by field, at the
// offsets the format documents, without using the package's reader.
func TestHeaderBytes(t *testing.T) {
	secs := smallSections()
	file := writeEngine(t, testManifest(), secs)
	le := binary.LittleEndian

	if got := string(file[0:8]); got != "TRTCENG\x00" {
		t.Fatalf("magic = %q", got)
	}
	if got := le.Uint32(file[8:12]); got != 1 {
		t.Errorf("format version = %d, want 1", got)
	}
	if got := le.Uint32(file[12:16]); got != 64 {
		t.Errorf("header size = %d, want 64", got)
	}
	mOff, mLen := le.Uint64(file[16:24]), le.Uint64(file[24:32])
	if mOff != 64 {
		t.Errorf("manifest offset = %d, want 64", mOff)
	}
	if mLen == 0 || 64+mLen > uint64(len(file)) {
		t.Fatalf("manifest length %d does not fit the %d-byte file", mLen, len(file))
	}
	mb := file[64 : 64+mLen]
	if sum := sha256.Sum256(mb); !bytes.Equal(sum[:], file[32:64]) {
		t.Errorf("manifest hash in header = %x, sha256 of manifest = %x", file[32:64], sum)
	}
	var m enginepb.Manifest
	if err := proto.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	if m.GetTarget() != "cuda" || m.GetDeviceArch() != "sm_90" || m.GetNetworkName() != "resnet18" {
		t.Errorf("manifest = %v", &m)
	}
	if len(m.GetSections()) != len(secs) {
		t.Fatalf("%d sections in manifest, want %d", len(m.GetSections()), len(secs))
	}
	// Sections in order, each at the next multiple of 256, zeros between.
	pos := alignTo256(64 + int(mLen))
	for i, s := range m.GetSections() {
		want := secs[i]
		if s.GetName() != want.name || s.GetKind() != want.kind {
			t.Errorf("section %d is %q/%q, want %q/%q", i, s.GetName(), s.GetKind(), want.name, want.kind)
		}
		if int(s.GetOffset()) != pos || int(s.GetLength()) != len(want.data) {
			t.Errorf("section %q at %d+%d, want %d+%d", want.name, s.GetOffset(), s.GetLength(), pos, len(want.data))
		}
		if got := file[pos : pos+len(want.data)]; !bytes.Equal(got, want.data) {
			t.Errorf("section %q bytes differ", want.name)
		}
		if sum := sha256.Sum256(want.data); !bytes.Equal(s.GetSha256(), sum[:]) {
			t.Errorf("section %q hash %x, want %x", want.name, s.GetSha256(), sum)
		}
		end := pos + len(want.data)
		next := alignTo256(end)
		if i+1 < len(secs) {
			for j := end; j < next; j++ {
				if file[j] != 0 {
					t.Fatalf("padding byte %d after section %q is %d", j, want.name, file[j])
				}
			}
		}
		pos = next
	}
	last := m.GetSections()[len(secs)-1]
	if got := int(last.GetOffset() + last.GetLength()); got != len(file) {
		t.Errorf("file is %d bytes, last section ends at %d", len(file), got)
	}
	for j := 64 + int(mLen); j < int(m.GetSections()[0].GetOffset()); j++ {
		if file[j] != 0 {
			t.Fatalf("padding byte %d after the manifest is %d", j, file[j])
		}
	}
}

// TestWriteDeterministic: the same engine gives the same bytes (map fields
// included), and the caller's manifest is left as it was.
func TestWriteDeterministic(t *testing.T) {
	m := testManifest()
	m.Sections = []*enginepb.Section{{Name: "stale", Offset: 3}}
	a := writeEngine(t, m, smallSections())
	b := writeEngine(t, testManifest(), smallSections())
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same engine differ")
	}
	if len(m.Sections) != 1 || m.Sections[0].GetName() != "stale" {
		t.Errorf("WriteTo modified the caller's manifest: %v", m.Sections)
	}
}
