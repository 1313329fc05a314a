package onnx_test

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
	"google.golang.org/protobuf/proto"
)

// The conformance data covers TF mode only, without weights, repeated
// output positions or dynamic row lengths; these tests cover the rest
// with counts worked out by hand.

func tfidfAttrFloats(name string, v ...float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
}

func tfidfAttrStrings(name string, v ...string) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

// tfidfNode is a TfIdfVectorizer node over x with the shared pool:
// unigrams 1, 2; bigrams (1,2), (2,1), (1,3), (3,1); pool n-gram k goes
// to output position ngram_indexes[k] = 5, 0, 1, 1, 3, 2 (so (1,2) and
// (2,1) share position 1, and position 4 gets nothing).
func tfidfNode(x *tensor.Tensor, mode string, minN, maxN, skip int64, extra ...*onnxpb.AttributeProto) nnNode {
	attrs := []*onnxpb.AttributeProto{
		nnAttrString("mode", mode),
		nnAttrInt("min_gram_length", minN),
		nnAttrInt("max_gram_length", maxN),
		nnAttrInt("max_skip_count", skip),
		nnAttrInts("ngram_counts", 0, 2),
		nnAttrInts("ngram_indexes", 5, 0, 1, 1, 3, 2),
		nnAttrInts("pool_int64s", 1, 2, 1, 2, 2, 1, 1, 3, 3, 1),
	}
	return nnNode{op: "TfIdfVectorizer", opset: 9, attrs: append(attrs, extra...),
		inputs: []nnVal{{"x", x}}, outs: []string{"y"}}
}

func tfidfI64(t *testing.T, shape []int64, v ...int64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromInt64(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// Row 1 2 1 3 2 with max_skip_count 1:
//
//	unigram 1 at 0, 2 -> 2; unigram 2 at 1, 4 -> 2
//	distance 1 pairs: (1,2) (2,1) (1,3) (3,2)
//	distance 2 pairs: (1,1) (2,3) (1,2)
//	(1,2) -> 2, (2,1) -> 1, (1,3) -> 1, (3,1) -> 0
//
// Positions: 0 <- unigram 2 = 2; 1 <- (1,2)+(2,1) = 3; 2 <- (3,1) = 0;
// 3 <- (1,3) = 1; 4 <- nothing = 0; 5 <- unigram 1 = 2.
func TestTfIdfModesWithSkip(t *testing.T) {
	weights := tfidfAttrFloats("weights", 0.5, 1.5, 2, 3, 4, 0.25)
	row := []int64{1, 2, 1, 3, 2}
	for _, tc := range []struct {
		name string
		mode string
		w    bool
		want []float64
	}{
		{"TF", "TF", false, []float64{2, 3, 0, 1, 0, 2}},
		{"TF ignores weights", "TF", true, []float64{2, 3, 0, 1, 0, 2}},
		{"IDF", "IDF", true, []float64{0.5, 1.5, 0, 3, 0, 0.25}},
		{"IDF unweighted", "IDF", false, []float64{1, 1, 0, 1, 0, 1}},
		{"TFIDF", "TFIDF", true, []float64{1, 4.5, 0, 3, 0, 0.5}},
		{"TFIDF unweighted", "TFIDF", false, []float64{2, 3, 0, 1, 0, 2}},
	} {
		for _, dyn := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				var extra []*onnxpb.AttributeProto
				if tc.w {
					extra = append(extra, weights)
				}
				n := tfidfNode(tfidfI64(t, []int64{1, 5}, row...), tc.mode, 1, 2, 1, extra...)
				if dyn {
					n.dims = map[string][]int64{"x": {-1, -1}}
				}
				n.check(t, "y", []int64{1, 6}, tc.want)
			})
		}
	}
}

// A [C] int32 row with min_gram_length 2: the unigrams in the pool are not
// counted. Row 3 1 2 1, no skips: pairs (3,1) (1,2) (2,1).
func TestTfIdfBigramsOnlyInt32(t *testing.T) {
	x, err := tensor.FromInt32([]int64{4}, []int32{3, 1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	tfidfNode(x, "TF", 2, 2, 0).check(t, "y", []int64{6}, []float64{0, 2, 1, 0, 0, 0})
}

// Rows too short for a window count nothing; with a dynamic row length
// the window count max(C-(n-1)d, 0) is computed at run time.
func TestTfIdfShortRows(t *testing.T) {
	// One item: only unigrams can match. Row 2 -> position 0 gets 1.
	tfidfNode(tfidfI64(t, []int64{1}, 2), "TF", 1, 2, 3).check(t, "y", []int64{6}, []float64{1, 0, 0, 0, 0, 0})
	// Bigrams only over one item: all zero, static and dynamic.
	n := tfidfNode(tfidfI64(t, []int64{2, 1}, 1, 2), "TF", 2, 2, 3)
	n.check(t, "y", []int64{2, 6}, make([]float64, 12))
	n.dims = map[string][]int64{"x": {2, -1}}
	n.check(t, "y", []int64{2, 6}, make([]float64, 12))
	// Two items, skips up to 3, dynamic length: only distance 1 has a
	// window. Rows (1,3) and (3,1).
	n = tfidfNode(tfidfI64(t, []int64{2, 2}, 1, 3, 3, 1), "TF", 2, 2, 3)
	n.dims = map[string][]int64{"x": {-1, -1}}
	n.check(t, "y", []int64{2, 6}, []float64{0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0})
	// No rows at all.
	tfidfNode(tfidfI64(t, []int64{0, 3}), "TF", 1, 2, 0).check(t, "y", []int64{0, 6}, nil)
}

// Several rows are counted independently; a repeated pool n-gram counts
// once, at the position of its last occurrence. Pool unigrams 7, 8, 7 at
// positions 0, 1, 2: 7 goes to position 2 only.
func TestTfIdfRepeatedPoolGram(t *testing.T) {
	x := tfidfI64(t, []int64{2, 3}, 7, 7, 8, 8, 9, 8)
	n := nnNode{op: "TfIdfVectorizer", opset: 9, attrs: []*onnxpb.AttributeProto{
		nnAttrString("mode", "TF"),
		nnAttrInt("min_gram_length", 1),
		nnAttrInt("max_gram_length", 1),
		nnAttrInt("max_skip_count", 0),
		nnAttrInts("ngram_counts", 0),
		nnAttrInts("ngram_indexes", 0, 1, 2),
		nnAttrInts("pool_int64s", 7, 8, 7),
	}, inputs: []nnVal{{"x", x}}, outs: []string{"y"}}
	n.check(t, "y", []int64{2, 3}, []float64{0, 1, 2, 0, 2, 0})
}

func TestTfIdfErrors(t *testing.T) {
	x := tfidfI64(t, []int64{4}, 1, 2, 3, 4)
	with := func(n nnNode, a *onnxpb.AttributeProto) nnNode {
		attrs := []*onnxpb.AttributeProto{}
		for _, b := range n.attrs {
			if b.GetName() != a.GetName() {
				attrs = append(attrs, b)
			}
		}
		n.attrs = append(attrs, a)
		return n
	}
	base := tfidfNode(x, "TF", 1, 2, 0)
	with(base, tfidfAttrStrings("pool_strings", "a")).wantErr(t, diag.UnsupportedAttr, "pool_strings")
	tfidfNode(x, "BM25", 1, 2, 0).wantErr(t, diag.UnsupportedAttr, `mode "BM25"`)
	tfidfNode(x, "TF", 0, 2, 0).wantErr(t, diag.InvalidNode, "min_gram_length is 0")
	tfidfNode(x, "TF", 2, 1, 0).wantErr(t, diag.InvalidNode, "max_gram_length 1 is below")
	tfidfNode(x, "TF", 1, 2, -1).wantErr(t, diag.InvalidNode, "max_skip_count is -1")
	tfidfNode(x, "IDF", 1, 2, 0, tfidfAttrFloats("weights", 1, 2)).wantErr(t, diag.InvalidNode, "weights has 2 values")
	with(base, nnAttrInts("ngram_counts", 0, 3)).wantErr(t, diag.InvalidNode, "not a multiple of 2")
	with(base, nnAttrInts("ngram_counts", 3, 2)).wantErr(t, diag.InvalidNode, "non-decreasing")
	with(base, nnAttrInts("ngram_indexes", 0, 1, 2)).wantErr(t, diag.InvalidNode, "ngram_indexes has only 3")
	with(base, nnAttrInts("ngram_indexes", 0, 1, 2, 3, 4, -1)).wantErr(t, diag.InvalidNode, "ngram_indexes holds -1")
	with(base, nnAttrInts("ngram_indexes")).wantErr(t, diag.InvalidNode, "ngram_indexes is empty")
	noPool := base
	noPool.attrs = noPool.attrs[:len(noPool.attrs)-1]
	noPool.wantErr(t, diag.InvalidNode, "needs the pool_int64s")
	f, _ := tensor.FromFloat32([]int64{2}, []float32{1, 2})
	tfidfNode(f, "TF", 1, 2, 0).wantErr(t, diag.TypeMismatch, "int32 or int64")
	tfidfNode(tfidfI64(t, []int64{1, 1, 2}, 1, 2), "TF", 1, 2, 0).wantErr(t, diag.ShapeMismatch, "[C] or [N, C]")
	dyn := tfidfNode(x, "TF", 1, 2, 1000)
	dyn.dims = map[string][]int64{"x": {-1}}
	dyn.wantErr(t, diag.UnsupportedAttr, "max_skip_count 1000")
	// A static row length bounds the distances, so a huge skip is fine.
	tfidfNode(x, "TF", 1, 2, 1<<40).check(t, "y", []int64{6}, []float64{1, 1, 0, 1, 0, 1})
}

// A constant input is counted at import time (constant folding).
func TestTfIdfConstantInput(t *testing.T) {
	x := tfidfI64(t, []int64{4}, 3, 1, 2, 1)
	n := tfidfNode(x, "TFIDF", 2, 2, 0, tfidfAttrFloats("weights", 1, 0.5, 4, 1, 1, 1))
	n.inits = map[string]*tensor.Tensor{"x": x}
	n.check(t, "y", []int64{6}, []float64{0, 1, 4, 0, 0, 0})
}
