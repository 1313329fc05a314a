package onnx

import (
	"fmt"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// Every importer of the group, fed odd inputs (missing, scalars, wrong
// types, empty and dynamic dims), fails with a user error or runs; it
// never reports an internal error (a recovered panic or a type/shape
// mismatch between inference and the engine).
func TestReduceSignalRobustness(t *testing.T) {
	ops := map[string][]int64{
		"ReduceSum": {11, 13}, "ReduceMean": {13, 18}, "ReduceMax": {13, 20}, "ReduceL2": {18},
		"ReduceLogSumExp": {13, 18}, "NegativeLogLikelihoodLoss": {13}, "SoftmaxCrossEntropyLoss": {13},
		"NonMaxSuppression": {11}, "Det": {11}, "DFT": {17, 20}, "STFT": {17}, "HannWindow": {17},
		"MelWeightMatrix": {17},
	}
	type in struct {
		dt   tensor.DataType
		dims []int64
	}
	f, i64, b := tensor.Float32, tensor.Int64, tensor.Bool
	configs := [][]in{
		{},
		{{f, []int64{}}},
		{{b, []int64{2, 2}}},
		{{f, []int64{2, 3, 4}}, {i64, []int64{2, 4}}, {f, []int64{3}}},
		{{f, []int64{2, 3, 4}}, {i64, []int64{1}}},
		{{f, []int64{2, 0, 4}}, {i64, []int64{2, 4}}},
		{{f, []int64{-1, 3, -1}}, {i64, []int64{-1, -1}}},
		{{f, []int64{1, 3, 4}}, {f, []int64{1, 2, 3}}, {i64, []int64{}}, {f, []int64{}}, {f, []int64{}}},
		{{i64, []int64{}}, {i64, []int64{}}, {i64, []int64{}}, {f, []int64{}}, {f, []int64{}}},
		{{f, []int64{4, 5, 5}}},
	}
	for op, versions := range ops {
		for _, v := range versions {
			for ci, cfg := range configs {
				var ins []redIn
				var names []string
				feeds := map[string]*tensor.Tensor{}
				for k, x := range cfg {
					name := fmt.Sprintf("i%d", k)
					names = append(names, name)
					ins = append(ins, redIn{name: name, dt: x.dt, dims: x.dims})
					shape := make([]int64, len(x.dims))
					for d, n := range x.dims {
						shape[d] = n
						if n < 0 {
							shape[d] = 2
						}
					}
					vals := make([]int64, tensor.Volume(shape))
					for j := range vals {
						vals[j] = int64(j%3 + 1)
					}
					feeds[name], _ = tensor.FromInt64s(x.dt, shape, vals)
				}
				_, err := redRun(t, v, redNode(op, names, []string{"y"}), ins, feeds)
				if diag.CodeOf(err) == diag.Internal {
					t.Errorf("%s opset %d config %d: internal error: %v", op, v, ci, err)
				}
			}
		}
	}
}
