package cuda

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// runTranspose does on the host what the tiled transpose kernel does with
// metadata m over n tiles, tile by tile and thread by thread.
func runTranspose(m []int64, n, elem int64, dst, src []byte) {
	A, B, sa, db, so, do := m[0], m[1], m[2], m[3], m[4], m[5]
	br := int(m[6])
	bd, bss, bds := m[7:7+br], m[7+br:7+2*br], m[7+2*br:7+3*br]
	tA, tB := (A+31)/32, (B+31)/32
	put := func(d, s int64) { copy(dst[d*elem:(d+1)*elem], src[s*elem:(s+1)*elem]) }
	for t := int64(0); t < n; t++ {
		a0, b0, z := t%tA*32, t/tA%tB*32, t/(tA*tB)
		s, d := so+offsetOf(z, bd, bss), do+offsetOf(z, bd, bds)
		for k := int64(0); k < 32; k++ {
			for tx := int64(0); tx < 32; tx++ {
				if a, b := a0+tx, b0+k; a < A && b < B {
					put(d+b*db+a, s+a*sa+b)
				}
			}
		}
	}
}

// TestTiledTransposesMoveTheSameBytes plans random transposes whose
// innermost dim moves and checks that the tiled kernel's arithmetic
// writes what the element copy writes; copies that keep the innermost
// dim are not tiled.
func TestTiledTransposesMoveTheSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tiled := 0
	for trial := 0; trial < 300; trial++ {
		elem := []int64{1, 2, 4, 8}[rng.IntN(4)]
		rank := 2 + rng.IntN(3)
		in := make([]int64, rank)
		for k := range in {
			in[k] = int64(1 + rng.IntN(5))
		}
		in[rank-1] = int64(8 + rng.IntN(60))
		in[rng.IntN(rank-1)] = int64(8 + rng.IntN(60))
		perm := rng.Perm(rank)
		is := contiguous(in)
		dims, ss := make([]int64, rank), make([]int64, rank)
		for k, a := range perm {
			dims[k], ss[k] = in[a], is[a]
		}
		m := copyMeta(dims, ss, contiguous(dims), 3, 5)
		n := volume(dims)
		src := make([]byte, (n+3)*elem)
		for k := range src {
			src[k] = byte(rng.IntN(256))
		}
		want, got := make([]byte, (n+5)*elem), make([]byte, (n+5)*elem)
		runCopy(m, n, elem, want, src)
		tm, tiles, ok := transposeMeta(m)
		if ok && perm[rank-1] == rank-1 {
			t.Fatalf("in %v perm %v: a copy that keeps its innermost dim is tiled", in, perm)
		}
		if !ok {
			continue
		}
		tiled++
		runTranspose(tm, tiles, elem, got, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("in %v perm %v elem %d: the tiled transpose writes other bytes", in, perm, elem)
		}
	}
	if tiled < 50 {
		t.Fatalf("only %d of 300 transposes were tiled", tiled)
	}
}
