package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// BoundingBoxFormat is how an NMSLayer reads its boxes; values are
// TensorRT's nvinfer1::BoundingBoxFormat.
type BoundingBoxFormat int

const (
	BoxCornerPairs BoundingBoxFormat = iota // (x1, y1, x2, y2): any two diagonal corners
	BoxCenterSizes                          // (x_center, y_center, width, height)
	numBoxFormats
)

var boxFormatNames = [...]string{"CornerPairs", "CenterSizes"}

func (f BoundingBoxFormat) String() string {
	if f >= 0 && f < numBoxFormats {
		return boxFormatNames[f]
	}
	return fmt.Sprintf("BoundingBoxFormat(%d)", int(f))
}

// AllBoundingBoxFormats lists every box format.
func AllBoundingBoxFormats() []BoundingBoxFormat {
	return []BoundingBoxFormat{BoxCornerPairs, BoxCenterSizes}
}

// NMSMaxTopKBoxLimit is the largest TopK box limit, and the default
// (TensorRT's limit outside SM 5.3 and 6.2).
const NMSMaxTopKBoxLimit = 5000

// NMSLayer is non-maximum suppression per batch item and class (TensorRT
// INMSLayer, ONNX NonMaxSuppression).
//
// Inputs:
//   - 0: boxes, Float32 or Float16, [batch, numBoxes, 4] (shared by every
//     class) or [batch, numBoxes, numClasses, 4].
//   - 1: scores, the boxes' type, [batch, numBoxes, numClasses].
//   - 2: maxOutputBoxesPerClass, an Int32 (or Int64) scalar.
//   - 3 (optional): IoU threshold, a Float32 scalar in [0, 1], default 0.
//   - 4 (optional): score threshold, a Float32 scalar, default 0.
//
// Per batch item, the (box, class) pairs whose score exceeds the score
// threshold are sorted by decreasing score (ties: lower box index, then
// lower class index, first) and the first TopKBoxLimit are candidates. In
// that order a candidate is selected unless its class already has
// maxOutputBoxesPerClass boxes, or it overlaps a selected box of its class
// with IoU above the IoU threshold.
//
// Outputs:
//   - 0: selected indices, [-1, 3] rows of (batch, class, box), of the
//     indices type; by increasing batch, then decreasing score.
//   - 1: the number of selected boxes, an Int32 scalar.
type NMSLayer struct {
	layerBase
	format      BoundingBoxFormat
	topK        int
	indicesType DataType
}

// AddNMS adds a non-maximum suppression layer; indicesType (Int32 or
// Int64) is the type of output 0.
func (n *Network) AddNMS(boxes, scores, maxOutputBoxesPerClass *Tensor, indicesType DataType) *NMSLayer {
	l := &NMSLayer{topK: NMSMaxTopKBoxLimit, indicesType: indicesType}
	n.addLayer(l, LayerNMS, 2, 5, boxes, scores, maxOutputBoxesPerClass)
	return l
}

// BoundingBoxFormat returns the box format (default BoxCornerPairs).
func (l *NMSLayer) BoundingBoxFormat() BoundingBoxFormat { return l.format }

// SetBoundingBoxFormat sets the box format.
func (l *NMSLayer) SetBoundingBoxFormat(f BoundingBoxFormat) {
	l.format = f
	l.changed()
}

// TopKBoxLimit returns the number of candidates considered per batch item.
func (l *NMSLayer) TopKBoxLimit() int { return l.topK }

// SetTopKBoxLimit sets the number of candidates considered per batch item
// (at most NMSMaxTopKBoxLimit).
func (l *NMSLayer) SetTopKBoxLimit(k int) {
	l.topK = k
	l.changed()
}

// IndicesType returns the type of output 0.
func (l *NMSLayer) IndicesType() DataType { return l.indicesType }

// SetIndicesType sets the type of output 0: Int32 or Int64.
func (l *NMSLayer) SetIndicesType(dt DataType) {
	l.indicesType = dt
	l.changed()
}

// nmsScalar checks that optional or required input i is a scalar of one
// of the types.
func nmsScalar(c *inferCtx, i int, what string, types ...DataType) bool {
	t := c.in(i)
	ok := false
	for _, dt := range types {
		ok = ok || t.dtype == dt
	}
	if !ok {
		c.errorf(diag.TypeMismatch, "input %d (%s, %q) is %v; want %v", i, what, t.name, t.dtype, types)
		return false
	}
	if len(t.dims) != 0 {
		c.errorf(diag.ShapeMismatch, "input %d (%s, %q) must be a scalar, got dims %v", i, what, t.name, t.dims)
		return false
	}
	return true
}

func (l *NMSLayer) infer(c *inferCtx) {
	boxes, scores := c.in(0), c.in(1)
	switch {
	case l.format < 0 || l.format >= numBoxFormats:
		c.errorf(diag.InvalidNode, "unknown bounding box format %d", int(l.format))
		return
	case l.topK < 0 || l.topK > NMSMaxTopKBoxLimit:
		c.errorf(diag.InvalidNode, "TopK box limit %d is outside [0, %d]", l.topK, NMSMaxTopKBoxLimit)
		return
	case l.indicesType != Int32 && l.indicesType != Int64:
		c.errorf(diag.TypeMismatch, "indices type %v: want Int32 or Int64", l.indicesType)
		return
	case boxes.dtype != Float32 && boxes.dtype != Float16:
		c.errorf(diag.TypeMismatch, "boxes %q are %v; want Float32 or Float16", boxes.name, boxes.dtype)
		return
	case scores.dtype != boxes.dtype:
		c.errorf(diag.TypeMismatch, "scores %q are %v but boxes %q are %v", scores.name, scores.dtype, boxes.name, boxes.dtype)
		return
	case len(scores.dims) != 3:
		c.errorf(diag.ShapeMismatch, "scores %q must be [batch, numBoxes, numClasses], got %v", scores.name, scores.dims)
		return
	}
	bd, sd := boxes.dims, scores.dims
	var want Dims
	switch len(bd) {
	case 3:
		want = Dims{sd[0], sd[1], 4}
	case 4:
		want = Dims{sd[0], sd[1], sd[2], 4}
	default:
		c.errorf(diag.ShapeMismatch, "boxes %q must be [batch, numBoxes, 4] or [batch, numBoxes, numClasses, 4], got %v", boxes.name, bd)
		return
	}
	if !datamoveCompatible(bd, want) {
		c.errorf(diag.ShapeMismatch, "boxes %q (%v) do not match scores %q (%v); want %v", boxes.name, bd, scores.name, sd, want)
		return
	}
	if !nmsScalar(c, 2, "maxOutputBoxesPerClass", Int32, Int64) {
		return
	}
	if c.has(3) && !nmsScalar(c, 3, "IoU threshold", Float32) {
		return
	}
	if c.has(4) && !nmsScalar(c, 4, "score threshold", Float32) {
		return
	}
	c.setOutput(0, l.indicesType, Dims{Dynamic, 3})
	c.setOutput(1, Int32, Dims{})
}
