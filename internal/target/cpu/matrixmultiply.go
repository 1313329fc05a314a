package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerMatrixMultiply, runMatrixMultiply) }

func runMatrixMultiply(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	ml := l.(*dsl.MatrixMultiplyLayer)
	a, b := in[0], in[1]
	s, code, err := dsl.MatMulShapeOf(a.Shape(), ml.Operation(0), b.Shape(), ml.Operation(1))
	if err != nil {
		return nil, layerErr(l, code, "at run time: %v", err)
	}
	out := make([]float32, tensor.Volume(s.Out))
	matmulBatched(s, a.AsFloat32(), b.AsFloat32(), out)
	t, err := tensor.FromFloat32s(a.DType(), s.Out, out)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}

// matmulBatched computes every product of s into out (row-major output,
// batch-major). Vector operands are 1×K rows (input 0) or K×1 columns
// (input 1), which is how they lie in memory, so no copy is needed.
func matmulBatched(s dsl.MatMulShape, a, b, out []float32) {
	m, n, k := int(s.M), int(s.N), int(s.K)
	batch := []int64(s.Batch)
	nb := int(tensor.Volume(batch))
	if nb == 0 || m == 0 || n == 0 {
		return
	}
	sa := broadcastStrides(s.BatchA, batch)
	sb := broadcastStrides(s.BatchB, batch)
	bs := strides(batch)
	lda, ldb := k, n
	if s.TransA {
		lda = m
	}
	if s.TransB {
		ldb = k
	}
	matA, matB := m*k, k*n
	// Small products gain from running several batches at once; large ones
	// are already spread over the cores by sgemm.
	minChunk := max(1, (1<<16)/max(1, m*n*k))
	parallelFor(nb, minChunk, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var oa, ob int64
			rem := int64(i)
			for d := range batch {
				idx := rem / bs[d]
				rem %= bs[d]
				oa += idx * sa[d]
				ob += idx * sb[d]
			}
			pa := a[int(oa)*matA : int(oa)*matA+matA]
			pb := b[int(ob)*matB : int(ob)*matB+matB]
			sgemm(s.TransA, s.TransB, m, n, k, 1, pa, lda, pb, ldb, 0, out[i*m*n:(i+1)*m*n], n)
		}
	})
}
