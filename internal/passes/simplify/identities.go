package simplify

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Identities removes layers that compute nothing and merges chains that
// compute one thing, bit for bit:
//
//   - Identity layers (trtc networks are strongly typed: an Identity never
//     changes the type);
//   - a Cast to its input's own type, and a Cast of a Cast through a type
//     that holds every value of the first (castLossless), which becomes
//     one Cast, or nothing when it comes back to the first type;
//   - Shuffles that do nothing (identity transposes, a reshape to the
//     same dims), and consecutive Shuffles that one Shuffle expresses
//     (identities_shuffle.go);
//   - an Unsqueeze of a Squeeze (or the reverse) over the same axes.
//
// Rules are small functions that return false for "no match"; each layer
// outside regions is offered to the rule for its kind, in topological
// order, so a rule sees the rewrites of the layers before it. Layers left
// without readers by a rewrite are dropped; layers that had none before
// are left to DeadLayers. A layer whose output is a network output stays
// when removing it would make that output a network input or another
// output.
func Identities(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	p := newPlan(g.Net)
	for _, l := range p.order {
		if p.inRegion[l] {
			continue
		}
		switch l := l.(type) {
		case *dsl.IdentityLayer:
			p.alias(l, l.Input(0))
		case *dsl.CastLayer:
			p.simplifyCast(l)
		case *dsl.ShuffleLayer:
			p.simplifyShuffle(l)
		case *dsl.SqueezeLayer:
			p.cancelSqueeze(l, dsl.LayerUnsqueeze)
		case *dsl.UnsqueezeLayer:
			p.cancelSqueeze(l, dsl.LayerSqueeze)
		}
	}
	p.dropUnread()
	return p.apply(g)
}

// castLossless reports whether every value of type a is exactly a value of
// type b. Then a Cast a->b loses nothing, so a->b->c converts exactly like
// a->c for every c: tensor.Convert (the semantics of Cast) is a function of
// the value alone (round to nearest even, truncate and saturate, != 0), and
// it sees the same value either way. a->b->a is the identity.
//
// The table, and why the rest are not in it:
//
//	Bool  -> every other type: 0 and 1 are exact everywhere.
//	Int8  -> Int32, Int64, Float32, Float16, BFloat16: |v| <= 128 needs at
//	         most 8 significant bits (BFloat16 has 8, Float16 11).
//	         Not UInt8: negatives saturate to 0.
//	UInt8 -> Int32, Int64, Float32, Float16, BFloat16: v <= 255, 8 bits.
//	         Not Int8: 128..255 saturate to 127.
//	Int32 -> Int64. Not Float32: 2^24+1 rounds (Int32->Float32->Int32 is
//	         not the identity). Int64 widens to nothing: Int64->Int32 saturates.
//	Float16  -> Float32. Not BFloat16: it has 8 significant bits to
//	            Float16's 11 (1+2^-10 rounds).
//	BFloat16 -> Float32. Not Float16: its range ends at 65504 (1e30 is Inf).
//	Float32  -> nothing: Float32->Float16->Float32 rounds, and a narrowing
//	            cast is never exact in general.
//
// Float to integer casts are never lossless (fractions truncate).
func castLossless(a, b dsl.DataType) bool {
	switch a {
	case dsl.Bool:
		switch b {
		case dsl.Int8, dsl.UInt8, dsl.Int32, dsl.Int64, dsl.Float32, dsl.Float16, dsl.BFloat16:
			return true
		}
	case dsl.Int8, dsl.UInt8:
		switch b {
		case dsl.Int32, dsl.Int64, dsl.Float32, dsl.Float16, dsl.BFloat16:
			return true
		}
	case dsl.Int32:
		return b == dsl.Int64
	case dsl.Float16, dsl.BFloat16:
		return b == dsl.Float32
	}
	return false
}

// castSpec is a Cast of in to to, replacing the layers named.
type castSpec struct {
	in    *dsl.Tensor
	to    dsl.DataType
	names []string
}

func (s *castSpec) reads() []*dsl.Tensor { return []*dsl.Tensor{s.in} }

func (s *castSpec) build(r *ir.Rebuilder) dsl.Layer {
	l := r.Dst.AddCast(r.Map(s.in), s.to)
	l.SetName(joinNames(s.names))
	return l
}

// castOf returns the cast the resolved tensor t is the output of, when it
// is one outside regions that is copied or replaced by a cast.
func (p *plan) castOf(t *dsl.Tensor) *castSpec {
	l, a := p.producer(t)
	switch {
	case l == nil:
		return nil
	case a.kind == actBuild:
		s, _ := a.spec.(*castSpec)
		return s
	case a.kind == actCopy && l.Type() == dsl.LayerCast:
		return &castSpec{in: p.res(l.Input(0)), to: l.(*dsl.CastLayer).ToType(), names: []string{l.Name()}}
	}
	return nil
}

// simplifyCast removes a cast to its input's type, and merges a cast of a
// lossless cast into one cast from the first input (or nothing).
func (p *plan) simplifyCast(l *dsl.CastLayer) bool {
	x := p.res(l.Input(0))
	s := &castSpec{in: x, to: l.ToType(), names: []string{l.Name()}}
	if inner := p.castOf(x); inner != nil && castLossless(inner.in.Type(), inner.to) {
		s = &castSpec{in: inner.in, to: s.to, names: append(append([]string{}, inner.names...), s.names...)}
	}
	if s.in.Type() == s.to && p.alias(l, s.in) {
		return true
	}
	// A merged cast that still converts: worth it only when the inner
	// cast then goes away (this cast was its only reader).
	if s.in != x && p.uses[x] == 1 {
		p.replace(l, s)
		return true
	}
	return false
}

// cancelSqueeze removes a Squeeze of an Unsqueeze (or an Unsqueeze of a
// Squeeze) over the same axes: the second undoes the first. other is the
// kind of the first.
func (p *plan) cancelSqueeze(l dsl.Layer, other dsl.LayerType) bool {
	inner, a := p.producer(p.res(l.Input(0)))
	if inner == nil || a.kind != actCopy || inner.Type() != other {
		return false
	}
	// Squeeze axes count in its input's rank, Unsqueeze axes in its
	// output's: for a pair that cancels, both are the larger of the ranks
	// of the tensor between them and of the pair's input.
	rank := max(l.Input(0).Rank(), inner.Input(0).Rank())
	a1, ok1 := knownAxes(l.Input(1), rank)
	a2, ok2 := knownAxes(inner.Input(1), rank)
	if !ok1 || !ok2 || len(a1) != len(a2) {
		return false
	}
	for k := range a1 {
		if !a2[k] {
			return false
		}
	}
	return p.alias(l, inner.Input(0))
}

// knownAxes reads a squeeze's axes tensor, normalized to rank.
func knownAxes(t *dsl.Tensor, rank int) (map[int]bool, bool) {
	if t == nil {
		return nil, false
	}
	v, ok := t.KnownValues()
	if !ok {
		return nil, false
	}
	axes, err := dsl.SqueezeNormAxes(v, rank)
	if err != nil {
		return nil, false
	}
	m := map[int]bool{}
	for _, a := range axes {
		m[a] = true
	}
	return m, true
}
