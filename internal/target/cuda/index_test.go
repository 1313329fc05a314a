package cuda

import (
	"math/rand/v2"
	"testing"
)

// kernelOffset reads operand j's offset for output index i from pointwise
// metadata the way the generated kernel does.
func kernelOffset(meta []int64, j int, i int64) int64 {
	r := int(meta[0])
	d := meta[1 : 1+r]
	at := 1 + r + j*(r+1)
	mode, s := meta[at], meta[at+1:at+1+r]
	switch mode {
	case indexSame:
		return i
	case indexScalar:
		return 0
	}
	return offsetOf(i, d, s)
}

// naiveOffset is the offset of the input element that output index i of
// dims out reads, with the input's broadcast dims pinned to 0.
func naiveOffset(i int64, out, in []int64) int64 {
	idx := make([]int64, len(out))
	for k := len(out) - 1; k >= 0; k-- {
		idx[k] = i % out[k]
		i /= out[k]
	}
	var o int64
	lead := len(out) - len(in)
	for k := range in {
		c := idx[lead+k]
		if in[k] == 1 {
			c = 0
		}
		o = o*in[k] + c
	}
	return o
}

func TestBroadcastMetaMatchesBroadcasting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		rank := rng.IntN(5)
		out := make([]int64, rank)
		for k := range out {
			out[k] = int64(1 + rng.IntN(4))
		}
		var ins [][]int64
		for j := 0; j < 1+rng.IntN(3); j++ {
			in := append([]int64(nil), out...)
			for k := range in {
				if rng.IntN(3) == 0 {
					in[k] = 1
				}
			}
			ins = append(ins, in)
		}
		meta := broadcastMeta(out, ins)
		for i := int64(0); i < volume(out); i++ {
			for j, in := range ins {
				if got, want := kernelOffset(meta, j, i), naiveOffset(i, out, in); got != want {
					t.Fatalf("out %v input %d %v: index %d reads %d, want %d (meta %v)", out, j, in, i, got, want, meta)
				}
			}
		}
	}
}

func TestBroadcastMetaModes(t *testing.T) {
	for _, c := range []struct {
		out, in []int64
		mode    int64
		rank    int64
	}{
		{[]int64{32, 128, 3072}, []int64{32, 128, 3072}, indexSame, 1},
		{[]int64{32, 128, 3072}, []int64{1, 1, 1}, indexScalar, 1},
		{[]int64{32, 128, 768}, []int64{1, 1, 768}, indexStrided, 2},
		{[]int64{8, 64, 7, 7}, []int64{1, 64, 1, 1}, indexStrided, 3},
	} {
		meta := broadcastMeta(c.out, [][]int64{c.out, c.in})
		r := meta[0]
		if r != c.rank {
			t.Errorf("%v by %v: collapsed to rank %d (%v), want %d", c.out, c.in, r, meta[1:1+r], c.rank)
		}
		if m := meta[1+r+(r+1)]; m != c.mode {
			t.Errorf("%v by %v: mode %d, want %d", c.out, c.in, m, c.mode)
		}
	}
}

func TestCopyMetaMatchesStridedCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		rank := 1 + rng.IntN(4)
		in := make([]int64, rank)
		for k := range in {
			in[k] = int64(1 + rng.IntN(5))
		}
		perm := rng.Perm(rank)
		is := contiguous(in)
		dims := make([]int64, rank)
		ss := make([]int64, rank)
		for k, a := range perm {
			dims[k], ss[k] = in[a], is[a]
			if rng.IntN(4) == 0 && dims[k] > 1 { // a reversed axis
				ss[k] = -ss[k]
			}
		}
		var so int64
		for k := range dims {
			if ss[k] < 0 {
				so += -ss[k] * (dims[k] - 1)
			}
		}
		ds := contiguous(dims)
		meta := copyMeta(dims, ss, ds, so, 7)
		r := int(meta[0])
		d, ms, md := meta[1:1+r], meta[1+r:1+2*r], meta[1+2*r:1+3*r]
		if meta[1+3*r] != so || meta[2+3*r] != 7 || meta[3+3*r] != 1 {
			t.Fatalf("tail %v, want offsets %d 7 and the 32-bit flag", meta[1+3*r:], so)
		}
		for i := int64(0); i < volume(dims); i++ {
			if got, want := offsetOf(i, d, ms), offsetOf(i, dims, ss); got != want {
				t.Fatalf("dims %v strides %v: index %d reads %d, want %d (meta %v)", dims, ss, i, got, want, meta)
			}
			if got, want := offsetOf(i, d, md), offsetOf(i, dims, ds); got != want {
				t.Fatalf("dims %v: index %d writes %d, want %d", dims, i, got, want)
			}
		}
	}
}

func TestNormalizationMetaModes(t *testing.T) {
	m := normalizationMeta([]int64{32, 128, 768}, 1, []int64{1, 1, 768}, []int64{1, 1, 1})
	r := int(m[1])
	if ms, mb := m[2+r], m[2+r+1+r]; ms != indexInRow || mb != indexScalar {
		t.Errorf("layer norm: scale mode %d, bias mode %d; want %d and %d", ms, mb, indexInRow, indexScalar)
	}
	m = normalizationMeta([]int64{2, 16, 7, 7}, 2, []int64{1, 16, 1, 1}, []int64{1, 16, 1, 1})
	if ms := m[2+4]; ms != indexStrided {
		t.Errorf("instance norm: scale mode %d, want %d", ms, indexStrided)
	}
}

func TestPointwiseIndexBakesConstants(t *testing.T) {
	p := newPointwiseIndex([]int64{4, 3, 5}, [][]int64{{4, 3, 5}, {1, 3, 1}, {1, 1, 1}, {4, 1, 5}})
	for k, want := range []string{"(int)i", "(int)(((i / 5u) % 3u) * 1u)", "0", "(int)((i % 5u) * 1u + (i / 15u) * 5u)"} {
		if got := p.expr(k, true); got != want {
			t.Errorf("input %d: offset %s, want %s", k, got, want)
		}
	}
	if got, want := p.expr(1, false), "(((i / 5LL) % 3LL) * 1LL)"; got != want {
		t.Errorf("64-bit offset %s, want %s", got, want)
	}
}
