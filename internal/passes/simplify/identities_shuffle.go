package simplify

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// The Shuffle rules of Identities. A Shuffle is transpose, reshape,
// transpose; a permutation p moves input axis p[i] to output axis i, and
// nil is the identity. Shuffles whose reshape dims come from a second
// input tensor are left alone: their dims are known only at run time.

// shuffleSpec is a Shuffle of in, replacing the layers named.
type shuffleSpec struct {
	in            *dsl.Tensor
	first, second dsl.Permutation // nil: identity
	reshape       dsl.Dims        // nil: no reshape
	zip           bool            // a 0 in reshape copies the input dim
	names         []string
}

func (s *shuffleSpec) reads() []*dsl.Tensor { return []*dsl.Tensor{s.in} }

func (s *shuffleSpec) build(r *ir.Rebuilder) dsl.Layer {
	l := r.Dst.AddShuffle(r.Map(s.in))
	if s.first != nil {
		l.SetFirstTranspose(s.first)
	}
	if s.reshape != nil {
		l.SetReshapeDimensions(s.reshape)
	}
	l.SetZeroIsPlaceholder(s.zip)
	if s.second != nil {
		l.SetSecondTranspose(s.second)
	}
	l.SetName(joinNames(s.names))
	return l
}

// shuffleOf returns the shuffle the resolved tensor t is the output of,
// when it is one outside regions, with static parameters, that is copied
// or replaced by a shuffle.
func (p *plan) shuffleOf(t *dsl.Tensor) *shuffleSpec {
	l, a := p.producer(t)
	switch {
	case l == nil:
		return nil
	case a.kind == actBuild:
		s, _ := a.spec.(*shuffleSpec)
		return s
	case a.kind == actCopy && l.Type() == dsl.LayerShuffle:
		return p.ownShuffle(l.(*dsl.ShuffleLayer))
	}
	return nil
}

// ownShuffle describes l as it is, or nil when its reshape dims are a
// tensor.
func (p *plan) ownShuffle(l *dsl.ShuffleLayer) *shuffleSpec {
	if l.Input(1) != nil {
		return nil
	}
	return &shuffleSpec{in: p.res(l.Input(0)), first: normPerm(l.FirstTranspose()), second: normPerm(l.SecondTranspose()),
		reshape: l.ReshapeDimensions(), zip: l.ZeroIsPlaceholder(), names: []string{l.Name()}}
}

// simplifyShuffle merges l into the shuffle before it where one shuffle
// expresses both, then removes the result when it does nothing.
func (p *plan) simplifyShuffle(l *dsl.ShuffleLayer) bool {
	s := p.ownShuffle(l)
	if s == nil {
		return false
	}
	x := s.in
	merged := false
	if inner := p.shuffleOf(x); inner != nil && p.uses[x] == 1 {
		if m := mergeShuffles(inner, s, x.Dims()); m != nil && shuffleDimsOK(m, l.Output(0).Dims()) {
			s, merged = m, true
		}
	}
	if s.isNoop() && p.alias(l, s.in) {
		return true
	}
	if merged {
		p.replace(l, s)
		return true
	}
	return false
}

// isNoop reports whether s leaves its input as it is.
func (s *shuffleSpec) isNoop() bool {
	if s.first != nil || s.second != nil {
		return false
	}
	if s.reshape == nil {
		return true
	}
	in := s.in.Dims()
	if len(s.reshape) != len(in) {
		return false
	}
	for i, v := range s.reshape {
		if !(v == 0 && s.zip) && !(v >= 0 && v == in[i]) {
			return false
		}
	}
	return true
}

// mergeShuffles returns one shuffle computing b after a, or nil. mid is
// the dims of a's output.
func mergeShuffles(a, b *shuffleSpec, mid dsl.Dims) *shuffleSpec {
	m := &shuffleSpec{in: a.in, names: append(append([]string{}, a.names...), b.names...)}
	// The one permutation of a shuffle without reshape (its two
	// transposes act on the same axes).
	whole := func(s *shuffleSpec) (dsl.Permutation, bool) { return composePerm(s.first, s.second) }
	var ok bool
	switch {
	case b.reshape == nil:
		// b only permutes: fold its permutation into a's last one.
		pb, okb := whole(b)
		if a.reshape == nil {
			pa, oka := whole(a)
			m.first, ok = composePerm(pa, pb)
			ok = ok && oka && okb
		} else {
			m.first, m.reshape, m.zip = a.first, a.reshape, a.zip
			m.second, ok = composePerm(a.second, pb)
			ok = ok && okb
		}
	case a.reshape == nil:
		// a only permutes: fold its permutation into b's first one.
		pa, oka := whole(a)
		m.first, ok = composePerm(pa, b.first)
		ok = ok && oka
		m.reshape, m.zip, m.second = b.reshape, b.zip, b.second
	case a.second == nil && b.first == nil:
		// Two reshapes with nothing between them: b's reshape applies to
		// a's input as well, once its placeholders (which copy dims of
		// a's output) are replaced by those dims; a -1 is inferred from
		// the same volume either way.
		m.first, m.second = a.first, b.second
		m.reshape, m.zip, ok = fillPlaceholders(a, b, mid)
	}
	if !ok {
		return nil
	}
	m.first, m.second = normPerm(m.first), normPerm(m.second)
	return m
}

// fillPlaceholders rewrites b's reshape dims (b reshapes the output of a,
// whose dims are mid) into dims for a's reshape slot. A placeholder zero of
// b copies mid's dim: it becomes that dim when it is static, and stays a
// placeholder when a's own reshape has a placeholder there too (with no
// transpose before it, both copy the same input dim, however dynamic).
// zip says whether the result keeps placeholders; then it must have no
// literal zero, which would turn into one. false when neither works.
func fillPlaceholders(a, b *shuffleSpec, mid dsl.Dims) (out dsl.Dims, zip, ok bool) {
	out = b.reshape.Clone()
	literalZero := false
	for i, v := range b.reshape {
		switch {
		case v != 0:
		case !b.zip:
			literalZero = true
		case i < len(mid) && mid[i] >= 0:
			out[i] = mid[i]
			literalZero = literalZero || mid[i] == 0
		case a.first == nil && a.zip && i < len(a.reshape) && a.reshape[i] == 0:
			zip = true
		default:
			return nil, false, false
		}
	}
	if zip && literalZero {
		return nil, false, false
	}
	return out, zip, true
}

// shuffleDimsOK reports whether s, applied to its input's dims, gives want
// exactly, as the dsl infers it: a merge must not lose a static dim.
func shuffleDimsOK(s *shuffleSpec, want dsl.Dims) bool {
	d := s.in.Dims()
	if s.first != nil {
		if len(s.first) != len(d) {
			return false
		}
		d = permuteDims(d, s.first)
	}
	if s.reshape != nil {
		r, err := dsl.ResolveReshapeDims(d, s.reshape, s.zip)
		if err != nil {
			return false
		}
		d = r
	}
	if s.second != nil {
		if len(s.second) != len(d) {
			return false
		}
		d = permuteDims(d, s.second)
	}
	return d.Equal(want)
}

func permuteDims(d dsl.Dims, p dsl.Permutation) dsl.Dims {
	out := make(dsl.Dims, len(p))
	for i, a := range p {
		out[i] = d[a]
	}
	return out
}

// composePerm returns the permutation of applying p then q: axis i of the
// result is axis q[i] of p's output, which is axis p[q[i]] of the input.
// nil is the identity. false when the ranks do not fit.
func composePerm(p, q dsl.Permutation) (dsl.Permutation, bool) {
	switch {
	case p == nil:
		return q, true
	case q == nil:
		return p, true
	case len(p) != len(q):
		return nil, false
	}
	out := make(dsl.Permutation, len(q))
	for i, a := range q {
		if a < 0 || a >= len(p) {
			return nil, false
		}
		out[i] = p[a]
	}
	return out, true
}

// normPerm returns nil for an identity permutation.
func normPerm(p dsl.Permutation) dsl.Permutation {
	for i, a := range p {
		if a != i {
			return p
		}
	}
	return nil
}
