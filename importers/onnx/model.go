package onnx

import (
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// The IR versions trtc reads. IR version 3 introduced operator sets
// (opset_import), which the importer needs to pick operator semantics;
// version 10 is the newest whose schema trtc's onnx.proto describes.
const (
	MinIRVersion = 3
	MaxIRVersion = 10
)

// Model is a parsed ONNX model.
type Model struct {
	Proto *onnxpb.ModelProto
	// Dir is the directory external tensor data is read from (the model
	// file's directory); empty when the model has no file.
	Dir string
	// Opsets maps an operator set domain to its imported version. The
	// default domain is "" (a model's "ai.onnx" is stored as "").
	Opsets map[string]int64
	// IRVersion is the model's ir_version, between MinIRVersion and MaxIRVersion.
	IRVersion int64
}

// LoadModel reads and parses an .onnx file; external tensor data is looked
// up next to it.
func LoadModel(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "cannot read ONNX model %s", path)
	}
	m, err := ParseModel(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseModel decodes a serialized ModelProto and checks what every later
// step relies on: a supported IR version, a graph, and one version per
// operator set domain. dir is where external tensor data lives ("" if the
// model has none). Tensors are not decoded here; see TensorFromProto.
func ParseModel(data []byte, dir string) (*Model, error) {
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, mp); err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "not a valid ONNX model (protobuf decoding failed)")
	}
	if mp.IrVersion == nil {
		return nil, diag.Errorf(diag.InvalidFile, "the model has no ir_version; it is probably not an ONNX model")
	}
	ir := mp.GetIrVersion()
	if ir < MinIRVersion || ir > MaxIRVersion {
		return nil, diag.Errorf(diag.UnsupportedAttr, "ONNX IR version %d is not supported (trtc reads IR versions %d to %d)", ir, MinIRVersion, MaxIRVersion)
	}
	if mp.GetGraph() == nil {
		return nil, diag.Errorf(diag.InvalidFile, "the model has no graph")
	}
	opsets, err := opsetMap(mp.GetOpsetImport())
	if err != nil {
		return nil, err
	}
	if len(opsets) == 0 {
		return nil, diag.Errorf(diag.InvalidFile, "the model imports no operator set (opset_import is required from IR version 3 on)")
	}
	m := &Model{Proto: mp, Dir: dir, Opsets: opsets, IRVersion: ir}
	if err := m.checkFunctions(); err != nil {
		return nil, err
	}
	return m, nil
}

// NormalizeDomain maps the default operator set's two spellings to "".
func NormalizeDomain(domain string) string {
	if domain == "ai.onnx" {
		return ""
	}
	return domain
}

// opsetMap turns opset_import entries into a map, rejecting a domain
// imported at two different versions (the IR allows one version per domain).
func opsetMap(imports []*onnxpb.OperatorSetIdProto) (map[string]int64, error) {
	out := make(map[string]int64, len(imports))
	for _, op := range imports {
		d := NormalizeDomain(op.GetDomain())
		v := op.GetVersion()
		if v < 1 {
			return nil, diag.Errorf(diag.InvalidFile, "operator set %q has version %d; versions start at 1", domainName(d), v)
		}
		if old, ok := out[d]; ok && old != v {
			return nil, diag.Errorf(diag.InvalidFile, "operator set %q is imported twice, at versions %d and %d", domainName(d), old, v)
		}
		out[d] = v
	}
	return out, nil
}

// domainName spells a normalized domain for messages.
func domainName(d string) string {
	if d == "" {
		return "ai.onnx"
	}
	return d
}
