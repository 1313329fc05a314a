package tensor

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// npyF32x23 is what numpy.save writes for
// np.arange(1, 7, dtype='<f4').reshape(2, 3), written out by hand: the
// header dict is 59 bytes, followed by 20 spaces of room for axis 0 to grow
// to 21 digits and 38 of padding, then '\n', so that 10 + 118 = 128 is a
// multiple of 64.
func npyF32x23() []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00\x76\x00")
	b.WriteString("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
	b.WriteString(strings.Repeat(" ", 58) + "\n")
	for _, bits := range []uint32{0x3F800000, 0x40000000, 0x40400000, 0x40800000, 0x40A00000, 0x40C00000} {
		b.Write([]byte{byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24)})
	}
	return b.Bytes()
}

// npyFile builds a .npy file of the given version around a header dict.
func npyFile(major byte, header string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(body)
	return b.Bytes()
}

func TestReadNPYHandWritten(t *testing.T) {
	x, err := ReadNPY(bytes.NewReader(npyF32x23()))
	if err != nil {
		t.Fatal(err)
	}
	if x.DType() != Float32 || !slices.Equal(x.Shape(), []int64{2, 3}) {
		t.Fatalf("got %v", x)
	}
	if got := x.Float32s(); !slices.Equal(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("values %v", got)
	}
	var out bytes.Buffer
	if err := WriteNPY(&out, x); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), npyF32x23()) {
		t.Fatalf("WriteNPY wrote\n%q\nwant\n%q", out.Bytes(), npyF32x23())
	}
}

// TestWriteNPYLikeNumpy: more headers as numpy.save writes them, worked out
// by hand from numpy's rules (growth spaces 21 - len(str(shape[0])), padding
// to 64 never empty).
func TestWriteNPYLikeNumpy(t *testing.T) {
	cases := []struct {
		x      *Tensor
		dict   string
		spaces int
	}{
		// 57-byte dict + 20 growth + 40 padding + '\n' = 118.
		{New(Int32, 3), "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", 20 + 40},
		// 55-byte dict, no growth for a scalar: 10 + 56 = 66, padding 62.
		{New(Int64), "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 62},
		// 64-byte dict + 18 growth (axis 0 has 3 digits) + '\n': 10 + 83 = 93, padding 35.
		{New(UInt8, 100, 2, 0), "{'descr': '|u1', 'fortran_order': False, 'shape': (100, 2, 0), }", 18 + 35},
	}
	for _, c := range cases {
		hl := len(c.dict) + c.spaces + 1
		if (10+hl)%64 != 0 {
			t.Fatalf("test case %q: 10 + %d is not a multiple of 64", c.dict, hl)
		}
		want := []byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(hl), byte(hl >> 8)}
		want = append(want, c.dict+strings.Repeat(" ", c.spaces)+"\n"...)
		want = append(want, c.x.Bytes()...)
		var b bytes.Buffer
		if err := WriteNPY(&b, c.x); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("WriteNPY(%v) =\n%q\nwant\n%q", c.x, b.Bytes(), want)
		}
	}
}

func TestReadNPYVersionsAndTypes(t *testing.T) {
	le := func(vals ...uint64) func(size int) []byte {
		return func(size int) []byte {
			var b []byte
			for _, v := range vals {
				for i := 0; i < size; i++ {
					b = append(b, byte(v>>(8*i)))
				}
			}
			return b
		}
	}
	be := func(b []byte, size int) []byte {
		out := slices.Clone(b)
		swapBytes(out, size)
		return out
	}
	f64 := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	cases := []struct {
		name   string
		major  byte
		header string
		body   []byte
		dt     DataType
		shape  []int64
		want   []float64
	}{
		{"v2 f2", 2, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }\n", le(0x3C00, 0xC000)(2), Float16, []int64{2}, []float64{1, -2}},
		{"v3 i4", 3, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,)}", le(1, 0xFFFFFFFF, 7)(4), Int32, []int64{3}, []float64{1, -1, 7}},
		{"i1 <", 1, "{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }", []byte{0x80, 0x7F}, Int8, []int64{2}, []float64{-128, 127}},
		{"i1 |", 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", []byte{0xFF, 3}, Int8, []int64{2}, []float64{-1, 3}},
		{"u1", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }", []byte{0xFF, 3}, UInt8, []int64{1, 2}, []float64{255, 3}},
		{"b1 normalised", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", []byte{0, 1, 7}, Bool, []int64{3}, []float64{0, 1, 1}},
		{"i8", 1, `{"descr": "<i8", "fortran_order": False, "shape": (2,)}`, le(1<<40, math.MaxUint64)(8), Int64, []int64{2}, []float64{1 << 40, -1}},
		{">f4", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be(le(0x3F800000, 0xC0400000)(4), 4), Float32, []int64{2}, []float64{1, -3}},
		{">f2", 1, "{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", []byte{0x3C, 0x00}, Float16, []int64{1}, []float64{1}},
		{">i8", 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", be(le(5)(8), 8), Int64, []int64{1}, []float64{5}},
		{">i4", 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", []byte{0xFF, 0xFF, 0xFF, 0xFE}, Int32, []int64{1}, []float64{-2}},
		{">u1", 1, "{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", []byte{9}, UInt8, []int64{1}, []float64{9}},
		{"f8 narrowed", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64(0.1, 1e300, -2.5), Float32, []int64{3}, []float64{float64(float32(0.1)), math.Inf(1), -2.5}},
		{">f8", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be(f64(0.5), 8), Float32, []int64{1}, []float64{0.5}},
		{"scalar", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le(0x40000000)(4), Float32, nil, []float64{2}},
		{"empty", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", nil, Float32, []int64{0, 5}, nil},
		{"trailing bytes ignored", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", []byte{4, 5, 6}, UInt8, []int64{1}, []float64{4}},
		{"python2 long", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }", []byte{4, 5}, UInt8, []int64{2, 1}, []float64{4, 5}},
		{"fortran", 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", le(1, 4, 2, 5, 3, 6)(4), Int32, []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
		{"fortran f8", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", f64(1, 3, 2, 4), Float32, []int64{2, 2}, []float64{1, 2, 3, 4}},
		{"fortran 1-D", 1, "{'descr': '|u1', 'fortran_order': True, 'shape': (3,), }", []byte{1, 2, 3}, UInt8, []int64{3}, []float64{1, 2, 3}},
		{"key order", 1, "{'shape': (1,), 'fortran_order': False, 'descr': '<i4'}", le(3)(4), Int32, []int64{1}, []float64{3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := ReadNPY(bytes.NewReader(npyFile(c.major, c.header, c.body)))
			if err != nil {
				t.Fatal(err)
			}
			if x.DType() != c.dt || !slices.Equal(x.Shape(), c.shape) && len(c.shape)+x.Rank() > 0 {
				t.Fatalf("got %v, want %v %v", x, c.dt, c.shape)
			}
			if got := x.Float64s(); !slices.Equal(got, c.want) && len(c.want)+len(got) > 0 {
				t.Fatalf("values %v, want %v", got, c.want)
			}
		})
	}
}

// TestReadNPYFortran3D checks the transpose against a naive index loop.
func TestReadNPYFortran3D(t *testing.T) {
	shape := []int64{2, 3, 4}
	f := make([]byte, 24) // f[i + 2*j + 6*k] holds element (i, j, k)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				f[i+2*j+6*k] = byte(100*i + 10*j + k)
			}
		}
	}
	x, err := ReadNPY(bytes.NewReader(npyFile(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }", f)))
	if err != nil {
		t.Fatal(err)
	}
	got := x.Bytes()
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				if v := got[12*i+4*j+k]; v != byte(100*i+10*j+k) {
					t.Fatalf("element (%d,%d,%d) = %d", i, j, k, v)
				}
			}
		}
	}
	if !slices.Equal(x.Shape(), shape) {
		t.Fatal(x)
	}
}

func TestReadNPYErrors(t *testing.T) {
	good := "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"
	body := make([]byte, 4)
	cases := []struct {
		name string
		file []byte
		msg  string
	}{
		{"empty", nil, "reading magic"},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "not a .npy file"},
		{"version 4", npyFile(4, good, body), "unsupported format version 4.0"},
		{"minor version", append([]byte("\x93NUMPY\x01\x01"), npyFile(1, good, body)[8:]...), "version 1.1"},
		{"short length", []byte("\x93NUMPY\x02\x00\x10"), "header length"},
		{"huge header length", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), "exceeds the limit"},
		{"truncated header", npyFile(1, good, nil)[:30], "header"},
		{"not a dict", npyFile(1, "['descr']", body), "expected '{'"},
		{"missing shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False}", body), "missing key 'shape'"},
		{"missing descr", npyFile(1, "{'fortran_order': False, 'shape': (1,)}", body), "missing key 'descr'"},
		{"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", body), "unexpected key \"x\""},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", body), "appears twice"},
		{"unsupported descr", npyFile(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}", body), "unsupported descr \"<u4\" (supported: '<f4'"},
		{"complex descr", npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", body), "unsupported descr"},
		{"structured descr", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", body), "structured dtypes are not supported"},
		{"pipe on f4", npyFile(1, "{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", body), "only valid for one-byte types"},
		{"native order", npyFile(1, "{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}", body), "unsupported byte order"},
		{"fortran not bool", npyFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", body), "expected True or False"},
		{"shape list", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", body), "expected a tuple"},
		{"shape (1)", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", body), "(n,)"},
		{"negative dim", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", body), "non-negative integer"},
		{"float dim", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", body), "expected ',' or ')'"},
		{"dim overflow", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", body), "overflows int64"},
		{"leading zero", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}", body), "leading zero"},
		{"volume overflow", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", body), "volume must fit in int64"},
		{"over the element limit", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627777,)}", body), "more than the limit"},
		{"unterminated string", npyFile(1, "{'descr: '<f4'}", body), "expected ':'"},
		{"unterminated string at end", npyFile(1, "{'descr", body), "unterminated string"},
		{"escape", npyFile(1, "{'de\\scr': '<f4'}", body), "escape"},
		{"missing comma", npyFile(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", body), "expected ',' or '}'"},
		{"trailing text", npyFile(1, good+" x", body), "unexpected text after the header dict"},
		{"unclosed dict", npyFile(1, "{'descr': '<f4', ", body), "expected a quoted string"},
		{"bad utf8 v3", npyFile(3, good+"\xff", body), "not valid UTF-8"},
		{"truncated body", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body), "truncated after 4 of 24 data bytes"},
		{"no body", npyFile(1, good, nil), "truncated after 0 of 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := ReadNPY(bytes.NewReader(c.file))
			if err == nil {
				t.Fatalf("no error, got %v", x)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

// TestReadNPYHugeClaim: a header claiming 2^40 bytes over a 10-byte body
// must fail without allocating anywhere near the claim.
func TestReadNPYHugeClaim(t *testing.T) {
	file := npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }", make([]byte, 10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadNPY(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated after 10 of 1099511627776") {
		t.Fatalf("error %v", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("allocated %d bytes for a 10-byte body", d)
	}
}

// TestReadNPYLargeGrowth reads a body larger than the first chunk, so the
// buffer grows several times.
func TestReadNPYLargeGrowth(t *testing.T) {
	n := int64(3<<20 + 5)
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	x, _ := FromBytes(UInt8, []int64{n}, data)
	var b bytes.Buffer
	if err := WriteNPY(&b, x); err != nil {
		t.Fatal(err)
	}
	// iotest-style one-byte-at-a-time readers are too slow here; a reader
	// returning short reads still exercises ReadFull's loop.
	y, err := ReadNPY(io.MultiReader(bytes.NewReader(b.Bytes()[:1000]), bytes.NewReader(b.Bytes()[1000:])))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(y.Bytes(), data) {
		t.Fatal("data differs")
	}
}

// sampleTensors returns one tensor of every type, plus scalars and empty tensors.
func sampleTensors(t *testing.T) map[string]*Tensor {
	t.Helper()
	m := map[string]*Tensor{}
	vals := []float64{1.5, -2, 0.25, 3, -7, 100}
	for _, dt := range AllTypes {
		x, err := FromFloat64s(dt, []int64{2, 3}, vals)
		if err != nil {
			t.Fatal(err)
		}
		m[dt.String()] = x
		s, _ := FromFloat64s(dt, nil, []float64{-3})
		m[dt.String()+"_scalar"] = s
		m[dt.String()+"_empty"] = New(dt, 0, 4)
		m[dt.String()+"_1d"] = New(dt, 7)
	}
	return m
}

func TestNPYRoundTrip(t *testing.T) {
	for name, x := range sampleTensors(t) {
		var b bytes.Buffer
		err := WriteNPY(&b, x)
		switch x.DType() {
		case BFloat16, FP8E4M3, Int4:
			if err == nil || !strings.Contains(err.Error(), "no numpy dtype") || !strings.Contains(err.Error(), "Convert") {
				t.Errorf("%s: WriteNPY error %v, want one suggesting Convert", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.Len()-len(x.Bytes()) != 128 {
			t.Errorf("%s: header is %d bytes, want 128 (64-byte aligned)", name, b.Len()-len(x.Bytes()))
		}
		y, err := ReadNPY(&b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if y.DType() != x.DType() || !slices.Equal(y.Shape(), x.Shape()) || !bytes.Equal(y.Bytes(), x.Bytes()) {
			t.Errorf("%s: read back %v % x, wrote %v % x", name, y, y.Bytes(), x, x.Bytes())
		}
	}
	if err := WriteNPY(io.Discard, nil); err == nil {
		t.Error("WriteNPY(nil) succeeded")
	}
}

// TestNPYVersion2 writes a header too long for version 1.0's 16-bit length.
func TestNPYVersion2(t *testing.T) {
	shape := make([]int64, 30000)
	for i := range shape {
		shape[i] = 1
	}
	x := New(Int8, shape...)
	var b bytes.Buffer
	if err := WriteNPY(&b, x); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	if raw[6] != 2 || raw[7] != 0 {
		t.Fatalf("version %d.%d, want 2.0", raw[6], raw[7])
	}
	if hl := binary.LittleEndian.Uint32(raw[8:]); (12+hl)%64 != 0 || hl <= math.MaxUint16 {
		t.Fatalf("header length %d", hl)
	}
	y, err := ReadNPY(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if y.Rank() != 30000 || y.Len() != 1 {
		t.Fatal(y)
	}
}

func TestNPYFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npy")
	x, _ := FromInt32([]int64{2}, []int32{3, -4})
	if err := SaveNPY(p, x); err != nil {
		t.Fatal(err)
	}
	y, err := LoadNPY(p)
	if err != nil || !slices.Equal(y.Int32s(), []int32{3, -4}) {
		t.Fatalf("LoadNPY: %v %v", y, err)
	}
	if err := os.WriteFile(p, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNPY(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("LoadNPY of junk: %v", err)
	}
	if _, err := LoadNPY(filepath.Join(dir, "missing.npy")); err == nil {
		t.Error("LoadNPY of a missing file succeeded")
	}
	if err := SaveNPY(filepath.Join(dir, "b.npy"), New(BFloat16, 1)); err == nil {
		t.Error("SaveNPY of bfloat16 succeeded")
	}
	if err := SaveNPY(filepath.Join(dir, "no", "such", "dir.npy"), x); err == nil {
		t.Error("SaveNPY into a missing directory succeeded")
	}
}

// TestReadNPYFortranManyOnes: size-1 dimensions anywhere in a Fortran-order
// shape change nothing and must not make the transpose slow.
func TestReadNPYFortranManyOnes(t *testing.T) {
	dims := strings.Repeat("1, ", 100000)
	hdr := "{'descr': '|u1', 'fortran_order': True, 'shape': (2, " + dims + "3, 1), }"
	x, err := ReadNPY(bytes.NewReader(npyFile(2, hdr, []byte{1, 4, 2, 5, 3, 6})))
	if err != nil {
		t.Fatal(err)
	}
	if x.Rank() != 100003 || !bytes.Equal(x.Bytes(), []byte{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("rank %d, bytes %v", x.Rank(), x.Bytes())
	}
}
