package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// maxSparseDense bounds the dense tensor SparseToDense builds: its size comes
// from dims alone, not from data present in the file, so a tiny model could
// otherwise demand terabytes. 2^28 elements is 1 GiB of float32.
const maxSparseDense = 1 << 28

// SparseToDense expands a sparse tensor into a dense one of shape dims,
// zero where no value is given. Indices (integers) are either [NNZ] linear
// row-major positions or [NNZ, rank] coordinates; every index is bounds
// checked. A position given twice takes the later value. The dense tensor
// may have at most 2^28 elements (diag.UnsupportedAttr above that), since its
// size comes from dims alone and not from data present in the file.
func SparseToDense(sp *onnxpb.SparseTensorProto, dir string) (*tensor.Tensor, error) {
	if sp == nil {
		return nil, diag.Errorf(diag.InvalidArgument, "nil SparseTensorProto")
	}
	name := sp.GetValues().GetName()
	if sp.GetValues() == nil || sp.GetIndices() == nil {
		return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q needs both values and indices", name)
	}
	dims := sp.GetDims()
	total := tensor.Volume(dims)
	if total < 0 {
		return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q has dims %v: dims must be non-negative and their product must fit in int64", name, dims)
	}
	if total > maxSparseDense {
		return nil, diag.Errorf(diag.UnsupportedAttr, "sparse tensor %q has dims %v, %d elements when dense, more than the limit of %d", name, dims, total, maxSparseDense)
	}
	vals, err := TensorFromProto(sp.GetValues(), dir)
	if err != nil {
		return nil, err
	}
	if vals.Rank() != 1 {
		return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q: values must be 1-D [NNZ], got shape %v", name, vals.Shape())
	}
	idx, err := TensorFromProto(sp.GetIndices(), dir)
	if err != nil {
		return nil, err
	}
	if !idx.DType().IsInteger() {
		return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q: indices must be integers, got %v", name, idx.DType())
	}
	nnz, rank := vals.Len(), int64(len(dims))
	linear := idx.Rank() == 1 && idx.Dim(0) == nnz
	coords := idx.Rank() == 2 && idx.Dim(0) == nnz && idx.Dim(1) == rank
	if !linear && !coords {
		return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q: indices have shape %v; with %d values and dims %v they must be [%d] or [%d, %d]", name, idx.Shape(), nnz, dims, nnz, nnz, rank)
	}
	iv := idx.Int64Values()
	pos := make([]int64, nnz)
	for k := range nnz {
		if linear {
			p := iv[k]
			if p < 0 || p >= total {
				return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q: linear index %d of value %d is outside [0, %d)", name, p, k, total)
			}
			pos[k] = p
			continue
		}
		p := int64(0)
		for j, d := range dims {
			c := iv[k*rank+int64(j)]
			if c < 0 || c >= d {
				return nil, diag.Errorf(diag.InvalidFile, "sparse tensor %q: index %d of value %d along axis %d is outside [0, %d)", name, c, k, j, d)
			}
			p = p*d + c
		}
		pos[k] = p
	}
	dense := tensor.New(vals.DType(), dims...)
	if vals.DType() == tensor.Int4 {
		for k, p := range pos {
			dense.SetInt64(p, vals.Int64At(int64(k)))
		}
		return dense, nil
	}
	es := int64(vals.DType().Bits() / 8)
	db, vb := dense.Bytes(), vals.Bytes()
	for k, p := range pos {
		copy(db[p*es:(p+1)*es], vb[int64(k)*es:])
	}
	return dense, nil
}
