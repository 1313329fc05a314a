package simplify

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// unchanged fails t when pass rebuilt n.
func unchanged(t *testing.T, pass passFunc, n *dsl.Network) {
	t.Helper()
	if err := n.Err(); err != nil {
		t.Fatalf("the test network is invalid: %v", err)
	}
	g := ir.New(n)
	ng, err := pass(g, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ng != g {
		t.Errorf("the pass rewrote a network it should leave alone: %s became %s", kinds(n), kinds(ng.Net))
	}
}

func TestIdentitiesIdentity(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	id := n.AddIdentity(n.AddIdentity(x).Output(0))
	y := n.AddActivation(id.Output(0), dsl.ActivationReLU)
	n.MarkOutput(y.Output(0))
	// A second output of the same value: this Identity stays, two outputs
	// cannot be one tensor.
	n.MarkOutput(n.AddIdentity(y.Output(0)).Output(0))
	g := runPass(t, Identities, n)
	wantKinds(t, g, "Activation:1 Identity:1")

	// x -> Identity -> output: removing it makes the output an input.
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddIdentity(n.AddInput("x", dsl.Float32, dsl.Dims{2})).Output(0))
	unchanged(t, Identities, n)
}

// castChain builds in -> Cast(types[0]) -> Cast(types[1]) ... ->
// Concatenation with itself (defined on every type), an output.
func castChain(in dsl.DataType, types ...dsl.DataType) *dsl.Network {
	n := dsl.NewNetwork()
	t := n.AddInput("x", in, dsl.Dims{2, 3})
	for _, dt := range types {
		t = n.AddCast(t, dt).Output(0)
	}
	n.MarkOutput(n.AddConcatenation([]*dsl.Tensor{t, t}).Output(0))
	return n
}

func TestIdentitiesCasts(t *testing.T) {
	f32, f16, bf16, i8, u8, i32, i64, b := dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int8, dsl.UInt8, dsl.Int32, dsl.Int64, dsl.Bool
	for _, c := range []struct {
		name  string
		in    dsl.DataType
		chain []dsl.DataType
		casts int // left after the pass
	}{
		{"to its own type", f32, []dsl.DataType{f32}, 0},
		{"f16->f32->f16", f16, []dsl.DataType{f32, f16}, 0},
		{"bf16->f32->bf16", bf16, []dsl.DataType{f32, bf16}, 0},
		{"i32->i64->i32", i32, []dsl.DataType{i64, i32}, 0},
		{"u8->i32->u8", u8, []dsl.DataType{i32, u8}, 0},
		{"bool->f32->bool", b, []dsl.DataType{f32, b}, 0},
		{"f16->f32->i32 becomes f16->i32", f16, []dsl.DataType{f32, i32}, 1},
		{"u8->i32->f32->f16 becomes u8->f16", u8, []dsl.DataType{i32, f32, f16}, 1},
		{"i8->f16->f32->i8 is the identity", i8, []dsl.DataType{f16, f32, i8}, 0},
		// Not exact: the middle type loses values of the first.
		{"f32->f16->f32", f32, []dsl.DataType{f16, f32}, 2},
		{"i64->i32->i64", i64, []dsl.DataType{i32, i64}, 2},
		{"i32->f32->i32", i32, []dsl.DataType{f32, i32}, 2},
		{"f16->bf16->f16", f16, []dsl.DataType{bf16, f16}, 2},
		{"bf16->f16->bf16", bf16, []dsl.DataType{f16, bf16}, 2},
		{"i8->u8->i8", i8, []dsl.DataType{u8, i8}, 2},
		{"f32->i32->f32", f32, []dsl.DataType{i32, f32}, 2},
		{"f32->bool->f32", f32, []dsl.DataType{b, f32}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := castChain(c.in, c.chain...)
			if c.casts == len(c.chain) {
				unchanged(t, Identities, n)
				return
			}
			g := runPass(t, Identities, n)
			want := "Concatenation:1"
			if c.casts > 0 {
				want = "Cast:1 Concatenation:1"
			}
			wantKinds(t, g, want)
		})
	}
}

func TestCastLosslessTable(t *testing.T) {
	// Check every pair the table calls lossless against tensor conversion
	// (the CPU engine's Cast): every value of the 8- and 16-bit types, and
	// edge values of the rest, must come back unchanged.
	types := []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int8, dsl.UInt8, dsl.Int32, dsl.Int64, dsl.Bool}
	for _, a := range types {
		for _, b := range types {
			if a == b || !castLossless(a, b) {
				continue
			}
			x := castSamples(a)
			y, err := x.Convert(b)
			if err != nil {
				t.Fatal(err)
			}
			z, err := y.Convert(a)
			if err != nil {
				t.Fatal(err)
			}
			xv, zv := x.Float64s(), z.Float64s()
			for i := range xv {
				if xv[i] != zv[i] && xv[i] == xv[i] {
					t.Errorf("castLossless(%v, %v), but %v -> %v -> %v gives %v", a, b, xv[i], y.Float64s()[i], a, zv[i])
					break
				}
			}
		}
	}
}

func TestIdentitiesCastKeepsSharedCast(t *testing.T) {
	// f16 -> f32 is read twice: the cast back to f16 goes (its reader reads
	// x), the widening cast stays for its other reader.
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float16, dsl.Dims{2, 3})
	w := n.AddCast(x, dsl.Float32).Output(0)
	n.MarkOutput(n.AddUnary(w, dsl.UnaryAbs).Output(0))
	n.MarkOutput(n.AddUnary(n.AddCast(w, dsl.Float16).Output(0), dsl.UnaryAbs).Output(0))
	g := runPass(t, Identities, n)
	wantKinds(t, g, "Cast:1 Unary:2")
}

func TestIdentitiesShuffles(t *testing.T) {
	shuffle := func(n *dsl.Network, in *dsl.Tensor, first dsl.Permutation, reshape dsl.Dims, second dsl.Permutation) *dsl.Tensor {
		l := n.AddShuffle(in)
		if first != nil {
			l.SetFirstTranspose(first)
		}
		if reshape != nil {
			l.SetReshapeDimensions(reshape)
		}
		if second != nil {
			l.SetSecondTranspose(second)
		}
		return l.Output(0)
	}
	type step struct {
		first   dsl.Permutation
		reshape dsl.Dims
		second  dsl.Permutation
	}
	for _, c := range []struct {
		name     string
		in       dsl.Dims
		steps    []step
		shuffles int // left after the pass
	}{
		{"empty shuffle", dsl.Dims{2, 3}, []step{{}}, 0},
		{"identity transposes", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{0, 1, 2}, second: dsl.Permutation{0, 1, 2}}}, 0},
		{"reshape to the same dims", dsl.Dims{2, 3}, []step{{reshape: dsl.Dims{2, 3}}}, 0},
		{"placeholders over dynamic dims", dsl.Dims{-1, 3}, []step{{reshape: dsl.Dims{0, 3}}}, 0},
		{"two reshapes", dsl.Dims{2, 3, 4}, []step{{reshape: dsl.Dims{6, 4}}, {reshape: dsl.Dims{4, 6}}}, 1},
		{"two reshapes back", dsl.Dims{2, 3, 4}, []step{{reshape: dsl.Dims{6, 4}}, {reshape: dsl.Dims{2, 3, 4}}}, 0},
		{"three reshapes, -1", dsl.Dims{2, 3, 4}, []step{{reshape: dsl.Dims{-1}}, {reshape: dsl.Dims{4, -1}}, {reshape: dsl.Dims{2, 2, 6}}}, 1},
		{"placeholder of a static dim", dsl.Dims{2, 3, 4}, []step{{reshape: dsl.Dims{6, 4}}, {reshape: dsl.Dims{0, 2, 2}}}, 1},
		{"placeholders over a dynamic dim", dsl.Dims{-1, 3, 4}, []step{{reshape: dsl.Dims{0, 12}}, {reshape: dsl.Dims{0, 2, 6}}}, 1},
		{"transposes that cancel", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{1, 2, 0}}, {first: dsl.Permutation{2, 0, 1}}}, 0},
		{"two transposes", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{1, 0, 2}}, {second: dsl.Permutation{0, 2, 1}}}, 1},
		{"transpose then reshape", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{2, 0, 1}}, {reshape: dsl.Dims{4, 6}, second: dsl.Permutation{1, 0}}}, 1},
		{"reshape then transpose", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{1, 0, 2}, reshape: dsl.Dims{3, 8}}, {first: dsl.Permutation{1, 0}}}, 1},
		{"full shuffle then transpose", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{2, 0, 1}, reshape: dsl.Dims{4, 6}, second: dsl.Permutation{1, 0}}, {first: dsl.Permutation{1, 0}}}, 1},
		{"full shuffle then transpose and back", dsl.Dims{2, 3, 4}, []step{{first: dsl.Permutation{2, 0, 1}, reshape: dsl.Dims{4, 3, 2}, second: dsl.Permutation{1, 2, 0}}, {second: dsl.Permutation{0, 2, 1}}}, 1},
		// Not expressible as one shuffle: a transpose between reshapes.
		{"reshape, transpose, reshape", dsl.Dims{2, 3, 4}, []step{{reshape: dsl.Dims{6, 4}, second: dsl.Permutation{1, 0}}, {reshape: dsl.Dims{24}}}, 2},
		// A placeholder copying a dynamic dim a's reshape does not copy.
		{"placeholder of a dynamic dim after a transpose", dsl.Dims{-1, 3, 4}, []step{{first: dsl.Permutation{1, 0, 2}, reshape: dsl.Dims{0, -1}}, {reshape: dsl.Dims{0, 0, 1}}}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := dsl.NewNetwork()
			x := n.AddInput("x", dsl.Float32, c.in)
			y := n.AddUnary(x, dsl.UnaryAbs).Output(0)
			for _, s := range c.steps {
				y = shuffle(n, y, s.first, s.reshape, s.second)
			}
			n.MarkOutput(n.AddUnary(y, dsl.UnaryNeg).Output(0))
			if c.shuffles == len(c.steps) {
				unchanged(t, Identities, n)
				return
			}
			g := runPass(t, Identities, n)
			want := "Unary:2"
			if c.shuffles > 0 {
				want = "Shuffle:1 Unary:2"
			}
			wantKinds(t, g, want)
		})
	}
}

func TestIdentitiesShuffleLeftAlone(t *testing.T) {
	// Reshape dims from a tensor: not looked at.
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	s := n.AddShuffle(n.AddUnary(x, dsl.UnaryAbs).Output(0))
	s.SetInput(1, constI64(n, 2, 3))
	n.MarkOutput(n.AddUnary(s.Output(0), dsl.UnaryNeg).Output(0))
	unchanged(t, Identities, n)

	// A no-op shuffle from an input to an output.
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddShuffle(n.AddInput("x", dsl.Float32, dsl.Dims{2})).Output(0))
	unchanged(t, Identities, n)

	// A reshape that keeps a dynamic dim's size, but not its dims: -1
	// stays -1, the 1 does not become static.
	n = dsl.NewNetwork()
	x = n.AddInput("x", dsl.Float32, dsl.Dims{-1, 1})
	s = n.AddShuffle(n.AddUnary(x, dsl.UnaryAbs).Output(0))
	s.SetReshapeDimensions(dsl.Dims{-1, 1})
	n.MarkOutput(n.AddUnary(s.Output(0), dsl.UnaryNeg).Output(0))
	unchanged(t, Identities, n)
}

func TestIdentitiesSqueezePairs(t *testing.T) {
	for _, c := range []struct {
		name        string
		in          dsl.Dims
		first, then dsl.LayerType
		axes1, ax2  []int64
		removed     bool
	}{
		{"squeeze, unsqueeze", dsl.Dims{2, 1, 3}, dsl.LayerSqueeze, dsl.LayerUnsqueeze, []int64{1}, []int64{-2}, true},
		{"unsqueeze, squeeze", dsl.Dims{2, 3}, dsl.LayerUnsqueeze, dsl.LayerSqueeze, []int64{0, 3}, []int64{3, 0}, true},
		{"different axes", dsl.Dims{2, 1, 3}, dsl.LayerUnsqueeze, dsl.LayerSqueeze, []int64{0}, []int64{2}, false},
		{"dynamic dim squeezed", dsl.Dims{2, -1, 3}, dsl.LayerSqueeze, dsl.LayerUnsqueeze, []int64{1}, []int64{1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := dsl.NewNetwork()
			x := n.AddInput("x", dsl.Float32, c.in)
			y := n.AddUnary(x, dsl.UnaryAbs).Output(0)
			for i, k := range []dsl.LayerType{c.first, c.then} {
				axes := constI64(n, [][]int64{c.axes1, c.ax2}[i]...)
				if k == dsl.LayerSqueeze {
					y = n.AddSqueeze(y, axes).Output(0)
				} else {
					y = n.AddUnsqueeze(y, axes).Output(0)
				}
			}
			n.MarkOutput(n.AddUnary(y, dsl.UnaryNeg).Output(0))
			if !c.removed {
				unchanged(t, Identities, n)
				return
			}
			g := runPass(t, Identities, n)
			wantKinds(t, g, "Unary:2")
		})
	}
}

// castSamples is every value of the types of at most 16 bits (by bit
// pattern) and edge values of the wider ones.
func castSamples(dt dsl.DataType) *tensor.Tensor {
	switch dt {
	case dsl.Float16, dsl.BFloat16:
		x := tensor.New(dt, 1<<16)
		b := x.Bytes()
		for i := 0; i < 1<<16; i++ {
			b[2*i], b[2*i+1] = byte(i), byte(i>>8)
		}
		return x
	case dsl.Int8, dsl.UInt8, dsl.Bool:
		n := map[dsl.DataType]int{dsl.Int8: 256, dsl.UInt8: 256, dsl.Bool: 2}[dt]
		x := tensor.New(dt, int64(n))
		copy(x.Bytes(), func() []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}())
		return x
	}
	vals := []float64{0, 1, -1, 2, 1 << 24, 1<<24 + 1, math.MaxInt32, math.MinInt32, 1.5, 1 + 1.0/1024, 65504, 1e30, 1e-40, math.Inf(1), math.Inf(-1)}
	ints := []int64{0, 1, -1, 1<<24 + 1, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, 1<<53 + 1}
	if dt == dsl.Int32 || dt == dsl.Int64 {
		x := tensor.New(dt, int64(len(ints)))
		for i, v := range ints {
			x.SetInt64(int64(i), v)
		}
		return x
	}
	x := tensor.New(dt, int64(len(vals)))
	for i, v := range vals {
		x.SetFloat64(int64(i), v)
	}
	return x
}

func TestIdentitiesLeaveRegionsAlone(t *testing.T) {
	// An Identity and a no-op Shuffle in a loop body are copied as they
	// are; the Identity before the loop goes.
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	trip := n.AddConstant(dsl.Dims{}, dsl.Int64Weights(3)).Output(0)
	lp := n.AddLoop()
	lp.AddTripLimit(trip, dsl.TripLimitCount)
	rec := lp.AddRecurrence(n.AddIdentity(x).Output(0))
	body := n.AddShuffle(n.AddIdentity(n.AddElementWise(rec.Output(0), x, dsl.ElementWiseSum).Output(0)).Output(0))
	rec.SetInput(1, body.Output(0))
	n.MarkOutput(lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0))
	g := runPass(t, Identities, n)
	wantKinds(t, g, "Constant:1 ElementWise:1 Identity:1 LoopOutput:1 Recurrence:1 Shuffle:1 TripLimit:1")
}
