package onnx

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// extTensor is a FLOAT tensor of dims stored in an external file.
func extTensor(name string, dims []int64, kv ...string) *onnxpb.TensorProto {
	p := tp(name, onnxpb.TensorProto_FLOAT, dims...)
	p.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	for i := 0; i+1 < len(kv); i += 2 {
		p.ExternalData = append(p.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return p
}

// writeWeights writes 16 bytes of junk then the float32s 1, 2, 3, 4 (by
// hand, little-endian) into dir/name.
func writeWeights(t *testing.T, dir, name string) {
	t.Helper()
	data := append([]byte("0123456789abcdef"),
		0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40)
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	writeWeights(t, dir, "sub/w.bin")
	want := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40}
	sum := sha1.Sum(want)

	cases := []*onnxpb.TensorProto{
		extTensor("w", []int64{2, 2}, "location", "sub/w.bin", "offset", "16", "length", "16"),
		extTensor("w", []int64{2, 2}, "location", "sub/w.bin", "offset", "16"),
		extTensor("w", []int64{2, 2}, "location", "sub/../sub/w.bin", "offset", "16", "checksum", hex.EncodeToString(sum[:])),
	}
	for i, p := range cases {
		got, err := TensorFromProto(p, dir)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkTensor(t, got, tensor.Float32, []int64{2, 2}, want)
	}
	// From the start of the file: the first four bytes "0123" as float32.
	got, err := TensorFromProto(extTensor("w", []int64{1}, "location", "sub/w.bin", "length", "4"), dir)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Float32, []int64{1}, []byte("0123"))

	// Through a model file: LoadModel's Dir is where external data is found.
	mp := reluModel(8, opset("", 13))
	mp.Graph.Initializer[0] = extTensor("W", []int64{4}, "location", "sub/w.bin", "offset", "16", "length", "16")
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, marshal(t, mp), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err = TensorFromProto(m.Proto.GetGraph().GetInitializer()[0], m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Float32, []int64{4}, want)
}

func TestExternalDataErrors(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	writeWeights(t, dir, "w.bin")
	writeWeights(t, parent, "outside.bin")
	if err := os.Symlink(filepath.Join(parent, "outside.bin"), filepath.Join(dir, "escape.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("w.bin", filepath.Join(dir, "inside.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(parent, "outside.bin")
	four := []int64{4}
	cases := []struct {
		p         *onnxpb.TensorProto
		dir       string
		fragments []string
	}{
		{extTensor("dotdot", four, "location", "../outside.bin", "offset", "16"), dir, []string{`"dotdot"`, "relative path inside"}},
		{extTensor("dotdot2", four, "location", "a/../../outside.bin", "offset", "16"), dir, []string{`"dotdot2"`, "relative path inside"}},
		{extTensor("abs", four, "location", abs, "offset", "16"), dir, []string{`"abs"`, "relative path inside"}},
		{extTensor("symlink", four, "location", "escape.bin", "offset", "16"), dir, []string{`"symlink"`, "escape.bin"}},
		{extTensor("symdir", four, "location", "up/outside.bin", "offset", "16"), dir, []string{`"symdir"`, "up/outside.bin"}},
		{extTensor("missing", four, "location", "nope.bin"), dir, []string{`"missing"`, "not found"}},
		{extTensor("noloc", four, "offset", "16"), dir, []string{`"noloc"`, "no external data location"}},
		{extTensor("empty", four, "location", ""), dir, []string{`"empty"`, "no external data location"}},
		{extTensor("isdir", four, "location", "adir"), dir, []string{`"isdir"`}},
		{extTensor("offset", four, "location", "w.bin", "offset", "20"), dir, []string{`"offset"`, "bytes 20 to 36", "32 bytes"}},
		{extTensor("offset2", four, "location", "w.bin", "offset", "1000"), dir, []string{`"offset2"`, "32 bytes"}},
		{extTensor("length", four, "location", "w.bin", "length", "8"), dir, []string{`"length"`, "length is 8", "need 16"}},
		{extTensor("length2", []int64{100}, "location", "w.bin", "length", "400"), dir, []string{`"length2"`, "400", "32 bytes"}},
		{extTensor("negoff", four, "location", "w.bin", "offset", "-1"), dir, []string{`"negoff"`, "offset"}},
		{extTensor("badlen", four, "location", "w.bin", "length", "x"), dir, []string{`"badlen"`, "length"}},
		{extTensor("hugeoff", four, "location", "w.bin", "offset", strconv.FormatInt(1<<62, 10)), dir, []string{`"hugeoff"`}},
		{extTensor("sum", four, "location", "w.bin", "offset", "16", "checksum", "00"), dir, []string{`"sum"`, "checksum"}},
		{extTensor("nodir", four, "location", "w.bin", "offset", "16"), "", []string{`"nodir"`, "directory"}},
	}
	for _, c := range cases {
		_, err := TensorFromProto(c.p, c.dir)
		code := diag.InvalidFile
		if c.dir == "" {
			code = diag.InvalidArgument
		}
		wantErr(t, err, code, c.fragments...)
	}
	// A symlink that stays inside the directory is fine.
	got, err := TensorFromProto(extTensor("inside", four, "location", "inside.bin", "offset", "16"), dir)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Float32, four, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40})
}
