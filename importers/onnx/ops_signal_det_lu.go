package onnx

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// sigDetLU is the determinant of [*, M, M] matrices (M >= 2, static) by
// Gaussian elimination with partial pivoting, unrolled over the M columns
// as LAPACK's getrf (which numpy's det uses) orders it: per column, TopK
// finds the largest |a| at or below the diagonal, a GatherElement swaps
// that row up (negating the determinant when it moves), the pivot joins
// the product, and the rows below subtract their multiple of the pivot
// row. A zero pivot (singular matrix) makes the product 0; its multipliers
// use a pivot of 1 so no inf or NaN appears.
func sigDetLU(c *nodeCtx, x *dsl.Tensor, m int64) *dsl.Tensor {
	net := c.Net()
	r := x.Rank()
	rowAx, colAx := int64(r-2), int64(r-1)
	dt := x.Type()
	lead := sigOnes(r - 2)
	col := func(v []int64, dt tensor.DataType) *dsl.Tensor { // [1.., M, 1]
		t, _ := tensor.FromInt64s(dt, append(append([]int64{}, lead...), m, 1), v)
		return c.Constant(t)
	}
	iota := make([]int64, m)
	for i := range iota {
		iota[i] = int64(i)
	}
	rows := col(iota, dsl.Int32)
	zerosRow, _ := tensor.FromInt64s(dsl.Int32, append(append([]int64{}, lead...), 1, m), make([]int64, m))
	spread := c.Constant(zerosRow) // adds to a [.., M, 1] index to make it [.., M, M]
	slice := func(t *dsl.Tensor, axes dsl.Dims, start dsl.Dims) *dsl.Tensor {
		ones := make(dsl.Dims, len(axes))
		for i := range ones {
			ones[i] = 1
		}
		l := net.AddSlice(t, start, ones, ones)
		l.SetAxes(axes)
		return l.Output(0)
	}
	var det *dsl.Tensor
	a := x
	for k := int64(0); k < m; k++ {
		if k < m-1 {
			// Pivot search among rows k..M-1: rows above read -1.
			below := make([]int64, m)
			for i := range below {
				if int64(i) >= k {
					below[i] = 1
				}
			}
			absCol := redUnary(c, slice(a, dsl.Dims{colAx}, dsl.Dims{k}), dsl.UnaryAbs)
			cand := redSelect(c, col(below, dsl.Bool), absCol, redScalar(c, dt, -1, r))
			p := net.AddTopK(cand, dsl.TopKMax, 1, 1<<uint(rowAx)).Output(1) // [.., 1, 1] Int32
			kT := redScalar(c, dsl.Int32, float64(k), r)
			isK := make([]int64, m)
			isK[k] = 1
			idx := redSelect(c, col(isK, dsl.Bool), p, redSelect(c, redEW(c, rows, p, dsl.ElementWiseEqual), kT, rows))
			g := net.AddGatherV2(a, redEW(c, idx, spread, dsl.ElementWiseSum), dsl.GatherElement)
			g.SetGatherAxis(int(rowAx))
			a = g.Output(0)
			swapped := redUnary(c, redEW(c, p, kT, dsl.ElementWiseEqual), dsl.UnaryNot)
			if det != nil {
				det = redSelect(c, swapped, redUnary(c, det, dsl.UnaryNeg), det)
			} else {
				det = redSelect(c, swapped, redScalar(c, dt, -1, r), redScalar(c, dt, 1, r))
			}
		}
		pivot := slice(a, dsl.Dims{rowAx, colAx}, dsl.Dims{k, k})
		if det == nil {
			det = pivot
		} else {
			det = redEW(c, det, pivot, dsl.ElementWiseProd)
		}
		if k == m-1 {
			break
		}
		zero := redEW(c, pivot, redScalar(c, dt, 0, r), dsl.ElementWiseEqual)
		safe := redSelect(c, zero, redScalar(c, dt, 1, r), pivot)
		strictlyBelow := make([]int64, m)
		for i := range strictlyBelow {
			if int64(i) > k {
				strictlyBelow[i] = 1
			}
		}
		maskT, _ := tensor.FromFloat64s(dt, append(append([]int64{}, lead...), m, 1), sigInts2Floats(strictlyBelow))
		mask := c.Constant(maskT)
		factor := redEW(c, redEW(c, slice(a, dsl.Dims{colAx}, dsl.Dims{k}), safe, dsl.ElementWiseDiv), mask, dsl.ElementWiseProd)
		a = redEW(c, a, redEW(c, factor, slice(a, dsl.Dims{rowAx}, dsl.Dims{k}), dsl.ElementWiseProd), dsl.ElementWiseSub)
	}
	return det // [*, 1, 1]
}

func sigInts2Floats(v []int64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
