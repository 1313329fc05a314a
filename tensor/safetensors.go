package tensor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON header (an object mapping tensor names to
// {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
// "__metadata__" object of string values), then the byte buffer. Offsets are
// relative to the start of the byte buffer; the tensors must cover it
// exactly, without gaps or overlaps. Writers pad the header with spaces so
// the buffer starts 8-byte aligned.

// stMaxHeader is the header size limit of the reference implementation.
const stMaxHeader = 100_000_000

var stTypes = map[string]DataType{
	"F32": Float32, "F16": Float16, "BF16": BFloat16, "F8_E4M3": FP8E4M3,
	"I8": Int8, "U8": UInt8, "I32": Int32, "I64": Int64, "BOOL": Bool,
	"F64": Float32, // narrowed: TensorRT has no float64
}

const stSupported = "F32, F64 (read as F32), F16, BF16, F8_E4M3, I8, U8, I32, I64, BOOL"

// Safetensors is the content of a safetensors file.
type Safetensors struct {
	// Names lists the tensor names in the order of the file's header.
	Names []string
	// Tensors maps each name to its tensor.
	Tensors map[string]*Tensor
	// Metadata is the header's "__metadata__" object (nil when absent).
	Metadata map[string]string
}

// LoadSafetensors reads a safetensors file; see ReadSafetensors. The tensors
// share the file's buffer.
func LoadSafetensors(path string) (*Safetensors, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := ReadSafetensors(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// ReadSafetensors parses a safetensors file held in data. Tensors alias
// data where their bytes are suitably aligned (the caller must not modify
// data afterwards); misaligned ones and converted ones (F64 narrowed to
// Float32, BOOL bytes other than 0 or 1) are copies.
//
// The file is validated as the reference implementation does: header length
// within the file and under 100 MB, a UTF-8 JSON object whose entries each
// have exactly dtype, shape and data_offsets, offsets within the buffer with
// begin <= end and end-begin equal to the size the dtype and shape imply,
// and the tensors covering the byte buffer exactly. Names must be unique.
func ReadSafetensors(data []byte) (*Safetensors, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > stMaxHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, stMaxHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the %d-byte file", n, len(data))
	}
	hdr := data[8 : 8+n]
	buf := data[8+n:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, errors.New("safetensors: header does not start with '{'")
	}
	if !utf8.Valid(hdr) {
		return nil, errors.New("safetensors: header is not valid UTF-8")
	}
	entries, meta, err := parseSTHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}

	// Coverage: sorted by offsets, each tensor starts where the previous
	// one ended and the last ends at the end of the buffer.
	order := make([]*stEntry, len(entries))
	copy(order, entries)
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].begin != order[j].begin {
			return order[i].begin < order[j].begin
		}
		return order[i].end < order[j].end
	})
	pos := int64(0)
	for _, e := range order {
		if e.begin != pos {
			if e.begin < pos {
				return nil, fmt.Errorf("safetensors: tensor %q (bytes %d to %d) overlaps the previous tensor, which ends at %d", e.name, e.begin, e.end, pos)
			}
			return nil, fmt.Errorf("safetensors: gap in the byte buffer: bytes %d to %d belong to no tensor (next tensor %q starts at %d)", pos, e.begin, e.name, e.begin)
		}
		pos = e.end
	}
	if pos != int64(len(buf)) {
		if pos > int64(len(buf)) {
			return nil, fmt.Errorf("safetensors: tensors need %d bytes of data but the buffer after the header has %d (file truncated?)", pos, len(buf))
		}
		return nil, fmt.Errorf("safetensors: %d bytes at the end of the byte buffer belong to no tensor", int64(len(buf))-pos)
	}

	st := &Safetensors{Tensors: make(map[string]*Tensor, len(entries)), Metadata: meta}
	for _, e := range entries {
		t, err := e.tensor(buf[e.begin:e.end:e.end])
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		st.Names = append(st.Names, e.name)
		st.Tensors[e.name] = t
	}
	return st, nil
}

type stEntry struct {
	name       string
	dtypeName  string
	dtype      DataType
	shape      []int64
	begin, end int64
}

// tensor builds the tensor from its bytes, converting or copying where
// needed.
func (e *stEntry) tensor(b []byte) (*Tensor, error) {
	switch {
	case e.dtypeName == "F64":
		out := make([]byte, len(b)/2)
		for i := 0; i+8 <= len(b); i += 8 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))
			binary.LittleEndian.PutUint32(out[i/2:], math.Float32bits(float32(v)))
		}
		b = out
	case e.dtype == Bool && slices.ContainsFunc(b, func(c byte) bool { return c > 1 }):
		out := make([]byte, len(b))
		for i, c := range b {
			if c != 0 {
				out[i] = 1
			}
		}
		b = out
	}
	return FromBytes(e.dtype, e.shape, b) // copies misaligned bytes
}

// parseSTHeader walks the header JSON with a token decoder so that
// duplicate names are detected and the header order is kept.
func parseSTHeader(hdr []byte) ([]*stEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, err
	}
	var entries []*stEntry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("name %q appears twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if meta, err = parseSTMetadata(dec); err != nil {
				return nil, nil, fmt.Errorf("__metadata__: %w", err)
			}
			continue
		}
		e, err := parseSTEntry(dec, name)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		entries = append(entries, e)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, nil, err
	}
	// Only padding may follow the object.
	rest := hdr[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("unexpected data after the JSON object: %q", clip(rest))
	}
	return entries, meta, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, got %v", d, tok)
	}
	return nil
}

func parseSTMetadata(dec *json.Decoder) (map[string]string, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("must be an object of strings: %w", err)
	}
	meta := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if _, dup := meta[k]; dup {
			return nil, fmt.Errorf("key %q appears twice", k)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("value of %q is %v, not a string", k, tokString(tok))
		}
		meta[k] = v
	}
	return meta, expectDelim(dec, '}')
}

func tokString(tok json.Token) string {
	if d, ok := tok.(json.Delim); ok {
		if d == '{' {
			return "an object"
		}
		return "an array"
	}
	return fmt.Sprintf("%v", tok)
}

func parseSTEntry(dec *json.Decoder, name string) (*stEntry, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("must be an object with dtype, shape and data_offsets: %w", err)
	}
	e := &stEntry{name: name}
	var offsets []int64
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if seen[k] {
			return nil, fmt.Errorf("field %q appears twice", k)
		}
		seen[k] = true
		switch k {
		case "dtype":
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			s, ok := tok.(string)
			if !ok {
				return nil, fmt.Errorf("dtype is %v, not a string", tokString(tok))
			}
			dt, ok := stTypes[s]
			if !ok {
				return nil, fmt.Errorf("unsupported dtype %q (supported: %s)", s, stSupported)
			}
			e.dtypeName, e.dtype = s, dt
		case "shape":
			if e.shape, err = parseSTInts(dec, "shape"); err != nil {
				return nil, err
			}
		case "data_offsets":
			if offsets, err = parseSTInts(dec, "data_offsets"); err != nil {
				return nil, err
			}
			if len(offsets) != 2 {
				return nil, fmt.Errorf("data_offsets has %d values, want [begin, end]", len(offsets))
			}
		default:
			return nil, fmt.Errorf("unexpected field %q (want dtype, shape and data_offsets)", k)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[k] {
			return nil, fmt.Errorf("missing field %q", k)
		}
	}
	e.begin, e.end = offsets[0], offsets[1]
	if e.begin > e.end {
		return nil, fmt.Errorf("data_offsets [%d, %d]: begin is after end", e.begin, e.end)
	}
	n, err := checkShape(e.dtype, e.shape)
	if err != nil {
		return nil, err
	}
	item := int64(e.dtype.Bits() / 8)
	if e.dtypeName == "F64" {
		item = 8
	}
	if want := n * item; e.end-e.begin != want {
		return nil, fmt.Errorf("%s of shape %v needs %d bytes, data_offsets [%d, %d] give %d", e.dtypeName, shapeFmt(e.shape), want, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// parseSTInts reads a JSON array of non-negative integers.
func parseSTInts(dec *json.Decoder, what string) ([]int64, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, fmt.Errorf("%s must be an array of integers: %w", what, err)
	}
	vals := []int64{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s contains %v, not an integer", what, tokString(tok))
		}
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s contains %s, not a non-negative integer that fits int64", what, num)
		}
		vals = append(vals, v)
	}
	return vals, expectDelim(dec, ']')
}

// SaveSafetensors writes a safetensors file; see WriteSafetensors.
func SaveSafetensors(path string, tensors map[string]*Tensor, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := WriteSafetensors(bw, tensors, metadata); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteSafetensors writes tensors (in sorted name order in the header; in
// the byte buffer by decreasing element size, then name) and metadata
// (omitted when empty) in safetensors format, padding the header with spaces
// to a multiple of 8 bytes. Int4 has
// no safetensors dtype and is rejected: convert it first (t.Convert(tensor.Int8)).
func WriteSafetensors(w io.Writer, tensors map[string]*Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if t == nil {
			return fmt.Errorf("safetensors: tensor %q is nil", name)
		}
		if name == "__metadata__" {
			return errors.New("safetensors: a tensor cannot be named __metadata__")
		}
		if stName(t.dtype) == "" {
			return fmt.Errorf("safetensors: tensor %q: %v has no safetensors dtype; convert it first (t.Convert(tensor.Int8))", name, t.dtype)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	// The byte buffer holds wider types first (then by name), as the
	// reference writer does, so every tensor starts aligned to its element
	// size and readers can use the bytes in place.
	layout := slices.Clone(names)
	sort.SliceStable(layout, func(i, j int) bool {
		return tensors[layout[i]].dtype.Bits() > tensors[layout[j]].dtype.Bits()
	})
	begin := make(map[string]int64, len(names))
	off := int64(0)
	for _, name := range layout {
		begin[name] = off
		off += int64(len(tensors[name].data))
	}

	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // encoding/json sorts map keys
		if err != nil {
			return fmt.Errorf("safetensors: metadata: %w", err)
		}
		h.WriteString(`"__metadata__":`)
		h.Write(m)
	}
	for i, name := range names {
		t := tensors[name]
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		h.Write(k)
		shape := make([]string, len(t.shape))
		for j, d := range t.shape {
			shape[j] = strconv.FormatInt(d, 10)
		}
		b := begin[name]
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}`, stName(t.dtype), strings.Join(shape, ","), b, b+int64(len(t.data)))
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(h.Len()))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for _, name := range layout {
		if _, err := w.Write(tensors[name].data); err != nil {
			return err
		}
	}
	return nil
}

func stName(dt DataType) string {
	switch dt {
	case Float32:
		return "F32"
	case Float16:
		return "F16"
	case BFloat16:
		return "BF16"
	case FP8E4M3:
		return "F8_E4M3"
	case Int8:
		return "I8"
	case UInt8:
		return "U8"
	case Int32:
		return "I32"
	case Int64:
		return "I64"
	case Bool:
		return "BOOL"
	}
	return ""
}
