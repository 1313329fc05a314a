package onnx

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

func tp(name string, dt onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims}
}

// typeCase is one ONNX element type: data given both as raw_data bytes
// (written out by hand, little-endian) and through its typed field, and the
// trtc tensor both must decode to (dtype and bytes, also by hand).
type typeCase struct {
	dt      onnxpb.TensorProto_DataType
	raw     []byte
	typed   func(*onnxpb.TensorProto)
	want    tensor.DataType
	wantRaw []byte
}

var typeCases = []typeCase{
	{onnxpb.TensorProto_FLOAT,
		[]byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f}, // 1, -2, 0.5
		func(p *onnxpb.TensorProto) { p.FloatData = []float32{1, -2, 0.5} },
		tensor.Float32, []byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f}},
	{onnxpb.TensorProto_UINT8,
		[]byte{0, 200, 255},
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0, 200, 255} },
		tensor.UInt8, []byte{0, 200, 255}},
	{onnxpb.TensorProto_INT8,
		[]byte{0x7f, 0xfb, 0x80}, // 127, -5, -128
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{127, -5, -128} },
		tensor.Int8, []byte{0x7f, 0xfb, 0x80}},
	{onnxpb.TensorProto_UINT16,
		[]byte{0x01, 0x00, 0xff, 0xff, 0x00, 0x80}, // 1, 65535, 32768
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{1, 65535, 32768} },
		tensor.Int32, []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0, 0x00, 0x80, 0, 0}},
	{onnxpb.TensorProto_INT16,
		[]byte{0xff, 0xff, 0xff, 0x7f, 0x00, 0x80}, // -1, 32767, -32768
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{-1, 32767, -32768} },
		tensor.Int32, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0x00, 0x80, 0xff, 0xff}},
	{onnxpb.TensorProto_INT32,
		[]byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80, 0x07, 0x00, 0x00, 0x00}, // -1, MinInt32, 7
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{-1, math.MinInt32, 7} },
		tensor.Int32, []byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80, 0x07, 0x00, 0x00, 0x00}},
	{onnxpb.TensorProto_INT64,
		[]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // -2, 2^32, MaxInt64
		func(p *onnxpb.TensorProto) { p.Int64Data = []int64{-2, 1 << 32, math.MaxInt64} },
		tensor.Int64, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
	{onnxpb.TensorProto_BOOL,
		[]byte{1, 0, 7}, // any non-zero byte is true
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{1, 0, 1} },
		tensor.Bool, []byte{1, 0, 1}},
	{onnxpb.TensorProto_FLOAT16,
		[]byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38}, // 1, -2, 0.5 as binary16
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0x3c00, 0xc000, 0x3800} },
		tensor.Float16, []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38}},
	{onnxpb.TensorProto_DOUBLE,
		[]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f}, // 1, -2, 0.5
		func(p *onnxpb.TensorProto) { p.DoubleData = []float64{1, -2, 0.5} },
		tensor.Float32, []byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f}},
	{onnxpb.TensorProto_UINT32,
		[]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 5, 0, 0, 0}, // MaxUint32, 0, 5
		func(p *onnxpb.TensorProto) { p.Uint64Data = []uint64{math.MaxUint32, 0, 5} },
		tensor.Int64, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0}},
	{onnxpb.TensorProto_UINT64,
		[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}, // MaxInt64, 0, 9
		func(p *onnxpb.TensorProto) { p.Uint64Data = []uint64{math.MaxInt64, 0, 9} },
		tensor.Int64, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}},
	{onnxpb.TensorProto_BFLOAT16,
		[]byte{0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f}, // 1, -2, 0.5 as bfloat16
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0x3f80, 0xc000, 0x3f00} },
		tensor.BFloat16, []byte{0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f}},
	{onnxpb.TensorProto_FLOAT8E4M3FN,
		[]byte{0x38, 0xc0, 0x30}, // 1, -2, 0.5 as E4M3FN (bias 7)
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0x38, 0xc0, 0x30} },
		tensor.FP8E4M3, []byte{0x38, 0xc0, 0x30}},
	{onnxpb.TensorProto_INT4,
		[]byte{0xf7, 0x08}, // 7, -1, -8 packed low nibble first
		func(p *onnxpb.TensorProto) { p.Int32Data = []int32{0xf7, 0x08} },
		tensor.Int4, []byte{0xf7, 0x08}},
}

func checkTensor(t *testing.T, got *tensor.Tensor, dt tensor.DataType, shape []int64, raw []byte) {
	t.Helper()
	if got.DType() != dt {
		t.Errorf("dtype %v, want %v", got.DType(), dt)
	}
	if s := got.Shape(); len(s) != len(shape) || (len(s) > 0 && s[0] != shape[0]) {
		t.Errorf("shape %v, want %v", s, shape)
	}
	b := got.Bytes()
	if len(b) != len(raw) {
		t.Fatalf("bytes %x, want %x", b, raw)
	}
	for i := range b {
		if b[i] != raw[i] {
			t.Fatalf("bytes %x, want %x", b, raw)
		}
	}
}

func TestTensorFromProtoEveryType(t *testing.T) {
	for _, c := range typeCases {
		t.Run(c.dt.String(), func(t *testing.T) {
			p := tp("x", c.dt, 3)
			p.RawData = c.raw
			got, err := TensorFromProto(p, "")
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, got, c.want, []int64{3}, c.wantRaw)

			q := tp("x", c.dt, 3)
			c.typed(q)
			got, err = TensorFromProto(q, "")
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, got, c.want, []int64{3}, c.wantRaw)

			// Through the wire too: a proto2 file may carry the typed
			// field packed or not, and an empty raw_data is still "set".
			var back onnxpb.TensorProto
			if err := proto.Unmarshal(marshal(t, q), &back); err != nil {
				t.Fatal(err)
			}
			got, err = TensorFromProto(&back, "")
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, got, c.want, []int64{3}, c.wantRaw)

			if dt, err := DataTypeFromProto(int32(c.dt)); err != nil || dt != c.want {
				t.Errorf("DataTypeFromProto(%v) = %v, %v; want %v", c.dt, dt, err, c.want)
			}
		})
	}
}

func TestTensorFromProtoDoubleRounds(t *testing.T) {
	// 1 + 2^-30 is not a float32; it rounds to 1 (0x3f800000). 1e300
	// overflows float32 to +Inf (0x7f800000).
	p := tp("d", onnxpb.TensorProto_DOUBLE, 2)
	p.DoubleData = []float64{1 + 1.0/(1<<30), 1e300}
	got, err := TensorFromProto(p, "")
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Float32, []int64{2}, []byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x7f})
}

func TestTensorFromProtoScalarAndEmpty(t *testing.T) {
	s := tp("s", onnxpb.TensorProto_INT64)
	s.Int64Data = []int64{42}
	got, err := TensorFromProto(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Rank() != 0 || got.Len() != 1 || got.Int64s()[0] != 42 {
		t.Errorf("scalar = %v %v, want rank 0 [42]", got, got.Int64Values())
	}
	e := tp("e", onnxpb.TensorProto_FLOAT, 2, 0, 3)
	got, err = TensorFromProto(e, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 0 || got.Rank() != 3 {
		t.Errorf("empty = %v, want shape [2 0 3]", got)
	}
}

func TestTensorFromProtoErrors(t *testing.T) {
	unsupported := []onnxpb.TensorProto_DataType{
		onnxpb.TensorProto_STRING, onnxpb.TensorProto_COMPLEX64, onnxpb.TensorProto_COMPLEX128,
		onnxpb.TensorProto_FLOAT8E4M3FNUZ, onnxpb.TensorProto_FLOAT8E5M2, onnxpb.TensorProto_FLOAT8E5M2FNUZ,
		onnxpb.TensorProto_UINT4, onnxpb.TensorProto_FLOAT4E2M1,
	}
	for _, dt := range unsupported {
		p := tp("bad_"+dt.String(), dt, 1)
		p.RawData = []byte{0, 0, 0, 0, 0, 0, 0, 0}
		_, err := TensorFromProto(p, "")
		wantErr(t, err, diag.UnsupportedAttr, "bad_"+dt.String(), dt.String())
		_, err = DataTypeFromProto(int32(dt))
		wantErr(t, err, diag.UnsupportedAttr, dt.String())
	}
	for _, code := range []int32{0, 99, -1} {
		_, err := TensorFromProto(&onnxpb.TensorProto{Name: proto.String("u"), DataType: proto.Int32(code)}, "")
		wantErr(t, err, diag.InvalidFile, `"u"`)
	}

	big := tp("big", onnxpb.TensorProto_UINT64, 1)
	big.Uint64Data = []uint64{math.MaxInt64 + 1}
	_, err := TensorFromProto(big, "")
	wantErr(t, err, diag.UnsupportedAttr, `"big"`, "9223372036854775808")
	big.Uint64Data = nil
	big.RawData = []byte{0, 0, 0, 0, 0, 0, 0, 0x80}
	_, err = TensorFromProto(big, "")
	wantErr(t, err, diag.UnsupportedAttr, `"big"`, "9223372036854775808")

	u32 := tp("u32", onnxpb.TensorProto_UINT32, 1)
	u32.Uint64Data = []uint64{1 << 32}
	_, err = TensorFromProto(u32, "")
	wantErr(t, err, diag.InvalidFile, `"u32"`, "does not fit")

	i8 := tp("i8", onnxpb.TensorProto_INT8, 2)
	i8.Int32Data = []int32{1, 200}
	_, err = TensorFromProto(i8, "")
	wantErr(t, err, diag.InvalidFile, `"i8"`, "200")

	short := tp("short", onnxpb.TensorProto_FLOAT, 2, 2)
	short.RawData = make([]byte, 12)
	_, err = TensorFromProto(short, "")
	wantErr(t, err, diag.InvalidFile, `"short"`, "16 bytes", "12")

	few := tp("few", onnxpb.TensorProto_FLOAT, 4)
	few.FloatData = []float32{1, 2}
	_, err = TensorFromProto(few, "")
	wantErr(t, err, diag.InvalidFile, `"few"`, "float_data", "4")

	wrongField := tp("wf", onnxpb.TensorProto_FLOAT, 2)
	wrongField.Int32Data = []int32{1, 2}
	_, err = TensorFromProto(wrongField, "")
	wantErr(t, err, diag.InvalidFile, `"wf"`, "no data")

	neg := tp("neg", onnxpb.TensorProto_FLOAT, 2, -1)
	_, err = TensorFromProto(neg, "")
	wantErr(t, err, diag.InvalidFile, `"neg"`, "non-negative")

	overflow := tp("ovf", onnxpb.TensorProto_FLOAT, 1<<40, 1<<40)
	_, err = TensorFromProto(overflow, "")
	wantErr(t, err, diag.InvalidFile, `"ovf"`)

	// Claims 2^40 elements and carries none: an error, with nothing allocated.
	huge := tp("huge", onnxpb.TensorProto_FLOAT, 1<<20, 1<<20)
	allocs := testing.AllocsPerRun(1, func() { _, err = TensorFromProto(huge, "") })
	wantErr(t, err, diag.InvalidFile, `"huge"`, "no data")
	if allocs > 20 {
		t.Errorf("rejecting a huge tensor took %v allocations", allocs)
	}
	huger := tp("huger", onnxpb.TensorProto_FLOAT, 1<<21, 1<<20)
	_, err = TensorFromProto(huger, "")
	wantErr(t, err, diag.UnsupportedAttr, `"huger"`, "limit")

	seg := tp("seg", onnxpb.TensorProto_FLOAT, 1)
	seg.Segment = &onnxpb.TensorProto_Segment{Begin: proto.Int64(0), End: proto.Int64(1)}
	seg.FloatData = []float32{1}
	_, err = TensorFromProto(seg, "")
	wantErr(t, err, diag.UnsupportedAttr, `"seg"`, "segment")

	_, err = TensorFromProto(nil, "")
	wantErr(t, err, diag.InvalidArgument)
}

func TestTensorToProtoRoundTrip(t *testing.T) {
	for _, c := range typeCases {
		if c.dt == onnxpb.TensorProto_DOUBLE || c.dt == onnxpb.TensorProto_INT16 || c.dt == onnxpb.TensorProto_UINT16 || c.dt == onnxpb.TensorProto_UINT32 || c.dt == onnxpb.TensorProto_UINT64 {
			continue // widened types come back as the wider type
		}
		src, err := tensor.FromBytes(c.want, []int64{3}, append([]byte{}, c.wantRaw...))
		if err != nil {
			t.Fatal(err)
		}
		p := TensorToProto(src, "t")
		if p.GetName() != "t" || p.GetDataType() != int32(c.dt) {
			t.Errorf("%v: name %q type %v, want t %v", c.want, p.GetName(), p.GetDataType(), c.dt)
		}
		var back onnxpb.TensorProto
		if err := proto.Unmarshal(marshal(t, p), &back); err != nil {
			t.Fatal(err)
		}
		got, err := TensorFromProto(&back, "")
		if err != nil {
			t.Fatal(err)
		}
		checkTensor(t, got, c.want, []int64{3}, c.wantRaw)
	}
	if TensorToProto(nil, "x") != nil {
		t.Error("TensorToProto(nil) != nil")
	}
}

func TestLoadTensorFile(t *testing.T) {
	dir := t.TempDir()
	p := tp("in", onnxpb.TensorProto_INT32, 2)
	p.Int32Data = []int32{-3, 4}
	path := filepath.Join(dir, "input_0.pb")
	if err := os.WriteFile(path, marshal(t, p), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTensorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Int32, []int64{2}, []byte{0xfd, 0xff, 0xff, 0xff, 4, 0, 0, 0})

	bad := filepath.Join(dir, "bad.pb")
	if err := os.WriteFile(bad, []byte{0x0a, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadTensorFile(bad)
	wantErr(t, err, diag.InvalidFile, "bad.pb")

	s := tp("str", onnxpb.TensorProto_STRING, 1)
	s.StringData = [][]byte{[]byte("hello")}
	strPath := filepath.Join(dir, "str.pb")
	if err := os.WriteFile(strPath, marshal(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadTensorFile(strPath)
	wantErr(t, err, diag.UnsupportedAttr, "str.pb", `"str"`, "STRING")
}
