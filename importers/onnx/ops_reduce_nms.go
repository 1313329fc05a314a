package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// NonMaxSuppression maps onto the NMS layer (TensorRT INMSLayer), which
// selects the same boxes as ONNX but differs in three ways the importer
// bridges: ONNX scores are [batch, classes, boxes] (the layer wants
// [batch, boxes, classes]); ONNX lists the selected rows by batch, then
// class, then decreasing score (the layer: by batch, then decreasing score
// over all classes), so rows are stably re-sorted by batch*C + class; and
// without score_threshold ONNX keeps every score (the layer's default
// threshold is 0), so the importer passes -inf.

func init() {
	for _, since := range []int64{10, 11} {
		register(OpInfo{Op: "NonMaxSuppression", Since: since, Types: "float32, float16 (double widened)",
			Restrictions: redNMSRestrictions}, importNMS)
	}
}

const redNMSRestrictions = "at most 5000 (box, class) candidates per batch item (TensorRT's TopK box limit); with several classes at most 3840 selected rows in all (the TopK used to order them by class)"

func importNMS(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0, 1); err != nil {
		return nil, err
	}
	net := c.Net()
	boxes, scores := c.Input(0), c.Input(1)
	if c.err != nil {
		return nil, c.err
	}
	if scores.Rank() != 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "scores %q must be [batch, classes, boxes], got %v", scores.Name(), scores.Dims())
	}
	format := dsl.BoxCornerPairs
	switch cp := c.AttrInt("center_point_box", 0); cp {
	case 0:
	case 1:
		format = dsl.BoxCenterSizes
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute center_point_box is %d; want 0 or 1", cp)
	}
	tr := net.AddShuffle(scores)
	tr.SetFirstTranspose(dsl.Permutation{0, 2, 1})
	maxOut := redScalar(c, dsl.Int64, 0, 0) // ONNX's default: select nothing
	if c.HasInput(2) {
		maxOut = redToScalar(c, c.Input(2), "max_output_boxes_per_class")
	}
	l := net.AddNMS(boxes, tr.Output(0), maxOut, dsl.Int64)
	l.SetBoundingBoxFormat(format)
	if c.HasInput(3) {
		l.SetInput(3, redCast(c, redToScalar(c, c.Input(3), "iou_threshold"), dsl.Float32))
	}
	scoreTh := redScalar(c, dsl.Float32, math.Inf(-1), 0)
	if c.HasInput(4) {
		scoreTh = redCast(c, redToScalar(c, c.Input(4), "score_threshold"), dsl.Float32)
	}
	l.SetInput(4, scoreTh)
	sel := l.Output(0)
	if nc := scores.Dims()[1]; nc != 1 {
		sel = redNMSByClass(c, sel, nc)
	}
	return []*dsl.Tensor{sel}, c.err
}

// redToScalar turns a one-element tensor ([1] as exporters often write
// it, or a scalar) into a scalar.
func redToScalar(c *nodeCtx, t *dsl.Tensor, what string) *dsl.Tensor {
	d := t.Dims()
	switch {
	case len(d) == 0:
		return t
	case len(d) == 1 && d[0] != 0 && d[0] <= 1:
		return redReshape(c, t)
	}
	c.fail(c.Errorf(diag.ShapeMismatch, "%s %q must hold one value, got dims %v", what, t.Name(), d))
	return t
}

// redNMSByClass stably sorts selected rows (batch, class, box) by
// batch*nc + class, keeping the layer's decreasing-score order within a
// class. nc may be -1 (dynamic): it is then read from the scores' shape.
func redNMSByClass(c *nodeCtx, sel *dsl.Tensor, nc int64) *dsl.Tensor {
	net := c.Net()
	col := func(i int64) *dsl.Tensor {
		t, _ := tensor.FromInt64(nil, []int64{i})
		return net.AddGather(sel, c.Constant(t), 1).Output(0) // [M]
	}
	var ncT *dsl.Tensor
	if nc >= 0 {
		ncT = redInts(c, nc)
	} else {
		ncT = net.AddSlice(net.AddShape(c.Input(1)).Output(0), dsl.Dims{1}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
	}
	key := redEW(c, redEW(c, col(0), ncT, dsl.ElementWiseProd), col(1), dsl.ElementWiseSum)
	// A sentinel that sorts last keeps k >= 1 when nothing is selected.
	keyS := net.AddConcatenation([]*dsl.Tensor{key, redInts(c, math.MaxInt64)}).Output(0)
	k := redCast(c, redReshape(c, net.AddShape(keyS).Output(0)), dsl.Int32)
	tk := net.AddTopK(keyS, dsl.TopKMin, 1, 1)
	tk.SetInput(1, k)
	order := net.AddSlice(tk.Output(1), dsl.Dims{0}, dsl.Dims{0}, dsl.Dims{1})
	order.SetInput(2, net.AddShape(key).Output(0))
	return net.AddGather(sel, order.Output(0), 0).Output(0)
}
