package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

type nmsCase struct {
	name     string
	format   dsl.BoundingBoxFormat
	boxShape []int64
	boxes    []float64
	nc       int64
	scores   []float64
	maxOut   int64
	iou      float64 // < 0: input 3 unset
	score    float64 // < 0: input 4 unset
	topK     int
	want     []float64 // rows of (batch, class, box)
}

func nmsRun(t *testing.T, c nmsCase, idxType tensor.DataType) {
	t.Helper()
	net := dsl.NewNetwork()
	nb := int64(len(c.scores)) / c.nc
	b := net.AddInput("boxes", tensor.Float32, dsl.Dims(c.boxShape))
	s := net.AddInput("scores", tensor.Float32, dsl.Dims{1, -1, c.nc})
	m := net.AddInput("max", tensor.Int32, dsl.Dims{})
	l := net.AddNMS(b, s, m, idxType)
	l.SetBoundingBoxFormat(c.format)
	if c.topK > 0 {
		l.SetTopKBoxLimit(c.topK)
	}
	feeds := map[string]*tensor.Tensor{
		"boxes":  mustTensor(t, tensor.Float32, c.boxShape, c.boxes),
		"scores": mustTensor(t, tensor.Float32, []int64{1, nb, c.nc}, c.scores),
		"max":    mustTensor(t, tensor.Int32, nil, []float64{float64(c.maxOut)}),
	}
	if c.iou >= 0 {
		l.SetInput(3, net.AddInput("iou", tensor.Float32, dsl.Dims{}))
		feeds["iou"] = mustTensor(t, tensor.Float32, nil, []float64{c.iou})
	}
	if c.score >= 0 {
		l.SetInput(4, net.AddInput("score", tensor.Float32, dsl.Dims{}))
		feeds["score"] = mustTensor(t, tensor.Float32, nil, []float64{c.score})
	}
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	out := runNet(t, net, feeds)
	got, num := out[l.Output(0).Name()], out[l.Output(1).Name()]
	if got.DType() != idxType || num.DType() != tensor.Int32 {
		t.Fatalf("types %v %v, want %v int32", got.DType(), num.DType(), idxType)
	}
	checkClose(t, got, []int64{int64(len(c.want) / 3), 3}, c.want, 1)
	checkClose(t, num, []int64{}, []float64{float64(len(c.want) / 3)}, 1)
}

// TestNMSHandWorked is ONNX's center-point example worked by hand: six
// unit boxes in three stacks; boxes 1 and 2 overlap box 0 with IoU
// 0.9/1.1 = 0.82, box 4 overlaps box 3 the same way, box 5 is alone.
// Scores 0.9 .75 .6 .95 .5 .3, so box 3 comes first, then 0, then 5.
func TestNMSHandWorked(t *testing.T) {
	center := []float64{0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 0.4, 1, 1, 0.5, 10.5, 1, 1, 0.5, 10.6, 1, 1, 0.5, 100.5, 1, 1}
	// The same boxes as corners; box 0 and box 3 give the other diagonal.
	corners := []float64{1, 1, 0, 0, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 1, 10, 0, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101}
	scores := []float64{0.9, 0.75, 0.6, 0.95, 0.5, 0.3}
	cases := []nmsCase{
		{"center", dsl.BoxCenterSizes, []int64{1, 6, 4}, center, 1, scores, 3, 0.5, 0, 0, []float64{0, 0, 3, 0, 0, 0, 0, 0, 5}},
		{"corners", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 3, 0.5, -1, 0, []float64{0, 0, 3, 0, 0, 0, 0, 0, 5}},
		{"max two", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 2, 0.5, 0, 0, []float64{0, 0, 3, 0, 0, 0}},
		{"score threshold", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 3, 0.5, 0.4, 0, []float64{0, 0, 3, 0, 0, 0}},
		// IoU threshold 0.9 keeps overlaps of 0.82: everything by score.
		{"loose iou", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 10, 0.9, -1, 0,
			[]float64{0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 4, 0, 0, 5}},
		// Default IoU threshold 0: any overlap suppresses.
		{"default iou", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 10, -1, -1, 0, []float64{0, 0, 3, 0, 0, 0, 0, 0, 5}},
		{"top k", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 3, 0.5, 0, 1, []float64{0, 0, 3}},
		{"max zero", dsl.BoxCornerPairs, []int64{1, 6, 4}, corners, 1, scores, 0, 0.5, 0, 0, nil},
	}
	for _, c := range cases {
		for _, it := range []tensor.DataType{tensor.Int32, tensor.Int64} {
			t.Run(c.name+"/"+it.String(), func(t *testing.T) { nmsRun(t, c, it) })
		}
	}
}

// TestNMSClassesAndTies: two identical boxes with two classes. Class 0
// scores (0.8, 0.8) tie, so box 0 (lower index) wins and suppresses box
// 1; class 1 scores (0.1, 0.7) select box 1 there, since boxes of other
// classes never suppress. Output by decreasing score: (0,0,0) 0.8,
// (0,1,1) 0.7.
func TestNMSClassesAndTies(t *testing.T) {
	boxes := []float64{0, 0, 2, 2, 0, 0, 2, 2}
	scores := []float64{0.8, 0.1, 0.8, 0.7} // [box][class]
	c := nmsCase{"classes", dsl.BoxCornerPairs, []int64{1, 2, 4}, boxes, 2, scores, 5, 0.5, 0, 0,
		[]float64{0, 0, 0, 0, 1, 1}}
	nmsRun(t, c, tensor.Int64)
	// Per-class boxes: class 1's second box is moved away, so both stay.
	perClass := []float64{0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 5, 5, 6, 6}
	c = nmsCase{"per class", dsl.BoxCornerPairs, []int64{1, 2, 2, 4}, perClass, 2, []float64{0.8, 0.6, 0.8, 0.7}, 5, 0.5, 0, 0,
		[]float64{0, 0, 0, 0, 1, 1, 0, 1, 0}}
	nmsRun(t, c, tensor.Int32)
}
