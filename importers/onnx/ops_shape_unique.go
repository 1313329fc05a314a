package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Unique is composed from pairwise comparisons. The input is viewed as A
// slices of R elements ([A, R]: the flattened input as [n, 1] without an
// axis, or the input with the axis moved first). An [A, A, R] comparison
// gives, for each pair, whether the slices are equal and which one is
// lexicographically smaller; from those: which slices are first
// occurrences, each slice's unique id (its rank among the unique slices
// when sorted, else the count of first occurrences before its own first
// occurrence), and the position of each unique slice. Memory is O(A²·R):
// meant for the small tensors Unique sees in inference graphs.

func init() {
	register(OpInfo{Op: "Unique", Since: 11, Types: "float32, float16, bfloat16, int32, int64, int8, uint8",
		Restrictions: "O(n²) memory in the number of slices; NaNs are all distinct"}, shReq(1, importUnique))
}

// shIotaOf is [0, 1, ..., n-1] for a [1] Int64 tensor n.
func (c *nodeCtx) shIotaOf(n *dsl.Tensor) *dsl.Tensor {
	if v, ok := n.KnownValues(); ok {
		return c.shIota(v[0])
	}
	f := c.Net().AddFill(nil, dsl.FillLinspace, dsl.Int64)
	f.SetInput(0, n)
	f.SetInput(1, c.shScalarI64(0))
	f.SetInput(2, c.shI64(1))
	return f.Output(0)
}

func importUnique(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	sorted := c.AttrInt("sorted", 1) != 0
	if x.Type() == dsl.Bool {
		return nil, c.Errorf(diag.UnsupportedAttr, "Unique of Bool is not supported (Cast it to an integer type)")
	}
	var view, src *dsl.Tensor // view: [A, R]; src: what Y gathers from
	axis := 0
	if c.HasAttr("axis") {
		a, err := c.shNormAxis(c.AttrInt("axis", 0), r, "axis")
		if err != nil {
			return nil, err
		}
		axis = a
		perm := dsl.Permutation{a}
		for d := 0; d < r; d++ {
			if d != a {
				perm = append(perm, d)
			}
		}
		l := c.Net().AddShuffle(x)
		l.SetFirstTranspose(perm)
		l.SetReshapeDimensions(dsl.Dims{0, -1})
		view, src = l.Output(0), x
	} else {
		src = c.shReshape(x, dsl.Dims{-1})
		view = c.shReshape(src, dsl.Dims{-1, 1})
	}
	vs := c.shShapeOf(view)
	A, R := c.shSlice1(vs, 0, 1), c.shSlice1(vs, 1, 1)
	// Pairwise: xi[i, j, :] = slice i, xj[i, j, :] = slice j.
	aar := c.shConcat(A, A, R)
	xi := c.shSlicePlanned(c.shReshapeTo(view, c.shConcat(A, c.shI64(1), R)), c.shI64(0, 0, 0), aar, c.shI64(1, 0, 1), dsl.SampleStrictBounds).Output(0)
	xj := c.shSlicePlanned(c.shReshapeTo(view, c.shConcat(c.shI64(1), A, R)), c.shI64(0, 0, 0), aar, c.shI64(0, 1, 1), dsl.SampleStrictBounds).Output(0)
	neq := c.shNot(c.ew(xi, xj, dsl.ElementWiseEqual))
	rIota := c.shReshapeTo(c.shIotaOf(R), c.shConcat(c.shI64(1, 1), R))
	Rs := c.shReshape(R, dsl.Dims{})
	fd := c.Net().AddReduce(c.shSelect(neq, rIota, Rs), dsl.ReduceMin, 4, true).Output(0) // [A, A, 1]
	eq := c.ew(fd, Rs, dsl.ElementWiseEqual)                                              // slices i and j are equal
	aIota := c.shIotaOf(A)
	iCol := c.shReshape(aIota, dsl.Dims{-1, 1, 1})
	jRow := c.shReshape(aIota, dsl.Dims{1, -1, 1})
	toI := func(b *dsl.Tensor) *dsl.Tensor { return c.Net().AddCast(b, dsl.Int64).Output(0) }
	sum2 := func(t *dsl.Tensor, op dsl.ReduceOperation) *dsl.Tensor { // over j, to [A]
		return c.shReshape(c.Net().AddReduce(t, op, 2|4, false).Output(0), dsl.Dims{-1})
	}
	earlier := sum2(toI(c.ew(eq, c.ew(jRow, iCol, dsl.ElementWiseLess), dsl.ElementWiseAnd)), dsl.ReduceMax)
	firstI := c.ew(c.shI64(1), earlier, dsl.ElementWiseSub) // [A] 1 for first occurrences
	firstOcc := sum2(c.shSelect(eq, jRow, c.shReshape(A, dsl.Dims{})), dsl.ReduceMin)
	counts := sum2(toI(eq), dsl.ReduceSum)
	var key *dsl.Tensor
	if sorted {
		// lt[i, j]: slice j is lexicographically smaller than slice i.
		fdc := c.ew(fd, c.ew(Rs, c.shScalarI64(1), dsl.ElementWiseSub), dsl.ElementWiseMin)
		gi := c.Net().AddGatherV2(xi, fdc, dsl.GatherElement)
		gi.SetGatherAxis(2)
		gj := c.Net().AddGatherV2(xj, fdc, dsl.GatherElement)
		gj.SetGatherAxis(2)
		lt := c.ew(c.shNot(eq), c.ew(gj.Output(0), gi.Output(0), dsl.ElementWiseLess), dsl.ElementWiseAnd)
		firstJ := c.shReshape(firstI, dsl.Dims{1, -1, 1})
		key = sum2(c.ew(toI(lt), firstJ, dsl.ElementWiseProd), dsl.ReduceSum)
	} else {
		before := c.Net().AddCumulative(firstI, c.shScalarI64(0), dsl.CumulativeSum, true, false).Output(0)
		key = c.Net().AddGather(before, firstOcc, 0).Output(0)
	}
	// pos[p] = the first occurrence i with key[i] == p.
	nU := c.Net().AddReduce(firstI, dsl.ReduceSum, 1, true).Output(0)
	pCol := c.shReshape(aIota, dsl.Dims{-1, 1})
	hit := c.ew(c.shReshape(key, dsl.Dims{1, -1}), pCol, dsl.ElementWiseEqual)
	hitI := c.ew(toI(hit), c.shReshape(firstI, dsl.Dims{1, -1}), dsl.ElementWiseProd)
	pos := c.Net().AddReduce(c.ew(hitI, c.shReshape(aIota, dsl.Dims{1, -1}), dsl.ElementWiseProd), dsl.ReduceSum, 2, false).Output(0)
	sl := c.Net().AddSlice(pos, dsl.Dims{0}, nil, dsl.Dims{1})
	sl.SetInput(2, nU)
	indices := sl.Output(0)
	y := c.Net().AddGather(src, indices, axis).Output(0)
	cnt := c.Net().AddGather(counts, indices, 0).Output(0)
	outs := []*dsl.Tensor{y, indices, key, cnt}
	return outs[:min(len(outs), c.NbOutputs())], nil
}
