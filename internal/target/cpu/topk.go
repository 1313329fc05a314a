package cpu

import (
	"cmp"
	"math"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerTopK, runTopK) }

func runTopK(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	tl := l.(*dsl.TopKLayer)
	x := in[0]
	shape := x.Shape()
	axis, err := dsl.TopKAxis(tl.ReduceAxes(), len(shape))
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "%v", err)
	}
	k := int64(tl.K())
	if len(in) > 1 && in[1] != nil { // in is shorter when k was never set
		k = in[1].Int64At(0)
	}
	if k < 1 || k > dsl.TopKMaxK || k > shape[axis] {
		return nil, layerErr(l, diag.OutOfRange, "k is %d; it must be in [1, %d] and at most the %d elements of axis %d", k, dsl.TopKMaxK, shape[axis], axis)
	}
	outer, n, inner := softmaxSplit(shape, axis)
	outShape := append([]int64{}, shape...)
	outShape[axis] = k
	vals := tensor.New(x.DType(), outShape...)
	idxs := tensor.New(tl.IndicesType(), outShape...)
	kk := int(k)
	maxFirst := tl.Operation() == dsl.TopKMax
	var fv []float64
	var iv []int64
	if x.DType().IsFloat() {
		fv = x.Float64s()
	} else {
		iv = x.Int64Values()
	}
	order := make([]int, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			for j := range order {
				order[j] = j
			}
			// A stable sort keeps equal values in index order.
			if fv != nil {
				slices.SortStableFunc(order, func(a, b int) int {
					return topkCompareFloat(fv[base+a*inner], fv[base+b*inner], maxFirst)
				})
			} else {
				slices.SortStableFunc(order, func(a, b int) int {
					c := cmp.Compare(iv[base+a*inner], iv[base+b*inner])
					if maxFirst {
						c = -c
					}
					return c
				})
			}
			obase := int64(o*kk*inner + i)
			for j := 0; j < kk; j++ {
				src := int64(base + order[j]*inner)
				dst := obase + int64(j*inner)
				if fv != nil {
					vals.SetFloat64(dst, fv[src])
				} else {
					vals.SetInt64(dst, iv[src])
				}
				idxs.SetInt64(dst, int64(order[j]))
			}
		}
	}
	return []*tensor.Tensor{vals, idxs}, nil
}

// topkCompareFloat orders a before b when it ranks first: larger first for
// TopKMax, smaller first for TopKMin, with NaN the largest value.
func topkCompareFloat(a, b float64, maxFirst bool) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	var c int
	switch {
	case an && bn:
		c = 0
	case an:
		c = 1
	case bn:
		c = -1
	default:
		c = cmp.Compare(a, b)
	}
	if maxFirst {
		c = -c
	}
	return c
}
