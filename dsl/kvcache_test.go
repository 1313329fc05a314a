package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestKVCacheUpdateInfer(t *testing.T) {
	n := NewNetwork()
	l := n.AddKVCacheUpdate(n.AddInput("c", Float16, Dims{-1, 8, 1024, 64}), n.AddInput("u", Float16, Dims{-1, 8, -1, 64}),
		n.AddInput("i", Int64, Dims{-1}), KVCacheModeLinear)
	attnWantOK(t, l.Output(0), Float16, Dims{-1, 8, 1024, 64})
	if l.CacheMode() != KVCacheModeLinear || KVCacheModeLinear.String() != "Linear" || len(AllKVCacheModes()) != 1 {
		t.Fatal("mode")
	}
}

func TestKVCacheUpdateErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(n *Network)
		code  diag.Code
		frag  string
	}{
		{"mode", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 1, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheMode(3))
		}, diag.InvalidNode, "unknown KV cache mode"},
		{"int8 cache", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Int8, Dims{1, 1, 4, 2}), n.AddInput("u", Int8, Dims{1, 1, 1, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
		}, diag.TypeMismatch, "quantized caches are not supported"},
		{"types differ", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float16, Dims{1, 1, 1, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
		}, diag.TypeMismatch, "they must match"},
		{"rank", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
		}, diag.ShapeMismatch, "must both be [batch"},
		{"head size", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 1, 3}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
		}, diag.ShapeMismatch, "differ in dimension 3"},
		{"too long", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 5, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
		}, diag.ShapeMismatch, "holds only 4"},
		{"index type", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 1, 2}), n.AddInput("i", Float32, Dims{1}), KVCacheModeLinear)
		}, diag.TypeMismatch, "int32 or int64"},
		{"index dims", func(n *Network) {
			n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{2, 1, 4, 2}), n.AddInput("u", Float32, Dims{2, 1, 1, 2}), n.AddInput("i", Int32, Dims{3}), KVCacheModeLinear)
		}, diag.ShapeMismatch, "want [batch] = [2]"},
		{"update lengths", func(n *Network) {
			l := n.AddKVCacheUpdate(n.AddInput("c", Float32, Dims{1, 1, 4, 2}), n.AddInput("u", Float32, Dims{1, 1, 1, 2}), n.AddInput("i", Int32, Dims{1}), KVCacheModeLinear)
			l.SetInput(3, n.AddInput("len", Int32, Dims{2}))
		}, diag.UnsupportedAttr, "packed update form"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			c.build(n)
			attnWantErr(t, n, c.code, c.frag)
		})
	}
}
