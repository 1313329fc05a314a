package onnx

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TfIdfVectorizer counts, per row of an int32/int64 input, how often each
// n-gram of a pool known at import time occurs, and scatters the counts to
// output positions ngram_indexes (weighted by mode). The pool is a set of
// constants, so the op composes into Slice/Equal/And/Reduce layers (see
// ops_tfidf_count.go) followed by a Gather that scatters the counts.

func init() {
	register(OpInfo{Op: "TfIdfVectorizer", Since: 9, Types: "int32, int64",
		Restrictions: "no string input or pool_strings; compares every window with every pool n-gram, so time and memory grow as rows x length x pool size"},
		importTfIdf)
}

// tfidfMaxOut bounds the output row length (max(ngram_indexes)+1), so a
// stray huge index is an error and not an allocation of terabytes.
const tfidfMaxOut = 1 << 26

// tfidfMaxDynSkip bounds the skip distances unrolled when the row length
// is only known at run time (with a static length, distances whose window
// is empty are dropped, so any max_skip_count works).
const tfidfMaxDynSkip = 256

// tfidfLevel is the pool's n-grams of one length n inside
// [min_gram_length, max_gram_length].
type tfidfLevel struct {
	n     int64
	grams [][]int64 // each of length n, no duplicates
	out   []int64   // the output position of each gram
}

// tfidfSpec is the node's validated attributes.
type tfidfSpec struct {
	mode    string // TF, IDF or TFIDF
	minN    int64
	maxN    int64
	maxSkip int64
	levels  []tfidfLevel
	outSize int64
	weights []float32 // indexed by output position; nil: all 1
}

// tfidfParse reads and checks the attributes.
func tfidfParse(c *nodeCtx) (*tfidfSpec, error) {
	s := &tfidfSpec{
		mode:    c.AttrString("mode", ""),
		minN:    c.AttrInt("min_gram_length", 0),
		maxN:    c.AttrInt("max_gram_length", 0),
		maxSkip: c.AttrInt("max_skip_count", 0),
	}
	counts := c.AttrInts("ngram_counts", nil)
	indexes := c.AttrInts("ngram_indexes", nil)
	pool := c.AttrInts("pool_int64s", nil)
	weights := c.AttrFloats("weights", nil)
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case c.HasAttr("pool_strings"):
		return nil, c.Errorf(diag.UnsupportedAttr, "pool_strings is not supported (trtc has no string tensors); use pool_int64s")
	case !c.HasAttr("pool_int64s"):
		return nil, c.Errorf(diag.InvalidNode, "TfIdfVectorizer needs the pool_int64s attribute")
	case s.mode != "TF" && s.mode != "IDF" && s.mode != "TFIDF":
		return nil, c.Errorf(diag.UnsupportedAttr, "mode %q is not one of TF, IDF, TFIDF", s.mode)
	case s.minN < 1:
		return nil, c.Errorf(diag.InvalidNode, "min_gram_length is %d; it must be at least 1", s.minN)
	case s.maxN < s.minN:
		return nil, c.Errorf(diag.InvalidNode, "max_gram_length %d is below min_gram_length %d", s.maxN, s.minN)
	case s.maxSkip < 0:
		return nil, c.Errorf(diag.InvalidNode, "max_skip_count is %d; it must be >= 0", s.maxSkip)
	case len(indexes) == 0:
		return nil, c.Errorf(diag.InvalidNode, "ngram_indexes is empty; it gives the output position of each pool n-gram")
	}
	for _, ix := range indexes {
		if ix < 0 || ix >= tfidfMaxOut {
			return nil, c.Errorf(diag.InvalidNode, "ngram_indexes holds %d; output positions must be in [0, %d)", ix, tfidfMaxOut)
		}
		s.outSize = max(s.outSize, ix+1)
	}
	if len(weights) > 0 {
		if int64(len(weights)) < s.outSize {
			return nil, c.Errorf(diag.InvalidNode, "weights has %d values but the output has %d positions (max(ngram_indexes)+1); give one weight per position", len(weights), s.outSize)
		}
		s.weights = weights
	}
	if err := s.splitPool(c, pool, counts, indexes); err != nil {
		return nil, err
	}
	return s, nil
}

// splitPool cuts the pool into levels: ngram_counts[i] is where the
// (i+1)-grams start. N-grams are numbered across all levels in pool
// order; n-gram k goes to output position ngram_indexes[k]. Levels outside
// [min, max] keep their numbers but are not counted. A repeated n-gram
// counts once, at the position of its last occurrence (as the ONNX
// reference implementation and onnxruntime do).
func (s *tfidfSpec) splitPool(c *nodeCtx, pool, counts, indexes []int64) error {
	id := 0
	for i, start := range counts {
		end := int64(len(pool))
		if i+1 < len(counts) {
			end = counts[i+1]
		}
		n := int64(i + 1)
		switch {
		case start < 0 || start > int64(len(pool)) || end < start:
			return c.Errorf(diag.InvalidNode, "ngram_counts %v must be non-decreasing offsets into pool_int64s (length %d)", counts, len(pool))
		case (end-start)%n != 0:
			return c.Errorf(diag.InvalidNode, "the %d-gram part of pool_int64s, [%d, %d), holds %d values, not a multiple of %d", n, start, end, end-start, n)
		}
		nb := int((end - start) / n)
		if id+nb > len(indexes) {
			return c.Errorf(diag.InvalidNode, "pool_int64s holds at least %d n-grams but ngram_indexes has only %d entries", id+nb, len(indexes))
		}
		if n < s.minN || n > s.maxN || nb == 0 {
			id += nb
			continue
		}
		lv := tfidfLevel{n: n}
		pos := map[string]int{}
		for g := 0; g < nb; g++ {
			gram := pool[start+int64(g)*n : start+int64(g+1)*n]
			key := fmt.Sprint(gram)
			if at, ok := pos[key]; ok {
				lv.out[at] = indexes[id]
			} else {
				pos[key] = len(lv.grams)
				lv.grams = append(lv.grams, gram)
				lv.out = append(lv.out, indexes[id])
			}
			id++
		}
		s.levels = append(s.levels, lv)
	}
	return nil
}

func importTfIdf(c *nodeCtx) ([]*dsl.Tensor, error) {
	s, err := tfidfParse(c)
	if err != nil {
		return nil, err
	}
	x := c.Input(0)
	if c.err != nil {
		return nil, c.err
	}
	if dt := x.Type(); dt != dsl.Int32 && dt != dsl.Int64 {
		return nil, c.Errorf(diag.TypeMismatch, "input X is %v; TfIdfVectorizer takes int32 or int64 (strings are not supported)", dt)
	}
	rank := x.Rank()
	if rank != 1 && rank != 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "input X has dims %v; TfIdfVectorizer takes [C] or [N, C]", x.Dims())
	}
	// Work on [N, 1, C] Int64 rows: the 1 is where the pool n-grams go.
	rows := x
	if x.Type() != dsl.Int64 {
		rows = c.Net().AddCast(x, dsl.Int64).Output(0)
	}
	if rank == 1 {
		rows = c.unsqueeze(rows, 0)
	}
	rows = c.unsqueeze(rows, 1)
	counts, outIdx, err := c.tfidfCounts(s, rows)
	if err != nil {
		return nil, err
	}
	y := c.tfidfScatter(counts, outIdx, s.outSize)
	y = c.tfidfWeigh(s, y)
	if rank == 1 {
		l := c.Net().AddShuffle(y)
		l.SetReshapeDimensions(dsl.Dims{s.outSize})
		y = l.Output(0)
	}
	return []*dsl.Tensor{y}, c.err
}

// tfidfScatter sums the [N, P] counts into [N, outSize] rows: column j
// goes to position outIdx[j]. Several columns may share a position, so
// the columns are gathered in as many rounds as the largest share, each
// round reading a zero column appended at index P where it has nothing.
func (c *nodeCtx) tfidfScatter(counts *dsl.Tensor, outIdx []int64, outSize int64) *dsl.Tensor {
	p := int64(len(outIdx))
	pad := c.Net().AddSlice(counts, dsl.Dims{0}, dsl.Dims{p + 1}, dsl.Dims{1})
	pad.SetAxes(dsl.Dims{1})
	pad.SetMode(dsl.SampleFill)
	padded := pad.Output(0)
	var rounds [][]int64
	used := make([]int, outSize)
	for j, o := range outIdx {
		r := used[o]
		used[o]++
		if r == len(rounds) {
			idx := make([]int64, outSize)
			for i := range idx {
				idx[i] = p
			}
			rounds = append(rounds, idx)
		}
		rounds[r][o] = int64(j)
	}
	if len(rounds) == 0 {
		// No n-gram can be counted: every position reads the zero column.
		idx := make([]int64, outSize)
		for i := range idx {
			idx[i] = p
		}
		rounds = append(rounds, idx)
	}
	var y *dsl.Tensor
	for _, idx := range rounds {
		it, _ := tensor.FromInt64([]int64{outSize}, idx)
		g := c.Net().AddGather(padded, c.Constant(it), 1).Output(0)
		if y == nil {
			y = g
		} else {
			y = c.Net().AddElementWise(y, g, dsl.ElementWiseSum).Output(0)
		}
	}
	return y
}

// tfidfWeigh applies the mode to the [N, outSize] counts: TF keeps them,
// IDF gives the position's weight where the count is positive (else 0),
// TFIDF multiplies by the weight. Weights default to 1.
func (c *nodeCtx) tfidfWeigh(s *tfidfSpec, y *dsl.Tensor) *dsl.Tensor {
	net := c.Net()
	if s.mode == "IDF" {
		zt, _ := tensor.FromFloat32([]int64{1, 1}, []float32{0})
		pos := net.AddElementWise(y, c.Constant(zt), dsl.ElementWiseGreater).Output(0)
		y = net.AddCast(pos, dsl.Float32).Output(0)
	}
	if s.mode == "TF" || s.weights == nil {
		return y
	}
	wt, _ := tensor.FromFloat32([]int64{1, s.outSize}, s.weights[:s.outSize])
	return net.AddElementWise(y, c.Constant(wt), dsl.ElementWiseProd).Output(0)
}
