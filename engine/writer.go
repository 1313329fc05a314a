package engine

import (
	"crypto/sha256"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

// Writer assembles an engine file: a manifest and named raw sections.
// The compiler fills the manifest's description (target, device, inputs,
// profiles, ...); the Writer fills its section table.
type Writer struct {
	m        *enginepb.Manifest
	sections []pendingSection
	names    map[string]bool
}

type pendingSection struct {
	name, kind string
	data       []byte
}

// NewWriter starts an engine file with manifest m. m is copied when the
// file is written, so the caller's message is never modified; its Sections
// field is ignored and replaced by the sections added with AddSection.
func NewWriter(m *enginepb.Manifest) *Writer {
	return &Writer{m: m, names: make(map[string]bool)}
}

// AddSection appends a section. Names are unique within a file; kind says
// what the bytes are to the target that reads them. data is not copied:
// it must not change until WriteTo returns.
func (w *Writer) AddSection(name, kind string, data []byte) error {
	if name == "" {
		return diag.Errorf(diag.InvalidArgument, "engine section name is empty")
	}
	if w.names[name] {
		return diag.Errorf(diag.InvalidArgument, "engine section %q added twice; section names are unique", name)
	}
	w.names[name] = true
	w.sections = append(w.sections, pendingSection{name, kind, data})
	return nil
}

// WriteTo writes the file: header, manifest, then each section at the next
// 256-byte aligned offset, in the order added, with zero padding between.
// It returns the number of bytes written.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.m == nil {
		return 0, diag.Errorf(diag.InvalidArgument, "engine writer has no manifest")
	}
	m := proto.CloneOf(w.m)
	if err := checkDescription(m); err != nil {
		return 0, diag.Wrap(diag.InvalidArgument, err, "cannot write an engine file")
	}
	m.Sections = make([]*enginepb.Section, len(w.sections))
	for i, s := range w.sections {
		sum := sha256.Sum256(s.data)
		m.Sections[i] = &enginepb.Section{Name: s.name, Kind: s.kind, Length: uint64(len(s.data)), Sha256: sum[:]}
	}
	manifest, err := layout(m)
	if err != nil {
		return 0, err
	}
	h := header{version: FormatVersion, size: headerSize, manifestOff: headerSize,
		manifestLen: uint64(len(manifest)), manifestSum: sha256.Sum256(manifest)}
	cw := &countingWriter{w: out}
	cw.write(h.encode())
	cw.write(manifest)
	for i, s := range w.sections {
		cw.pad(m.Sections[i].Offset)
		cw.write(s.data)
	}
	return cw.n, cw.err
}

// layout assigns section offsets and returns the encoded manifest. The
// sections start after the manifest, whose size depends on the offsets
// (varints), so this iterates: each round can only push the start further
// out, and the manifest's size is bounded, so it settles within a few
// rounds.
func layout(m *enginepb.Manifest) ([]byte, error) {
	opts := proto.MarshalOptions{Deterministic: true} // same engine, same bytes
	start := uint64(0)
	for range 16 {
		off := start
		for _, s := range m.Sections {
			s.Offset = off
			off = alignUp(off + s.Length)
		}
		b, err := opts.Marshal(m)
		if err != nil {
			return nil, diag.Wrap(diag.Internal, err, "encoding the engine manifest")
		}
		need := alignUp(headerSize + uint64(len(b)))
		if need <= start {
			return b, nil
		}
		start = need
	}
	return nil, diag.Errorf(diag.Internal, "engine section layout did not settle")
}

// countingWriter writes until the first error and counts the bytes.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) write(b []byte) {
	if c.err != nil || len(b) == 0 {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

var zeros [SectionAlign]byte

// pad writes zeros up to offset off.
func (c *countingWriter) pad(off uint64) {
	for c.err == nil && uint64(c.n) < off {
		c.write(zeros[:min(off-uint64(c.n), SectionAlign)])
	}
}
