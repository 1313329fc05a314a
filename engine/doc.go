// Package engine reads, writes and verifies trtc engine files. (Loading and
// executing an engine come with the compiler; this package holds the file
// format.)
//
// An engine file says what it is: which target, device architecture and
// library versions it was built for, what it computes, and the SHA-256 of
// every byte it holds. Its large parts (weights, cubins, serialized plans)
// are raw sections at 256-byte aligned offsets, so they can be memory-mapped
// or copied to a device as they are, never parsed.
//
// # Layout
//
// All integers are little-endian.
//
//	offset  size  field
//	     0     8  magic "TRTCENG\x00"
//	     8     4  format version, uint32 (this package writes and reads 1)
//	    12     4  header size, uint32 (64 for version 1; a reader skips any
//	              bytes a larger declared header holds)
//	    16     8  manifest offset, uint64 (64: right after the header)
//	    24     8  manifest length, uint64
//	    32    32  SHA-256 of the manifest bytes
//	    64     …  the manifest: an enginepb.Manifest, protobuf, encoded
//	              deterministically so the same engine gives the same bytes
//	     …     …  the sections, each at a multiple of 256, in the order they
//	              were added, with zero padding before each
//
// The manifest (enginepb/engine.proto) holds the trtc version, the target
// ("cpu", "cuda", "tensorrt"), the device architecture ("sm_90", "amd64";
// empty means any device of the target), library versions by name, the
// network name, the inputs and outputs (name, tensor.DataType, dims with -1
// for dynamic ones), the optimization profiles (min/opt/max dims per
// input), free-form metadata, and the section table: name (unique), kind
// (what the bytes are to the target), offset, length, SHA-256.
//
// # Trust
//
// Read and Open treat the bytes as untrusted. They check the magic, the
// format version, that the header, manifest and every section lie inside
// the file, the manifest's SHA-256, that the manifest decodes and describes
// a sane engine, and that sections have unique names, aligned offsets, lie
// after the manifest and do not overlap. Nothing is allocated from a
// declared length before it is checked against the file size. Section
// contents are hashed when first read (Section) or all at once (Verify);
// SectionReader reads nothing and checks nothing. Every problem is a
// diag.EngineCorrupt error that says what is wrong and where, except an
// unknown format version, which is diag.EngineIncompatible, like the
// target, device and library mismatches CheckCompatible reports.
package engine
