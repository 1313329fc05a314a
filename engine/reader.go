package engine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

// File is an engine file whose header and manifest have been read and
// checked. Sections are read on demand; Section checks a section's SHA-256
// the first time it is read, Verify checks them all. A File is safe for
// concurrent use.
type File struct {
	name     string // the path, or "engine file"; prefixes every error
	r        io.ReaderAt
	closer   io.Closer // the *os.File that Open opened; nil after Read
	size     int64
	version  uint32
	manifest *enginepb.Manifest
	sections map[string]*enginepb.Section

	mu       sync.Mutex
	verified map[string]bool
}

// Open opens the engine file at path, reads and checks its header and
// manifest, and keeps the file open for reading sections until Close.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, diag.Wrap(diag.InvalidArgument, err, "cannot open engine file %s", path)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, diag.Wrap(diag.InvalidArgument, err, "cannot stat engine file %s", path)
	}
	ef, err := read(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	ef.closer = f
	return ef, nil
}

// Read reads and checks the header and manifest of the size-byte engine
// file in r. The File reads sections from r later, so r must stay valid
// while the File is used.
func Read(r io.ReaderAt, size int64) (*File, error) {
	return read("engine file", r, size)
}

func read(name string, r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, diag.Errorf(diag.InvalidArgument, "%s: negative size %d", name, size)
	}
	hb, err := readAt(r, 0, min(size, headerSize))
	if err != nil {
		return nil, corruptf(name, "cannot read the header: %v", err)
	}
	h, err := decodeHeader(name, hb, size)
	if err != nil {
		return nil, err
	}
	mEnd := h.manifestOff + h.manifestLen
	switch {
	case h.manifestOff < uint64(h.size):
		return nil, corruptf(name, "manifest offset %d (header offset %d) is inside the %d-byte header", h.manifestOff, offManifestOff, h.size)
	case mEnd < h.manifestOff || mEnd > uint64(size):
		return nil, corruptf(name, "manifest (offset %d, length %d) is out of range: the file is %d bytes (truncated?)", h.manifestOff, h.manifestLen, size)
	}
	mb, err := readAt(r, int64(h.manifestOff), int64(h.manifestLen))
	if err != nil {
		return nil, corruptf(name, "cannot read the manifest (offset %d, length %d): %v", h.manifestOff, h.manifestLen, err)
	}
	if sum := sha256.Sum256(mb); sum != h.manifestSum {
		return nil, corruptf(name, "manifest SHA-256 mismatch: the header (offset %d) says %x, the manifest bytes %d..%d hash to %x",
			offManifestSum, h.manifestSum, h.manifestOff, mEnd, sum)
	}
	m := new(enginepb.Manifest)
	if err := proto.Unmarshal(mb, m); err != nil {
		return nil, corruptf(name, "the manifest (offset %d, length %d) does not decode: %v", h.manifestOff, h.manifestLen, err)
	}
	if err := checkDescription(m); err != nil {
		return nil, corruptf(name, "bad manifest: %v", err)
	}
	if err := checkSections(name, m.GetSections(), mEnd, uint64(size)); err != nil {
		return nil, err
	}
	f := &File{name: name, r: r, size: size, version: h.version, manifest: m,
		sections: make(map[string]*enginepb.Section, len(m.GetSections())), verified: make(map[string]bool)}
	for _, s := range m.GetSections() {
		f.sections[s.GetName()] = s
	}
	return f, nil
}

// readAt reads exactly n bytes at off. Callers have checked off+n against
// the file size, so n is bounded by what the file holds.
func readAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == len(b) {
		return b, nil // io.EOF with a full read is fine
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// Close closes the file that Open opened; for a File from Read it does
// nothing (the caller owns the reader).
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// Manifest returns the file's manifest. The caller must not modify it.
func (f *File) Manifest() *enginepb.Manifest { return f.manifest }

// FormatVersion returns the format version in the file's header.
func (f *File) FormatVersion() uint32 { return f.version }

// Size returns the file's size in bytes.
func (f *File) Size() int64 { return f.size }

func (f *File) lookup(name string) (*enginepb.Section, error) {
	s, ok := f.sections[name]
	if !ok {
		return nil, diag.Errorf(diag.InvalidArgument, "%s has no section %q", f.name, name)
	}
	return s, nil
}

// Section reads the named section into memory. The first read of each
// section checks its SHA-256; a mismatch is diag.EngineCorrupt naming the
// section.
func (f *File) Section(name string) ([]byte, error) {
	s, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	b, err := readAt(f.r, int64(s.GetOffset()), int64(s.GetLength()))
	if err != nil {
		return nil, corruptf(f.name, "cannot read section %q (offset %d, length %d): %v", name, s.GetOffset(), s.GetLength(), err)
	}
	f.mu.Lock()
	done := f.verified[name]
	f.mu.Unlock()
	if !done {
		if err := f.checkSum(s, sha256.Sum256(b)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// SectionReader returns a reader over the named section without reading or
// checking it, for sections too large to hold twice (weights to copy to a
// device, or to map). Call Verify first where the bytes must be trusted.
func (f *File) SectionReader(name string) (*io.SectionReader, error) {
	s, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(f.r, int64(s.GetOffset()), int64(s.GetLength())), nil
}

// Verify checks the SHA-256 of every section not yet checked, streaming
// each from the file, and returns the first mismatch.
func (f *File) Verify() error {
	for _, s := range f.manifest.GetSections() {
		f.mu.Lock()
		done := f.verified[s.GetName()]
		f.mu.Unlock()
		if done {
			continue
		}
		hash := sha256.New()
		if _, err := io.CopyN(hash, io.NewSectionReader(f.r, int64(s.GetOffset()), int64(s.GetLength())), int64(s.GetLength())); err != nil {
			return corruptf(f.name, "cannot read section %q (offset %d, length %d): %v", s.GetName(), s.GetOffset(), s.GetLength(), err)
		}
		var sum [32]byte
		hash.Sum(sum[:0])
		if err := f.checkSum(s, sum); err != nil {
			return err
		}
	}
	return nil
}

// checkSum compares a section's computed hash with the manifest's and
// records a match.
func (f *File) checkSum(s *enginepb.Section, sum [32]byte) error {
	if !bytes.Equal(sum[:], s.GetSha256()) {
		return corruptf(f.name, "section %q (bytes %d..%d) SHA-256 mismatch: the manifest says %x, the bytes hash to %x",
			s.GetName(), s.GetOffset(), s.GetOffset()+s.GetLength(), s.GetSha256(), sum)
	}
	f.mu.Lock()
	f.verified[s.GetName()] = true
	f.mu.Unlock()
	return nil
}
