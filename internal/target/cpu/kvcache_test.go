package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestKVCacheUpdateByHand(t *testing.T) {
	// Cache [2 batches, 1 head, 4 positions, 2], values 100+i; update [2,1,2,2]
	// values -(1..8). Batch 0 writes at 1 (positions 1,2); batch 1 at 3, so
	// its second row (position 4) is out of bounds and dropped.
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, it := range []tensor.DataType{tensor.Int32, tensor.Int64} {
			cv := make([]float64, 16)
			for i := range cv {
				cv[i] = float64(100 + i)
			}
			uv := []float64{-1, -2, -3, -4, -5, -6, -7, -8}
			net := dsl.NewNetwork()
			l := net.AddKVCacheUpdate(net.AddInput("cache", dt, dsl.Dims{-1, 1, 4, 2}),
				net.AddInput("upd", dt, dsl.Dims{-1, 1, -1, 2}), net.AddInput("idx", it, dsl.Dims{-1}), dsl.KVCacheModeLinear)
			net.MarkOutput(l.Output(0))
			cache := mustTensor(t, dt, []int64{2, 1, 4, 2}, cv)
			ins := map[string]*tensor.Tensor{
				"cache": cache,
				"upd":   mustTensor(t, dt, []int64{2, 1, 2, 2}, uv),
				"idx":   mustTensor(t, it, []int64{2}, []float64{1, 3}),
			}
			got := runNet(t, net, ins)[l.Output(0).Name()]
			want := []float64{
				100, 101, -1, -2, -3, -4, 106, 107, // batch 0
				108, 109, 110, 111, 112, 113, -5, -6, // batch 1
			}
			checkClose(t, got, []int64{2, 1, 4, 2}, roundTo(dt, want), 1)
			if cache.Float64s()[2] != 102 {
				t.Fatal("the input cache was modified")
			}
		}
	}
}

func TestKVCacheUpdateNegativeIndexAndHeads(t *testing.T) {
	// Two heads, write index -1: position -1 is skipped, position 0 gets row 1.
	net := dsl.NewNetwork()
	l := net.AddKVCacheUpdate(net.AddInput("cache", tensor.Float32, dsl.Dims{1, 2, 3, 1}),
		net.AddInput("upd", tensor.Float32, dsl.Dims{1, 2, 2, 1}), net.AddInput("idx", tensor.Int32, dsl.Dims{1}), dsl.KVCacheModeLinear)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{
		"cache": mustTensor(t, tensor.Float32, []int64{1, 2, 3, 1}, []float64{1, 2, 3, 4, 5, 6}),
		"upd":   mustTensor(t, tensor.Float32, []int64{1, 2, 2, 1}, []float64{-1, -2, -3, -4}),
		"idx":   mustTensor(t, tensor.Int32, []int64{1}, []float64{-1}),
	})[l.Output(0).Name()]
	checkClose(t, got, []int64{1, 2, 3, 1}, []float64{-2, 2, 3, -4, 5, 6}, 1)
}
