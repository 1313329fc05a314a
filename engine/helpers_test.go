package engine

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/tensor"
)

// testManifest is a manifest with every descriptive field set.
func testManifest() *enginepb.Manifest {
	return &enginepb.Manifest{
		TrtcVersion:     "0.1.0-test",
		Target:          "cuda",
		DeviceArch:      "sm_90",
		LibraryVersions: map[string]string{"cuda": "12.4.1", "cudnn": "9.1.0", "cublasLt": "12.4.5"},
		NetworkName:     "resnet18",
		Inputs: []*enginepb.TensorDesc{
			{Name: "image", Dtype: int32(tensor.Float16), Dims: []int64{-1, 3, 224, 224}},
			{Name: "scale", Dtype: int32(tensor.Float32), Dims: []int64{}},
		},
		Outputs: []*enginepb.TensorDesc{{Name: "logits", Dtype: int32(tensor.Float32), Dims: []int64{-1, 1000}}},
		Profiles: []*enginepb.OptimizationProfile{{Inputs: []*enginepb.ShapeRange{{
			Input: "image", Min: []int64{1, 3, 224, 224}, Opt: []int64{8, 3, 224, 224}, Max: []int64{32, 3, 224, 224},
		}}}},
		Metadata: map[string]string{"builder": "test", "precision": "fp16"},
	}
}

type testSection struct {
	name, kind string
	data       []byte
}

// randBytes returns n random bytes, none of them zero, so that a section
// never looks like padding.
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + r.IntN(255))
	}
	return b
}

// writeEngine writes an engine file with manifest m and the given sections.
func writeEngine(t testing.TB, m *enginepb.Manifest, secs []testSection) []byte {
	t.Helper()
	w := NewWriter(m)
	for _, s := range secs {
		if err := w.AddSection(s.name, s.kind, s.data); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// smallSections is a few small sections, an empty one among them and a
// non-empty one last.
func smallSections() []testSection {
	return []testSection{
		{"plan", "plan", randBytes(1, 300)},
		{"empty", "weights", nil},
		{"cubin", "cubin", randBytes(2, 17)},
		{"bias", "weights", randBytes(3, 512)},
	}
}

// wantErr checks that err carries code and contains every fragment.
func wantErr(t *testing.T, err error, code diag.Code, frags ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v containing %q", code, frags)
	}
	if !errors.Is(err, code) {
		t.Fatalf("error %q has code %v, want %v", err, diag.CodeOf(err), code)
	}
	for _, f := range frags {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

// alignTo256 rounds up by hand (independent of the package's alignUp).
func alignTo256(n int) int {
	if n%256 == 0 {
		return n
	}
	return n + 256 - n%256
}
