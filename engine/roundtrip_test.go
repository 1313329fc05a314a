package engine

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

// bigSections has a ~1 MiB section, empty sections (one last), and sizes
// around the alignment.
func bigSections() []testSection {
	return []testSection{
		{"weights", "weights", randBytes(10, 1<<20+3)},
		{"empty0", "weights", []byte{}},
		{"cubin", "cubin", randBytes(11, 255)},
		{"exact", "plan", randBytes(12, 256)},
		{"one", "plan", randBytes(13, 1)},
		{"empty1", "weights", nil},
	}
}

func checkRoundTrip(t *testing.T, f *File, m *enginepb.Manifest, secs []testSection) {
	t.Helper()
	got := proto.CloneOf(f.Manifest())
	if len(got.Sections) != len(secs) {
		t.Fatalf("%d sections, want %d", len(got.Sections), len(secs))
	}
	got.Sections = nil
	if !proto.Equal(got, m) {
		t.Errorf("manifest round trip:\n got %v\nwant %v", got, m)
	}
	if f.FormatVersion() != 1 {
		t.Errorf("FormatVersion = %d", f.FormatVersion())
	}
	for i, s := range f.Manifest().GetSections() {
		if s.GetOffset()%256 != 0 {
			t.Errorf("section %q at offset %d is not 256-aligned", s.GetName(), s.GetOffset())
		}
		if s.GetName() != secs[i].name || s.GetKind() != secs[i].kind {
			t.Errorf("section %d = %q/%q, want %q/%q", i, s.GetName(), s.GetKind(), secs[i].name, secs[i].kind)
		}
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		b, err := f.Section(s.name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, s.data) {
			t.Errorf("section %q: got %d bytes, want %d, or contents differ", s.name, len(b), len(s.data))
		}
		sr, err := f.SectionReader(s.name)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := io.ReadAll(sr)
		if err != nil || !bytes.Equal(rb, s.data) {
			t.Errorf("SectionReader(%q): %d bytes, %v", s.name, len(rb), err)
		}
	}
	_, err := f.Section("nope")
	wantErr(t, err, diag.InvalidArgument, `no section "nope"`)
	_, err = f.SectionReader("nope")
	wantErr(t, err, diag.InvalidArgument, `no section "nope"`)
}

func TestRoundTripRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		secs []testSection
	}{
		{"none", nil},
		{"small", smallSections()},
		{"big", bigSections()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testManifest()
			file := writeEngine(t, m, tc.secs)
			f, err := Read(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				t.Fatal(err)
			}
			if f.Size() != int64(len(file)) {
				t.Errorf("Size = %d, want %d", f.Size(), len(file))
			}
			checkRoundTrip(t, f, m, tc.secs)
			if err := f.Close(); err != nil {
				t.Errorf("Close of a Read file: %v", err)
			}
		})
	}
}

func TestRoundTripOpen(t *testing.T) {
	m := testManifest()
	secs := bigSections()
	path := filepath.Join(t.TempDir(), "model.engine")
	if err := os.WriteFile(path, writeEngine(t, m, secs), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, f, m, secs)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A minimal manifest (target only) round-trips too: empty maps and lists
// are fine.
func TestRoundTripMinimal(t *testing.T) {
	m := &enginepb.Manifest{Target: "cpu"}
	file := writeEngine(t, m, []testSection{{"w", "weights", randBytes(5, 40)}})
	f, err := Read(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, f, m, []testSection{{"w", "weights", randBytes(5, 40)}})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "missing.engine"))
	wantErr(t, err, diag.InvalidArgument, "missing.engine")

	path := filepath.Join(dir, "bad.engine")
	if err := os.WriteFile(path, []byte("NOTANENGINEFILE"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	wantErr(t, err, diag.EngineCorrupt, path+": bad magic")
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(testManifest())
	if err := w.AddSection("a", "weights", []byte{1}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.AddSection("a", "cubin", nil), diag.InvalidArgument, `section "a" added twice`)
	wantErr(t, w.AddSection("", "cubin", nil), diag.InvalidArgument, "name is empty")

	_, err := NewWriter(nil).WriteTo(io.Discard)
	wantErr(t, err, diag.InvalidArgument, "no manifest")

	for _, tc := range []struct {
		edit func(m *enginepb.Manifest)
		frag string
	}{
		{func(m *enginepb.Manifest) { m.Target = "" }, "names no target"},
		{func(m *enginepb.Manifest) { m.Inputs[1].Name = "" }, "input 1 has no name"},
		{func(m *enginepb.Manifest) { m.Inputs[1].Name = "image" }, `input name "image" appears twice`},
		{func(m *enginepb.Manifest) { m.Outputs[0].Dtype = 99 }, `output "logits" has unknown data type 99`},
		{func(m *enginepb.Manifest) { m.Outputs[0].Dims[1] = -2 }, `output "logits" dim 1 is -2`},
		{func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Input = "x" }, `range for "x", which is not an input`},
		{func(m *enginepb.Manifest) {
			m.Profiles[0].Inputs = append(m.Profiles[0].Inputs, m.Profiles[0].Inputs[0])
		}, `two ranges for input "image"`},
		{func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Max = []int64{32} }, "ranks 4/4/1, the input has rank 4"},
		{func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Opt[0] = 64 }, "dim 0: min 1, opt 64, max 32"},
		{func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Min[0] = -1 }, "dim 0: min -1"},
		{func(m *enginepb.Manifest) { m.Profiles[0].Inputs[0].Max[2] = 256 }, "dim 2 is fixed at 224, the profile gives 224..256"},
	} {
		m := testManifest()
		tc.edit(m)
		_, err := NewWriter(m).WriteTo(io.Discard)
		wantErr(t, err, diag.InvalidArgument, tc.frag)
	}
}

type failWriter struct{ left int }

func (w *failWriter) Write(b []byte) (int, error) {
	if len(b) > w.left {
		n := w.left
		w.left = 0
		return n, errors.New("disk full")
	}
	w.left -= len(b)
	return len(b), nil
}

func TestWriterIOError(t *testing.T) {
	w := NewWriter(testManifest())
	if err := w.AddSection("a", "weights", randBytes(1, 1000)); err != nil {
		t.Fatal(err)
	}
	n, err := w.WriteTo(&failWriter{left: 700})
	if err == nil || err.Error() != "disk full" || n != 700 {
		t.Errorf("WriteTo = %d, %v; want 700, disk full", n, err)
	}
}

// Sections of one File read from several goroutines at once (run with
// -race): the first-read hash bookkeeping is shared.
func TestConcurrentSections(t *testing.T) {
	secs := bigSections()
	file := writeEngine(t, testManifest(), secs)
	f, err := Read(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4*len(secs))
	for range 4 {
		for _, s := range secs {
			go func() {
				b, err := f.Section(s.name)
				if err == nil && !bytes.Equal(b, s.data) {
					err = errors.New("section " + s.name + " differs")
				}
				errs <- err
			}()
		}
	}
	go func() { errs <- f.Verify() }()
	for range 4*len(secs) + 1 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
