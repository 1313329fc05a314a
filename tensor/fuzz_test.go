package tensor

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// Seed corpora: valid files of several types written by the writers and by
// hand, plus truncated copies of each.

func npySeeds(f *testing.F) {
	var files [][]byte
	for _, x := range []*Tensor{
		mustF32([]int64{2, 3}, 1, 2, 3, 4, 5, 6),
		mustT(FromFloat64s(Float16, []int64{3}, []float64{1, -2, 0.5})),
		mustT(FromInt64s(Int8, []int64{2, 1}, []int64{-1, 5})),
		mustT(FromInt64s(Int64, nil, []int64{-9})),
		mustT(FromInt64s(Int32, []int64{0, 3}, nil)),
		mustT(FromBool([]int64{2}, []bool{true, false})),
		mustT(FromBytes(UInt8, []int64{1, 1, 2}, []byte{1, 2})),
	} {
		var b bytes.Buffer
		if err := WriteNPY(&b, x); err != nil {
			f.Fatal(err)
		}
		files = append(files, b.Bytes())
	}
	files = append(files, npyF32x23(),
		npyFile(2, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", make([]byte, 32)),
		npyFile(3, "{'descr': '<i4', 'fortran_order': True, 'shape': (1, 2, 2)}", make([]byte, 16)),
		npyFile(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3L,), }", []byte{0, 2, 1}),
		npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }", make([]byte, 10)),
	)
	for _, file := range files {
		f.Add(file)
		f.Add(file[:len(file)/2])
		f.Add(file[:len(file)-1])
	}
}

func mustT(t *Tensor, err error) *Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

func mustF32(shape []int64, vals ...float32) *Tensor { return mustT(FromFloat32(shape, vals)) }

// checkTensor verifies the invariants any successfully read tensor must hold.
func checkTensor(t *testing.T, x *Tensor) {
	t.Helper()
	if !x.DType().Valid() {
		t.Fatalf("invalid dtype %v", x.DType())
	}
	n := x.Len()
	if n < 0 || int64(len(x.Bytes())) != x.DType().ByteSize(n) {
		t.Fatalf("%v has %d bytes", x, len(x.Bytes()))
	}
	if x.DType() == Bool && slices.ContainsFunc(x.Bytes(), func(b byte) bool { return b > 1 }) {
		t.Fatalf("bool tensor holds %v", x.Bytes())
	}
	if n <= 1<<16 {
		x.Float64s() // every element readable
	}
}

func FuzzReadNPY(f *testing.F) {
	npySeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadNPY(bytes.NewReader(data))
		if err != nil {
			if x != nil {
				t.Fatal("tensor returned with an error")
			}
			return
		}
		checkTensor(t, x)
		// What was read must survive a write and a second read unchanged.
		var b bytes.Buffer
		if err := WriteNPY(&b, x); err != nil {
			t.Fatalf("WriteNPY of a tensor ReadNPY returned: %v", err)
		}
		y, err := ReadNPY(&b)
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if y.DType() != x.DType() || !slices.Equal(y.Shape(), x.Shape()) || !bytes.Equal(y.Bytes(), x.Bytes()) {
			t.Fatalf("round trip changed %v into %v", x, y)
		}
	})
}

func stSeeds(f *testing.F) {
	var files [][]byte
	for _, set := range []map[string]*Tensor{
		{"w": mustF32([]int64{2, 2}, 1, 2, 3, 4), "b": mustT(FromInt64s(Int8, nil, []int64{-2}))},
		{"h": mustT(FromFloat64s(Float16, []int64{2}, []float64{1, 2})), "bf": mustT(FromFloat64s(BFloat16, []int64{1}, []float64{3})),
			"e": mustT(FromFloat64s(FP8E4M3, []int64{3}, []float64{1, 2, 448})), "z": New(Float32, 0, 3)},
		{"i": mustT(FromInt64s(Int64, []int64{2}, []int64{1, -1})), "j": mustT(FromInt64s(Int32, []int64{1}, []int64{7})),
			"u": mustT(FromBytes(UInt8, []int64{2}, []byte{1, 2})), "q": mustT(FromBool([]int64{1}, []bool{true}))},
	} {
		var b bytes.Buffer
		if err := WriteSafetensors(&b, set, map[string]string{"format": "pt"}); err != nil {
			f.Fatal(err)
		}
		files = append(files, b.Bytes())
	}
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5))
	files = append(files, stHand(),
		stFile(`{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"BOOL","shape":[1],"data_offsets":[8,9]}}`, append(f64, 3)),
		stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[1,5]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 5)),
		stFile(`{}`, nil),
	)
	for _, file := range files {
		f.Add(file)
		f.Add(file[:len(file)/2])
		f.Add(file[:len(file)-1])
	}
}

func FuzzReadSafetensors(f *testing.F) {
	stSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ReadSafetensors(data)
		if err != nil {
			if st != nil {
				t.Fatal("result returned with an error")
			}
			return
		}
		if len(st.Names) != len(st.Tensors) {
			t.Fatalf("%d names, %d tensors", len(st.Names), len(st.Tensors))
		}
		for _, name := range st.Names {
			checkTensor(t, st.Tensors[name])
		}
		var b bytes.Buffer
		if err := WriteSafetensors(&b, st.Tensors, st.Metadata); err != nil {
			t.Fatalf("WriteSafetensors of what was read: %v", err)
		}
		st2, err := ReadSafetensors(b.Bytes())
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if len(st2.Tensors) != len(st.Tensors) || len(st2.Metadata) != len(st.Metadata) {
			t.Fatalf("round trip changed the counts")
		}
		for name, x := range st.Tensors {
			y := st2.Tensors[name]
			if y == nil || y.DType() != x.DType() || !slices.Equal(y.Shape(), x.Shape()) || !bytes.Equal(y.Bytes(), x.Bytes()) {
				t.Fatalf("round trip changed %q: %v into %v", name, x, y)
			}
		}
		for k, v := range st.Metadata {
			if st2.Metadata[k] != v {
				t.Fatalf("round trip changed metadata %q", k)
			}
		}
	})
}
