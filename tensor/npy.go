package tensor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and a
// minor version byte, the header length (uint16 little-endian in version
// 1.0, uint32 in 2.0 and 3.0), then the header: a Python dict literal with
// exactly the keys 'descr', 'fortran_order' and 'shape', padded with spaces
// and ended by '\n'. Versions 1.0 and 2.0 store the header as latin-1, 3.0 as
// UTF-8. The raw element bytes follow.

const npyMagic = "\x93NUMPY"

// npyMaxHeader bounds the header a reader accepts; numpy itself refuses
// headers over 10000 bytes by default, real headers are under 200.
const npyMaxHeader = 1 << 20

// npyDescr maps a supported numpy type string (byte order stripped) to its
// tensor type and item size in the file.
var npyDescr = map[string]struct {
	dt   DataType
	size int
}{
	"f4": {Float32, 4},
	"f8": {Float32, 8}, // float64 is narrowed: TensorRT has no float64
	"f2": {Float16, 2},
	"i1": {Int8, 1},
	"u1": {UInt8, 1},
	"i4": {Int32, 4},
	"i8": {Int64, 8},
	"b1": {Bool, 1},
}

const npySupported = "'<f4', '<f8' (read as float32), '<f2', '|i1', '|u1', '<i4', '<i8', '|b1' and their '>' big-endian forms"

// LoadNPY reads a .npy file; see ReadNPY.
func LoadNPY(path string) (*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadNPY(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// SaveNPY writes t to a .npy file; see WriteNPY.
func SaveNPY(path string, t *Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := WriteNPY(bw, t); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadNPY reads one array in .npy format (versions 1.0, 2.0 and 3.0).
//
// Supported element types are float32, float16, int8, uint8, int32, int64
// and bool, little- or big-endian (big-endian data is byte-swapped).
// float64 ('<f8') is read as Float32, rounding to nearest even, because
// TensorRT has no float64 type. Arrays stored in Fortran order are transposed
// to row-major. Bool bytes other than 0 read as 1. Bytes after the array are
// not read.
//
// The reader never trusts the header's size: the data is read in growing
// chunks, so a header that claims far more data than the stream holds fails
// with an error after reading what is there.
func ReadNPY(r io.Reader) (*Tensor, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: reading magic: %w", noEOF(err))
	}
	if string(pre[:6]) != npyMagic {
		return nil, fmt.Errorf("npy: not a .npy file (magic %q, want %q)", pre[:6], npyMagic)
	}
	major, minor := pre[6], pre[7]
	var hlen uint32
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		hlen = uint32(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		hlen = binary.LittleEndian.Uint32(b[:])
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if minor != 0 {
		return nil, fmt.Errorf("npy: unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if hlen > npyMaxHeader {
		return nil, fmt.Errorf("npy: header length %d exceeds the limit of %d bytes", hlen, npyMaxHeader)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("npy: reading %d-byte header: %w", hlen, noEOF(err))
	}
	if major == 3 && !utf8.Valid(hdr) {
		return nil, errors.New("npy: version 3.0 header is not valid UTF-8")
	}
	h, err := parseNPYHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("npy: header %q: %w", clip(hdr), err)
	}
	n, err := checkShape(h.dtype, h.shape)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	nbytes := n * int64(h.itemSize)
	data, err := readAtMost(r, nbytes)
	if err != nil {
		return nil, fmt.Errorf("npy: reading data of shape %v (%d bytes): %w", shapeFmt(h.shape), nbytes, err)
	}
	if h.bigEndian && h.itemSize > 1 {
		swapBytes(data, h.itemSize)
	}
	if h.itemSize == 8 && h.dtype == Float32 { // float64 narrowed to float32
		out := make([]byte, 4*n)
		for i := int64(0); i < n; i++ {
			v := math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(v)))
		}
		data = out
	}
	if h.dtype == Bool {
		for i, b := range data {
			if b != 0 {
				data[i] = 1
			}
		}
	}
	if h.fortran && n > 0 {
		data = fortranToC(data, h.shape, h.dtype.Bits()/8)
	}
	return FromBytes(h.dtype, h.shape, data)
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF: a .npy stream that
// ends before its header is truncated, not empty.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// readAtMost reads exactly n bytes, growing the buffer as data arrives so
// that memory stays proportional to what the stream really holds.
func readAtMost(r io.Reader, n int64) ([]byte, error) {
	const first = 1 << 20
	buf := make([]byte, 0, min(n, first))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, fmt.Errorf("file truncated after %d of %d data bytes", len(buf), n)
		}
	}
	return buf, nil
}

func swapBytes(data []byte, size int) {
	for i := 0; i+size <= len(data); i += size {
		e := data[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}

// fortranToC reorders column-major elements of the given byte size into
// row-major order.
func fortranToC(src []byte, shape []int64, size int) []byte {
	// Dimensions of size 1 do not affect the layout; dropping them keeps the
	// index walk below O(elements) for shapes such as (n, 1, 1, ..., 1).
	var dims []int64
	for _, d := range shape {
		if d != 1 {
			dims = append(dims, d)
		}
	}
	if len(dims) <= 1 {
		return src
	}
	shape = dims
	rank := len(shape)
	fstride := make([]int64, rank) // element strides of the Fortran layout
	s := int64(1)
	for i := 0; i < rank; i++ {
		fstride[i] = s
		s *= shape[i]
	}
	dst := make([]byte, len(src))
	idx := make([]int64, rank)
	off := int64(0) // Fortran element offset of idx
	n := int64(len(src) / size)
	for c := int64(0); c < n; c++ {
		copy(dst[c*int64(size):(c+1)*int64(size)], src[off*int64(size):(off+1)*int64(size)])
		// Advance idx in row-major order, keeping off in step.
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			off += fstride[d]
			if idx[d] < shape[d] {
				break
			}
			off -= idx[d] * fstride[d]
			idx[d] = 0
		}
	}
	return dst
}

// WriteNPY writes t in .npy format version 1.0 (2.0 if the header does not
// fit version 1.0's 16-bit length) with the same bytes numpy.save writes:
// little-endian, C order, header padded so the data starts on a 64-byte
// boundary.
//
// BFloat16, FP8E4M3 and Int4 have no numpy dtype; WriteNPY rejects them
// rather than write bytes numpy would misread: convert first, e.g.
// t.Convert(tensor.Float32).
func WriteNPY(w io.Writer, t *Tensor) error {
	if t == nil {
		return errors.New("npy: nil tensor")
	}
	var descr string
	switch t.dtype {
	case Float32:
		descr = "<f4"
	case Float16:
		descr = "<f2"
	case Int8:
		descr = "|i1"
	case UInt8:
		descr = "|u1"
	case Int32:
		descr = "<i4"
	case Int64:
		descr = "<i8"
	case Bool:
		descr = "|b1"
	default:
		return fmt.Errorf("npy: %v has no numpy dtype; convert the tensor first (t.Convert(tensor.Float32), or Int8 for int4)", t.dtype)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for i, d := range t.shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(d, 10))
	}
	if len(t.shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString("), }")
	hdr := sb.String()
	// Byte-identical to numpy.save (recent versions): spare spaces so that
	// axis 0 can grow to 21 digits in place, then padding (never empty) and
	// '\n' so that magic+version+length+header is a multiple of 64.
	if len(t.shape) > 0 {
		hdr += strings.Repeat(" ", max(0, 21-len(strconv.FormatInt(t.shape[0], 10))))
	}
	version, lenBytes := byte(1), 2
	hlen := len(hdr) + 1
	pad := 64 - (8+lenBytes+hlen)%64
	if hlen+pad > math.MaxUint16 {
		version, lenBytes = 2, 4
		pad = 64 - (8+lenBytes+hlen)%64
	}
	hdr += strings.Repeat(" ", pad) + "\n"

	var pre bytes.Buffer
	pre.WriteString(npyMagic)
	pre.WriteByte(version)
	pre.WriteByte(0)
	if version == 1 {
		binary.Write(&pre, binary.LittleEndian, uint16(len(hdr)))
	} else {
		binary.Write(&pre, binary.LittleEndian, uint32(len(hdr)))
	}
	pre.WriteString(hdr)
	if _, err := w.Write(pre.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(t.data)
	return err
}
