package cpu

import (
	"sync"

	"github.com/trtc/trtc/tensor"
)

// Helpers shared by the float32 fast paths of the hot kernels (convolution,
// scale, activation, elementwise, pooling).

// perfOutput builds an output of type dt from freshly computed float32
// values. A Float32 output takes ownership of vals instead of copying them,
// which saves one full pass over every large activation; other types round
// on store exactly as tensor.FromFloat32s does.
func perfOutput(dt tensor.DataType, shape []int64, vals []float32) (*tensor.Tensor, error) {
	if dt == tensor.Float32 {
		return tensor.FromFloat32(shape, vals)
	}
	return tensor.FromFloat32s(dt, shape, vals)
}

// perfScratchPool recycles large float32 work buffers (im2col matrices)
// between layers and runs: allocating them fresh costs a clear of several
// MiB per convolution that the kernel immediately overwrites anyway.
var perfScratchPool sync.Pool

// perfGetScratch returns a buffer of n float32 values with undefined
// contents; give it back with perfPutScratch when done.
func perfGetScratch(n int) *[]float32 {
	if p, ok := perfScratchPool.Get().(*[]float32); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]float32, n)
	return &s
}

// perfPutScratch makes a buffer from perfGetScratch available again.
func perfPutScratch(p *[]float32) { perfScratchPool.Put(p) }
