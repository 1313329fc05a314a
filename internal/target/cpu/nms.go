package cpu

import (
	"math"
	"sort"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerNMS, runNMS) }

// nmsBox is a box as (xmin, ymin, xmax, ymax).
type nmsBox [4]float32

func (a nmsBox) area() float32 { return (a[2] - a[0]) * (a[3] - a[1]) }

// iou is the intersection over union of two boxes, 0 for an empty union.
func (a nmsBox) iou(b nmsBox) float32 {
	w := min(a[2], b[2]) - max(a[0], b[0])
	h := min(a[3], b[3]) - max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	// The conversions round each product, so no platform fuses them into
	// a multiply-add: the CUDA target computes the same float32 values.
	inter := float32(w * h)
	union := float32(a.area()) + float32(b.area()) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// nmsCandidate is one (box, class) pair of a batch item.
type nmsCandidate struct {
	score      float32
	box, class int64
}

func runNMS(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	n := l.(*dsl.NMSLayer)
	boxes, scores := in[0], in[1]
	ss := scores.Shape()
	bs := boxes.Shape()
	batch, nb, nc := ss[0], ss[1], ss[2]
	perClass := len(bs) == 4
	want := []int64{batch, nb, 4}
	if perClass {
		want = []int64{batch, nb, nc, 4}
	}
	if !sameShape(bs, want) {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time, boxes %v do not match scores %v; want %v", bs, ss, want)
	}
	maxOut := in[2].Int64At(0)
	var iouTh, scoreTh float32
	if len(in) > 3 && in[3] != nil {
		iouTh = in[3].AsFloat32()[0]
	}
	if len(in) > 4 && in[4] != nil {
		scoreTh = in[4].AsFloat32()[0]
	}
	if iouTh < 0 || iouTh > 1 || math.IsNaN(float64(iouTh)) {
		return nil, layerErr(l, diag.OutOfRange, "IoU threshold %v is outside [0, 1]", iouTh)
	}
	bv, sv := boxes.AsFloat32(), scores.AsFloat32()
	center := n.BoundingBoxFormat() == dsl.BoxCenterSizes
	// box returns (batch b, box i, class c) as min/max corners.
	box := func(b, i, c int64) nmsBox {
		off := (b*nb + i) * 4
		if perClass {
			off = ((b*nb+i)*nc + c) * 4
		}
		v := bv[off : off+4]
		if center {
			return nmsBox{v[0] - v[2]/2, v[1] - v[3]/2, v[0] + v[2]/2, v[1] + v[3]/2}
		}
		return nmsBox{min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])}
	}
	var rows []int64
	for b := int64(0); b < batch; b++ {
		var cands []nmsCandidate
		for i := int64(0); i < nb; i++ {
			for c := int64(0); c < nc; c++ {
				if s := sv[(b*nb+i)*nc+c]; s > scoreTh {
					cands = append(cands, nmsCandidate{s, i, c})
				}
			}
		}
		// Stable order: decreasing score, then box index, then class.
		sort.SliceStable(cands, func(x, y int) bool { return cands[x].score > cands[y].score })
		if len(cands) > n.TopKBoxLimit() {
			cands = cands[:n.TopKBoxLimit()]
		}
		selected := make([][]nmsBox, nc)
		for _, cd := range cands {
			if int64(len(selected[cd.class])) >= maxOut {
				continue
			}
			bx := box(b, cd.box, cd.class)
			keep := true
			for _, s := range selected[cd.class] {
				if bx.iou(s) > iouTh {
					keep = false
					break
				}
			}
			if keep {
				selected[cd.class] = append(selected[cd.class], bx)
				rows = append(rows, b, cd.class, cd.box)
			}
		}
	}
	cnt := int64(len(rows) / 3)
	idx, err := tensor.FromInt64s(n.IndicesType(), []int64{cnt, 3}, rows)
	if err != nil {
		return nil, err
	}
	num, _ := tensor.FromInt64s(tensor.Int32, []int64{}, []int64{cnt})
	return []*tensor.Tensor{idx, num}, nil
}
