package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestShuffleInference(t *testing.T) {
	cases := []struct {
		name        string
		in          Dims
		first       Permutation
		reshape     Dims
		second      Permutation
		zeroIsPlace bool
		want        Dims
	}{
		{"copy", Dims{2, 3}, nil, nil, nil, true, Dims{2, 3}},
		{"transpose", Dims{2, 3, 4}, Permutation{2, 0, 1}, nil, nil, true, Dims{4, 2, 3}},
		{"infer -1", Dims{2, 3, 4}, nil, Dims{-1, 4}, nil, true, Dims{6, 4}},
		{"zero copies", Dims{2, 3, 4}, nil, Dims{0, -1}, nil, true, Dims{2, 12}},
		{"zero literal", Dims{0, 3}, nil, Dims{0, 5}, nil, false, Dims{0, 5}},
		{"dynamic copied", Dims{-1, 8, 64}, nil, Dims{0, 0, 4, -1}, nil, true, Dims{-1, 8, 4, 16}},
		{"dynamic not copied", Dims{-1, 8}, nil, Dims{4, -1}, nil, true, Dims{4, -1}},
		{"dynamic static target", Dims{-1, 8}, nil, Dims{2, 2, 2}, nil, true, Dims{2, 2, 2}},
		{"to scalar", Dims{1, 1}, nil, Dims{}, nil, true, Dims{}},
		{"all three", Dims{2, 3, 4}, Permutation{1, 0, 2}, Dims{3, 8}, Permutation{1, 0}, true, Dims{8, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			x := n.AddInput("x", Float32, c.in)
			l := n.AddShuffle(x)
			l.SetFirstTranspose(c.first)
			if c.reshape != nil {
				l.SetReshapeDimensions(c.reshape)
			}
			l.SetSecondTranspose(c.second)
			l.SetZeroIsPlaceholder(c.zeroIsPlace)
			datamoveWantDims(t, l, 0, c.want)
		})
	}
}

func TestShuffleReshapeInput(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{2, 3, 4})
	// Unknown values: rank from the length, dims dynamic.
	l := n.AddShuffle(x)
	l.SetInput(1, n.AddInput("shape", Int64, Dims{2}))
	datamoveWantDims(t, l, 0, Dims{-1, -1})
	if l.ReshapeDimensions() != nil {
		t.Error("ReshapeDimensions should be nil while input 1 is set")
	}
	// Known values: resolved like static dims.
	k := n.AddShuffle(x)
	k.SetInput(1, datamoveKnownInput(n, "known", Int32, 0, -1))
	datamoveWantDims(t, k, 0, Dims{2, 12})
	if k.Output(0).Type() != Float16 {
		t.Errorf("type %v, want float16", k.Output(0).Type())
	}
	// SetReshapeDimensions clears input 1.
	k.SetReshapeDimensions(Dims{24})
	if k.Input(1) != nil || k.NbInputs() != 1 {
		t.Error("SetReshapeDimensions did not clear input 1")
	}
	datamoveWantDims(t, k, 0, Dims{24})
}

func TestShuffleKeepsShapeValues(t *testing.T) {
	n := NewNetwork()
	v := datamoveKnownInput(n, "v", Int64, 5, 7)
	l := n.AddShuffle(v)
	l.SetReshapeDimensions(Dims{1, 2})
	m := n.AddShuffle(l.Output(0))
	m.SetReshapeDimensions(Dims{-1})
	got, ok := m.Output(0).KnownValues()
	if !ok || len(got) != 2 || got[0] != 5 || got[1] != 7 {
		t.Errorf("known values %v %v, want [5 7]", got, ok)
	}
}

func TestShuffleErrors(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{2, 3, 4})
	dyn := n.AddInput("dyn", Float32, Dims{-1, 3})
	mk := func(in *Tensor) *ShuffleLayer { return n.AddShuffle(in) }

	l := mk(x)
	l.SetFirstTranspose(Permutation{0, 1})
	datamoveWantErr(t, l, diag.InvalidNode, "has 2 entries, want 3")
	l = mk(x)
	l.SetFirstTranspose(Permutation{0, 1, 1})
	datamoveWantErr(t, l, diag.InvalidNode, "axis 1 appears twice")
	l = mk(x)
	l.SetFirstTranspose(Permutation{0, 1, 3})
	datamoveWantErr(t, l, diag.InvalidNode, "outside [0, 3)")
	l = mk(x)
	l.SetReshapeDimensions(Dims{4, 5})
	datamoveWantErr(t, l, diag.ShapeMismatch, "volumes differ")
	l = mk(x)
	l.SetReshapeDimensions(Dims{5, -1})
	datamoveWantErr(t, l, diag.ShapeMismatch, "not a multiple of 5")
	l = mk(x)
	l.SetReshapeDimensions(Dims{-1, -1})
	datamoveWantErr(t, l, diag.InvalidNode, "at most one")
	l = mk(x)
	l.SetReshapeDimensions(Dims{-2, 12})
	datamoveWantErr(t, l, diag.InvalidNode, "dimension 0 is -2")
	l = mk(x)
	l.SetReshapeDimensions(Dims{0, 0, 0, 0})
	datamoveWantErr(t, l, diag.InvalidNode, "only 3 dimensions")
	l = mk(x)
	l.SetZeroIsPlaceholder(false)
	l.SetReshapeDimensions(Dims{0, -1})
	datamoveWantErr(t, l, diag.InvalidNode, "cannot be inferred")
	l = mk(x)
	l.SetReshapeDimensions(Dims{24})
	l.SetSecondTranspose(Permutation{1, 0})
	datamoveWantErr(t, l, diag.InvalidNode, "second transpose")
	l = mk(x)
	l.SetInput(1, n.AddInput("fshape", Float32, Dims{2}))
	datamoveWantErr(t, l, diag.TypeMismatch, "must be Int32 or Int64")
	l = mk(x)
	l.SetInput(1, n.AddInput("dshape", Int64, Dims{-1}))
	datamoveWantErr(t, l, diag.ShapeMismatch, "dynamic length")
	l = mk(x)
	l.SetInput(1, n.AddInput("mshape", Int64, Dims{2, 1}))
	datamoveWantErr(t, l, diag.ShapeMismatch, "1-D")
	l = mk(x)
	l.SetInput(1, datamoveKnownInput(n, "badknown", Int64, 7, -1))
	datamoveWantErr(t, l, diag.ShapeMismatch, "not a multiple of 7")
	// A dynamic input never fails at build time over a volume.
	l = mk(dyn)
	l.SetReshapeDimensions(Dims{7, 5})
	datamoveWantDims(t, l, 0, Dims{7, 5})
}
