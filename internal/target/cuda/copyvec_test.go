package cuda

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// runCopy does on the host what the copy kernels do with metadata m for
// elements of elem bytes.
func runCopy(m []int64, n, elem int64, dst, src []byte) {
	r := int(m[0])
	d, ss, ds := m[1:1+r], m[1+r:1+2*r], m[1+2*r:1+3*r]
	so, do := m[1+3*r], m[2+3*r]
	for i := int64(0); i < n; i++ {
		s, t := (so+offsetOf(i, d, ss))*elem, (do+offsetOf(i, d, ds))*elem
		copy(dst[t:t+elem], src[s:s+elem])
	}
}

// TestWideCopiesMoveTheSameBytes widens random transposes with a
// contiguous innermost dim and checks that the 16-byte copy writes what
// the element copy writes, and that copies that cannot widen are refused.
func TestWideCopiesMoveTheSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	widened := 0
	for trial := 0; trial < 400; trial++ {
		elem := []int64{1, 2, 4, 8}[rng.IntN(4)]
		rank := 2 + rng.IntN(3)
		in := make([]int64, rank)
		for k := range in {
			in[k] = int64(1 + rng.IntN(4))
		}
		in[rank-1] = int64(1+rng.IntN(3)) * (16 / elem) // often widenable
		if rng.IntN(4) == 0 {
			in[rank-1]++ // not a multiple
		}
		perm := append(rng.Perm(rank-1), rank-1) // the innermost dim stays innermost
		if rng.IntN(5) == 0 {
			perm = rng.Perm(rank) // sometimes not
		}
		is := contiguous(in)
		dims, ss := make([]int64, rank), make([]int64, rank)
		for k, a := range perm {
			dims[k], ss[k] = in[a], is[a]
		}
		m := copyMeta(dims, ss, contiguous(dims), 0, 0)
		n := volume(dims)
		src := make([]byte, n*elem)
		for k := range src {
			src[k] = byte(rng.IntN(256))
		}
		want, got := make([]byte, len(src)), make([]byte, len(src))
		runCopy(m, n, elem, want, src)
		wm, wn, ok := widenCopy(m, elem)
		if !ok {
			// A copy that collapses to one dim, contiguous on both sides,
			// whose length divides into 16-byte elements must widen.
			if m[0] == 1 && m[2] == 1 && m[3] == 1 && m[1]%(16/elem) == 0 {
				t.Errorf("a contiguous copy of %v (elements of %d bytes) was not widened", dims, elem)
			}
			continue
		}
		widened++
		if wn*16 != n*elem {
			t.Fatalf("wide copy of %d elements of 16 bytes for %d of %d", wn, n, elem)
		}
		runCopy(wm, wn, 16, got, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("dims %v strides %v, %d-byte elements: the wide copy (meta %v) differs from the element copy (meta %v)", dims, ss, elem, wm, m)
		}
	}
	if widened < 100 {
		t.Errorf("only %d of 400 copies widened", widened)
	}
	// The innermost dim not contiguous on the source: refused.
	if _, _, ok := widenCopy(copyMeta([]int64{4, 8}, []int64{1, 4}, []int64{8, 1}, 0, 0), 4); ok {
		t.Error("a transpose of the innermost dim was widened")
	}
	// An offset that does not divide: refused.
	if _, _, ok := widenCopy(copyMeta([]int64{2, 8}, []int64{8, 1}, []int64{8, 1}, 2, 0), 4); ok {
		t.Error("a copy from an offset of 2 floats was widened")
	}
}

// TestFixedKernelNamesListEveryFixedKernel checks the names the loader
// looks up in the fixed module are exactly the kernels its source defines.
func TestFixedKernelNamesListEveryFixedKernel(t *testing.T) {
	src := fixedModuleSource()
	var defined []string
	for _, part := range strings.Split(src, `extern "C" __global__ void `)[1:] {
		defined = append(defined, part[:strings.Index(part, "(")])
	}
	listed := fixedKernelNames()
	sort.Strings(defined)
	sort.Strings(listed)
	if !slices.Equal(defined, listed) {
		t.Errorf("the fixed module defines %v; the loader looks up %v", defined, listed)
	}
}
