package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// kernel computes a layer's outputs from its input values. in[i] is nil for
// an unset optional input. Kernels return errors (layerErr) for problems
// only visible at run time, such as an index out of range.
type kernel func(x *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error)

var kernels = map[dsl.LayerType]kernel{}

// register installs the kernel for a layer kind; called from init.
func register(kind dsl.LayerType, k kernel) {
	if _, dup := kernels[kind]; dup {
		panic(fmt.Sprintf("cpu: two kernels registered for %v", kind))
	}
	kernels[kind] = k
}

// Supported reports whether the CPU engine has a kernel for a layer kind.
func Supported(kind dsl.LayerType) bool { _, ok := kernels[kind]; return ok }

// parallelFor runs fn over [0, n) split into contiguous chunks, one per core.
// Work below minChunk items per goroutine runs inline.
func parallelFor(n, minChunk int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if minChunk < 1 {
		minChunk = 1
	}
	if w := n / minChunk; w < workers {
		workers = w
	}
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// strides returns row-major strides of a shape.
func strides(shape []int64) []int64 {
	s := make([]int64, len(shape))
	acc := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// broadcastStrides returns strides for reading a tensor of shape in as if it
// had shape out (same rank): broadcast axes get stride 0.
func broadcastStrides(in, out []int64) []int64 {
	s := strides(in)
	for i := range in {
		if in[i] == 1 && out[i] != 1 {
			s[i] = 0
		}
	}
	return s
}

// broadcastIndex maps every flat index of out to flat indices of inputs
// whose shapes broadcast to it. Returns one index slice per input.
func broadcastIndex(out []int64, ins ...[]int64) [][]int64 {
	n := tensor.Volume(out)
	res := make([][]int64, len(ins))
	st := make([][]int64, len(ins))
	for k, s := range ins {
		res[k] = make([]int64, n)
		st[k] = broadcastStrides(s, out)
	}
	idx := make([]int64, len(out))
	off := make([]int64, len(ins))
	for i := int64(0); i < n; i++ {
		for k := range ins {
			res[k][i] = off[k]
		}
		// Increment the multi-index and the offsets.
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			for k := range ins {
				off[k] += st[k][d]
			}
			if idx[d] < out[d] {
				break
			}
			for k := range ins {
				off[k] -= st[k][d] * idx[d]
			}
			idx[d] = 0
		}
	}
	return res
}

// sameShape reports whether two shapes are identical.
func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wrapInt stores integer arithmetic results the way the GPU does: int32
// (and narrower) results wrap instead of saturating.
func wrapInt(dt tensor.DataType, v int64) int64 {
	switch dt {
	case tensor.Int32:
		return int64(int32(v))
	case tensor.Int8:
		return int64(int8(v))
	case tensor.UInt8:
		return int64(uint8(v))
	}
	return v
}
