package cuda

// Index arithmetic of the generated kernels. A kernel maps each linear
// output index to the offset of an element of each operand through that
// operand's strides over the output's dims. Division is the cost of it:
// one 64-bit division is tens of instructions, so the metadata is made
// cheap to use on the host, once per shape plan:
//   - dims that every operand walks the same way collapse into one
//     (a same-shape add of [32,128,3072] is one dim, a bias over the
//     last axis two), so kernels divide once or twice, not per dim;
//   - each operand gets an index mode, so the common cases do no
//     division at all (same layout as the output, or one scalar);
//   - kernels switch to 32-bit arithmetic when every offset fits.

// Index modes of a kernel operand, read once per thread.
const (
	indexSame    = 0 // the operand is laid out like the output: offset = i
	indexScalar  = 1 // one element, broadcast: offset = 0
	indexStrided = 2 // offset through the strides
	indexInRow   = 3 // normalization's scale and bias: the offset within the normalized row
)

// fits32 is the largest element count (and offset) the 32-bit paths
// handle.
const fits32 = 1<<31 - 1

// collapseDims merges adjacent dims that every stride set walks as one
// (stride[k] == stride[k+1]*dims[k+1], which holds for contiguous runs and
// for runs that all broadcast) and drops dims of size 1. It returns the
// new dims and one stride set per input set; rank 0 comes out as [1].
func collapseDims(dims []int64, strides ...[]int64) ([]int64, [][]int64) {
	var cd []int64
	cs := make([][]int64, len(strides))
	for k := range dims {
		if dims[k] == 1 {
			continue
		}
		if n := len(cd); n > 0 {
			merge := true
			for j, s := range strides {
				if cs[j][n-1] != s[k]*dims[k] {
					merge = false
					break
				}
			}
			if merge {
				cd[n-1] *= dims[k]
				for j, s := range strides {
					cs[j][n-1] = s[k]
				}
				continue
			}
		}
		cd = append(cd, dims[k])
		for j, s := range strides {
			cs[j] = append(cs[j], s[k])
		}
	}
	if len(cd) == 0 {
		cd = []int64{1}
		for j := range cs {
			cs[j] = []int64{0}
		}
	}
	return cd, cs
}

// indexMode is the mode of an operand with these (collapsed) strides
// over dims.
func indexMode(dims, strides []int64) int64 {
	scalar, same := true, true
	want := contiguous(dims)
	for k := range dims {
		if dims[k] == 1 {
			continue
		}
		if strides[k] != 0 {
			scalar = false
		}
		if strides[k] != want[k] {
			same = false
		}
	}
	switch {
	case same:
		return indexSame
	case scalar:
		return indexScalar
	}
	return indexStrided
}

// broadcastStrides are the strides of an input of dims in over the
// output's dims: 0 where it broadcasts. Inputs have the output's rank
// (TensorRT's rule); a shorter one is aligned to the right.
func broadcastStrides(out, in []int64) []int64 {
	r := len(out)
	strides := make([]int64, r)
	s := int64(1)
	for k := r - 1; k >= 0; k-- {
		d := int64(1)
		if k-(r-len(in)) >= 0 {
			d = in[k-(r-len(in))]
		}
		if d != 1 {
			strides[k] = s
		}
		s *= d
	}
	return strides
}

// offsetOf is the kernels' offset(i, r, d, s) in Go, for tests and for
// checking metadata on the host.
func offsetOf(i int64, dims, strides []int64) int64 {
	var o int64
	for k := len(dims) - 1; k >= 0; k-- {
		c := i % dims[k]
		i /= dims[k]
		o += c * strides[k]
	}
	return o
}
