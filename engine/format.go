package engine

import (
	"bytes"
	"encoding/binary"
)

// The fixed header at the start of every engine file, little-endian:
//
//	offset  size  field
//	     0     8  magic "TRTCENG\x00"
//	     8     4  format version (uint32)
//	    12     4  header size in bytes (uint32): where the header ends
//	    16     8  manifest offset (uint64)
//	    24     8  manifest length (uint64)
//	    32    32  SHA-256 of the manifest bytes
//	    64        end of the version 1 header
const (
	// Magic is the first 8 bytes of every engine file.
	Magic = "TRTCENG\x00"
	// FormatVersion is the file format version this package writes and
	// the only one it reads. A change that an older reader would
	// misinterpret bumps it.
	FormatVersion uint32 = 1
	// SectionAlign is the alignment of every section's offset, so that a
	// section can be memory-mapped and used in place (page and GPU copy
	// alignments divide 256 or are multiples of it).
	SectionAlign = 256

	headerSize = 64 // the version 1 header; a reader accepts a larger declared size and skips the rest

	offMagic       = 0
	offVersion     = 8
	offHeaderSize  = 12
	offManifestOff = 16
	offManifestLen = 24
	offManifestSum = 32
)

// header is the decoded fixed header.
type header struct {
	version     uint32
	size        uint32 // declared header size
	manifestOff uint64
	manifestLen uint64
	manifestSum [32]byte
}

// encode returns the header's headerSize bytes.
func (h *header) encode() []byte {
	b := make([]byte, headerSize)
	copy(b[offMagic:], Magic)
	binary.LittleEndian.PutUint32(b[offVersion:], h.version)
	binary.LittleEndian.PutUint32(b[offHeaderSize:], h.size)
	binary.LittleEndian.PutUint64(b[offManifestOff:], h.manifestOff)
	binary.LittleEndian.PutUint64(b[offManifestLen:], h.manifestLen)
	copy(b[offManifestSum:], h.manifestSum[:])
	return b
}

// decodeHeader parses b, which holds the first min(fileSize, headerSize)
// bytes of a file of fileSize bytes. It checks the magic first (so a file
// that is not an engine at all says so even when short), then the version,
// then that the header is complete; the manifest's position is checked by
// the caller.
func decodeHeader(name string, b []byte, fileSize int64) (*header, error) {
	if len(b) < len(Magic) {
		return nil, corruptf(name, "truncated header: the file is %d bytes, too short for the %d-byte magic", fileSize, len(Magic))
	}
	if !bytes.Equal(b[:len(Magic)], []byte(Magic)) {
		return nil, corruptf(name, "bad magic at offset 0: got %q (% x), want %q; this is not a trtc engine file", b[:len(Magic)], b[:len(Magic)], Magic)
	}
	if len(b) < offHeaderSize {
		return nil, corruptf(name, "truncated header: the file is %d bytes, the header needs %d", fileSize, headerSize)
	}
	h := &header{version: binary.LittleEndian.Uint32(b[offVersion:])}
	if h.version != FormatVersion {
		return nil, incompatiblef(name, "engine file format version %d, this trtc reads format version %d; rebuild the engine with this trtc", h.version, FormatVersion)
	}
	if len(b) < headerSize {
		return nil, corruptf(name, "truncated header: the file is %d bytes, the header needs %d", fileSize, headerSize)
	}
	h.size = binary.LittleEndian.Uint32(b[offHeaderSize:])
	h.manifestOff = binary.LittleEndian.Uint64(b[offManifestOff:])
	h.manifestLen = binary.LittleEndian.Uint64(b[offManifestLen:])
	copy(h.manifestSum[:], b[offManifestSum:])
	if h.size < headerSize {
		return nil, corruptf(name, "header size %d at offset %d is smaller than the %d bytes of a version %d header", h.size, offHeaderSize, headerSize, FormatVersion)
	}
	if uint64(h.size) > uint64(fileSize) {
		return nil, corruptf(name, "truncated header: the header declares %d bytes, the file is %d", h.size, fileSize)
	}
	return h, nil
}

// alignUp rounds n up to a multiple of SectionAlign.
func alignUp(n uint64) uint64 {
	return (n + SectionAlign - 1) &^ (SectionAlign - 1)
}
