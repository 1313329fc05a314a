package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stFile builds a safetensors file from a header string (padded with spaces
// to 8 bytes) and a byte buffer.
func stFile(header string, buf []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, buf...)
}

// stHand is a safetensors file written out by hand: an F32 [2] tensor
// (1, -2) at bytes 0..8 and an I8 scalar (-2) at byte 8, plus metadata.
func stHand() []byte {
	hdr := `{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I8","shape":[],"data_offsets":[8,9]}}`
	// 136 bytes of JSON, already a multiple of 8: no padding.
	file := []byte{136, 0, 0, 0, 0, 0, 0, 0}
	file = append(file, hdr...)
	return append(file, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0xFE)
}

func TestReadSafetensorsHandWritten(t *testing.T) {
	if n := len(stHand()); n != 8+136+9 {
		t.Fatalf("hand-built file is %d bytes", n)
	}
	st, err := ReadSafetensors(stHand())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Names, []string{"w", "b"}) {
		t.Errorf("names %v, want header order [w b]", st.Names)
	}
	if st.Metadata["format"] != "pt" || len(st.Metadata) != 1 {
		t.Errorf("metadata %v", st.Metadata)
	}
	w, b := st.Tensors["w"], st.Tensors["b"]
	if w.DType() != Float32 || !slices.Equal(w.Shape(), []int64{2}) || !slices.Equal(w.Float32s(), []float32{1, -2}) {
		t.Errorf("w = %v %v", w, w.Float64s())
	}
	if b.DType() != Int8 || b.Rank() != 0 || !slices.Equal(b.Int64Values(), []int64{-2}) {
		t.Errorf("b = %v %v", b, b.Int64Values())
	}
}

// TestWriteSafetensorsBytes checks the writer's exact output: header keys
// sorted, wider types first in the buffer, header padded to 8 bytes.
func TestWriteSafetensorsBytes(t *testing.T) {
	w, _ := FromFloat32([]int64{2}, []float32{1, -2})
	b, _ := FromInt64s(Int8, nil, []int64{-2})
	var out bytes.Buffer
	if err := WriteSafetensors(&out, map[string]*Tensor{"w": w, "b": b}, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	hdr := `{"__metadata__":{"format":"pt"},"b":{"dtype":"I8","shape":[],"data_offsets":[8,9]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	want := []byte{136, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, hdr...)
	want = append(want, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0xFE)
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("wrote\n%q\nwant\n%q", out.Bytes(), want)
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := sampleTensors(t)
	delete(in, "int4")
	delete(in, "int4_scalar")
	delete(in, "int4_empty")
	delete(in, "int4_1d")
	// Bool holds 0 and 1 only.
	in["weird name \"quoted\" é"], _ = FromBool([]int64{3}, []bool{true, false, true})
	meta := map[string]string{"format": "pt", "note": "a \"quoted\" value"}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, in, meta); err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(buf.Bytes())
	if hl%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", hl)
	}
	st, err := ReadSafetensors(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(st.Names) || len(st.Names) != len(in) {
		t.Errorf("names %v", st.Names)
	}
	for name, x := range in {
		y := st.Tensors[name]
		if y == nil {
			t.Fatalf("%s missing", name)
		}
		if y.DType() != x.DType() || !slices.Equal(y.Shape(), x.Shape()) || !bytes.Equal(y.Bytes(), x.Bytes()) {
			t.Errorf("%s: read back %v % x, wrote %v % x", name, y, y.Bytes(), x, x.Bytes())
		}
		if len(y.Bytes()) > 0 && x.DType() == Float32 {
			y.Float32s() // aligned in place or copied: must not trip checkptr
		}
	}
	if len(st.Metadata) != 2 || st.Metadata["note"] != meta["note"] {
		t.Errorf("metadata %v", st.Metadata)
	}
	// No tensors, no metadata.
	buf.Reset()
	if err := WriteSafetensors(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err = ReadSafetensors(buf.Bytes())
	if err != nil || len(st.Names) != 0 || st.Metadata != nil {
		t.Fatalf("empty file: %v %v", st, err)
	}
}

func TestSafetensorsWriteErrors(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSafetensors(&b, map[string]*Tensor{"q": New(Int4, 2)}, nil); err == nil || !strings.Contains(err.Error(), "Convert") {
		t.Errorf("int4: %v", err)
	}
	if err := WriteSafetensors(&b, map[string]*Tensor{"q": nil}, nil); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil: %v", err)
	}
	if err := WriteSafetensors(&b, map[string]*Tensor{"__metadata__": New(Int8, 1)}, nil); err == nil {
		t.Error("tensor named __metadata__ accepted")
	}
	if err := WriteSafetensors(failWriter{}, map[string]*Tensor{"a": New(Int8, 1)}, nil); err == nil {
		t.Error("write error lost")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReadSafetensorsConversions(t *testing.T) {
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))
	f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(-1e300))
	file := stFile(`{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]},"h":{"dtype":"BF16","shape":[1],"data_offsets":[18,20]},"e":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[20,21]},"z":{"dtype":"F32","shape":[0],"data_offsets":[21,21]},"f":{"dtype":"F32","shape":[1],"data_offsets":[21,25]}}`,
		append(f64, 0, 5, 0x80, 0x3F, 0x38, 0x00, 0x00, 0x40, 0x40))
	orig := slices.Clone(file)
	st, err := ReadSafetensors(file)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Tensors["d"]; d.DType() != Float32 || !slices.Equal(d.Float32s(), []float32{float32(0.1), float32(math.Inf(-1))}) {
		t.Errorf("F64 read as %v %v", d, d.Float64s())
	}
	if b := st.Tensors["b"]; !slices.Equal(b.Bytes(), []byte{0, 1}) {
		t.Errorf("BOOL bytes %v, want [0 1]", b.Bytes())
	}
	if !bytes.Equal(file, orig) {
		t.Error("ReadSafetensors modified its input")
	}
	if h := st.Tensors["h"]; h.DType() != BFloat16 || h.AsFloat32()[0] != 1 {
		t.Errorf("BF16 %v", h.AsFloat32())
	}
	if e := st.Tensors["e"]; e.DType() != FP8E4M3 || e.AsFloat32()[0] != 1 {
		t.Errorf("F8_E4M3 %v", e.AsFloat32())
	}
	if z := st.Tensors["z"]; z.Len() != 0 {
		t.Errorf("empty %v", z)
	}
	// f starts at an odd offset: it must have been copied to aligned memory.
	if f := st.Tensors["f"]; f.Float32s()[0] != 3 {
		t.Errorf("misaligned F32 %v", f.Float32s())
	}
}

func TestReadSafetensorsErrors(t *testing.T) {
	ok := `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	buf8 := make([]byte, 8)
	huge := binary.LittleEndian.AppendUint64(nil, 200_000_000)
	past := binary.LittleEndian.AppendUint64(nil, 100)
	cases := []struct {
		name string
		file []byte
		msg  string
	}{
		{"short", []byte{1, 2, 3}, "shorter than the 8-byte header length"},
		{"huge header", append(huge, "{}"...), "exceeds the limit"},
		{"header past end", append(past, "{}"...), "runs past the end"},
		{"no brace", stFile(`[]`, nil), "does not start with '{'"},
		{"empty header", binary.LittleEndian.AppendUint64(nil, 0), "does not start with '{'"},
		{"bad utf8", stFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"bad json", stFile(`{"a":}`, nil), "invalid character"},
		{"truncated json", stFile(`{"a":{"dtype":"F32"`, nil), "EOF"},
		{"trailing data", stFile(`{}x`, nil), "unexpected data after the JSON object"},
		{"entry not object", stFile(`{"a":3}`, nil), "must be an object"},
		{"missing dtype", stFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, buf8), `missing field "dtype"`},
		{"missing shape", stFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, buf8), `missing field "shape"`},
		{"missing offsets", stFile(`{"a":{"dtype":"F32","shape":[2]}}`, buf8), `missing field "data_offsets"`},
		{"unknown field", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, buf8), `unexpected field "x"`},
		{"dup field", stFile(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8), `field "dtype" appears twice`},
		{"dtype not string", stFile(`{"a":{"dtype":3,"shape":[2],"data_offsets":[0,8]}}`, buf8), "not a string"},
		{"unsupported dtype", stFile(`{"a":{"dtype":"U16","shape":[4],"data_offsets":[0,8]}}`, buf8), `unsupported dtype "U16" (supported: F32`},
		{"F8_E5M2", stFile(`{"a":{"dtype":"F8_E5M2","shape":[8],"data_offsets":[0,8]}}`, buf8), "unsupported dtype"},
		{"shape not array", stFile(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`, buf8), "shape must be an array"},
		{"negative dim", stFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, buf8), "non-negative integer"},
		{"float dim", stFile(`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, buf8), "non-negative integer"},
		{"string dim", stFile(`{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, buf8), "not an integer"},
		{"nested dim", stFile(`{"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}`, buf8), "not an integer"},
		{"huge dim", stFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}`, buf8), "fits int64"},
		{"volume overflow", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, buf8), "volume must fit"},
		{"one offset", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`, buf8), "want [begin, end]"},
		{"begin after end", stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, buf8), "begin is after end"},
		{"size mismatch", stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, buf8), "F32 of shape [3] needs 12 bytes, data_offsets [0, 8] give 8"},
		{"F64 size", stFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, buf8), "needs 16 bytes"},
		{"past buffer", stFile(`{`+ok+`}`, buf8[:4]), "need 8 bytes of data but the buffer after the header has 4"},
		{"gap at start", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "gap in the byte buffer: bytes 0 to 4"},
		{"gap at end", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, buf8), "4 bytes at the end"},
		{"overlap", stFile(`{`+ok+`,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "overlaps"},
		{"same range", stFile(`{`+ok+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8), "overlaps"},
		{"duplicate name", stFile(`{`+ok+`,`+ok+`}`, buf8), `name "a" appears twice`},
		{"metadata not object", stFile(`{"__metadata__":[1]}`, nil), "must be an object of strings"},
		{"metadata value", stFile(`{"__metadata__":{"k":1}}`, nil), `value of "k" is 1, not a string`},
		{"metadata nested", stFile(`{"__metadata__":{"k":{}}}`, nil), "an object, not a string"},
		{"metadata dup", stFile(`{"__metadata__":{"k":"a","k":"b"}}`, nil), `key "k" appears twice`},
		{"metadata twice", stFile(`{"__metadata__":{},"__metadata__":{}}`, nil), "appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := ReadSafetensors(c.file)
			if err == nil {
				t.Fatalf("no error, got %+v", st)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestSafetensorsFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	x, _ := FromInt64([]int64{2}, []int64{3, -4})
	if err := SaveSafetensors(p, map[string]*Tensor{"x": x}, nil); err != nil {
		t.Fatal(err)
	}
	st, err := LoadSafetensors(p)
	if err != nil || !slices.Equal(st.Tensors["x"].Int64s(), []int64{3, -4}) {
		t.Fatalf("LoadSafetensors: %v %v", st, err)
	}
	if err := os.WriteFile(p, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSafetensors(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("LoadSafetensors of junk: %v", err)
	}
	if _, err := LoadSafetensors(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadSafetensors of a missing file succeeded")
	}
	if err := SaveSafetensors(filepath.Join(dir, "q"), map[string]*Tensor{"q": New(Int4, 1)}, nil); err == nil {
		t.Error("SaveSafetensors of int4 succeeded")
	}
	if err := SaveSafetensors(filepath.Join(dir, "no", "dir"), nil, nil); err == nil {
		t.Error("SaveSafetensors into a missing directory succeeded")
	}
}

// TestWriteSafetensorsPadding: a 108-byte header gets 4 spaces.
func TestWriteSafetensorsPadding(t *testing.T) {
	x, _ := FromBytes(UInt8, []int64{1}, []byte{7})
	var out bytes.Buffer
	if err := WriteSafetensors(&out, map[string]*Tensor{"x": x, "yy": New(Bool, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	hdr := `{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"yy":{"dtype":"BOOL","shape":[0],"data_offsets":[1,1]}}`
	if len(hdr) != 108 {
		t.Fatalf("test header is %d bytes", len(hdr))
	}
	want := append([]byte{112, 0, 0, 0, 0, 0, 0, 0}, hdr+"    "...)
	want = append(want, 7)
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("wrote\n%q\nwant\n%q", out.Bytes(), want)
	}
}
