package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Counting pool n-grams with layers. For an n-gram length n and a skip
// distance d (1 + the number of skipped items), the windows starting at
// i = 0 .. C-1-(n-1)d read x[i], x[i+d], ..., x[i+(n-1)d]; item k of every
// window is the contiguous slice of length W = C-(n-1)d from k*d. Compared
// against a [1, P, 1] constant of item k of each pool n-gram, the slices
// give [N, P, W] masks whose And marks the matches; the masks of every
// distance are joined along W and summed. Unigrams count each position
// once; longer n-grams count once per distance 1 .. max_skip_count+1.

// tfidfCounts returns the [N, P] Float32 counts of every counted pool
// n-gram and each column's output position. rows is the [N, 1, C] Int64
// input.
func (c *nodeCtx) tfidfCounts(s *tfidfSpec, rows *dsl.Tensor) (*dsl.Tensor, []int64, error) {
	var parts []*dsl.Tensor
	var outIdx []int64
	for _, lv := range s.levels {
		t, err := c.tfidfLevelCounts(s, lv, rows)
		if err != nil {
			return nil, nil, err
		}
		if t == nil {
			continue // no window fits in a row: every count is 0
		}
		parts = append(parts, t)
		outIdx = append(outIdx, lv.out...)
	}
	net := c.Net()
	switch len(parts) {
	case 0:
		// [N, 0] counts, shaped from the input so N may be dynamic.
		l := net.AddSlice(rows, dsl.Dims{0}, dsl.Dims{0}, dsl.Dims{1})
		l.SetAxes(dsl.Dims{1})
		f := net.AddCast(l.Output(0), dsl.Float32).Output(0)
		return net.AddReduce(f, dsl.ReduceSum, 1<<2, false).Output(0), nil, nil
	case 1:
		return parts[0], outIdx, nil
	}
	cat := net.AddConcatenation(parts)
	cat.SetAxis(1)
	return cat.Output(0), outIdx, nil
}

// tfidfLevelCounts returns the [N, P] counts of one level's n-grams, or
// nil when the row length is static and too short for any window.
func (c *nodeCtx) tfidfLevelCounts(s *tfidfSpec, lv tfidfLevel, rows *dsl.Tensor) (*dsl.Tensor, error) {
	net := c.Net()
	n, p := lv.n, int64(len(lv.grams))
	rowLen := rows.Dims()[2]
	maxD := int64(1)
	if n > 1 {
		maxD = s.maxSkip + 1
	}
	if rowLen < 0 && maxD > tfidfMaxDynSkip {
		return nil, c.Errorf(diag.UnsupportedAttr, "max_skip_count %d with a row length known only at run time: at most %d skip distances are unrolled; give the input a static last dim", s.maxSkip, tfidfMaxDynSkip)
	}
	// items[k] is [1, P, 1]: item k of every pool n-gram.
	items := make([]*dsl.Tensor, n)
	for k := range items {
		v := make([]int64, p)
		for g, gram := range lv.grams {
			v[g] = gram[k]
		}
		it, _ := tensor.FromInt64([]int64{1, p, 1}, v)
		items[k] = c.Constant(it)
	}
	var masks []*dsl.Tensor
	for d := int64(1); d <= maxD; d++ {
		span := (n - 1) * d
		var wSize *dsl.Tensor
		w := rowLen - span
		if rowLen >= 0 && w <= 0 {
			break // larger distances leave no window either
		}
		if rowLen < 0 {
			wSize = c.tfidfWindowLen(rows, span)
		}
		var match *dsl.Tensor
		for k := int64(0); k < n; k++ {
			sl := net.AddSlice(rows, dsl.Dims{k * d}, dsl.Dims{w}, dsl.Dims{1})
			sl.SetAxes(dsl.Dims{2})
			if wSize != nil {
				sl.SetInput(2, wSize)
			}
			eq := net.AddElementWise(sl.Output(0), items[k], dsl.ElementWiseEqual).Output(0)
			if match == nil {
				match = eq
			} else {
				match = net.AddElementWise(match, eq, dsl.ElementWiseAnd).Output(0)
			}
		}
		masks = append(masks, match)
	}
	if len(masks) == 0 {
		return nil, nil
	}
	all := masks[0]
	if len(masks) > 1 {
		cat := net.AddConcatenation(masks)
		cat.SetAxis(2)
		all = cat.Output(0)
	}
	f := net.AddCast(all, dsl.Float32).Output(0)
	return net.AddReduce(f, dsl.ReduceSum, 1<<2, false).Output(0), nil
}

// tfidfWindowLen is max(C - span, 0) as a [1] Int64 tensor, for a row
// length C known only at run time: the number of windows of that span.
func (c *nodeCtx) tfidfWindowLen(rows *dsl.Tensor, span int64) *dsl.Tensor {
	net := c.Net()
	shape := net.AddShape(rows).Output(0)
	rowLen := net.AddSlice(shape, dsl.Dims{2}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
	st, _ := tensor.FromInt64([]int64{1}, []int64{span})
	zt, _ := tensor.FromInt64([]int64{1}, []int64{0})
	w := net.AddElementWise(rowLen, c.Constant(st), dsl.ElementWiseSub).Output(0)
	return net.AddElementWise(w, c.Constant(zt), dsl.ElementWiseMax).Output(0)
}
