package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Det of [*, M, M] matrices, M known at import time: up to 3x3 by the
// Leibniz formula (a signed sum over the M! permutations of products of M
// elements: few layers, exact for small integers), larger by an unrolled
// LU factorization with partial pivoting (sigDetLU), whose layer count
// grows with M, hence the limit.

const (
	sigDetLeibnizMaxM = 3
	sigDetMaxM        = 64
)

func init() {
	register(OpInfo{Op: "Det", Since: 11, Types: "float32, float16, bfloat16 (double widened)",
		Restrictions: "matrices up to 64x64 with a size known at import time"}, importDet)
}

func importDet(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := redNeed(c, 0); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if c.err != nil {
		return nil, c.err
	}
	r, d := x.Rank(), x.Dims()
	if r < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "input %q has dims %v; Det needs [*, M, M]", x.Name(), d)
	}
	if !x.Type().IsFloat() {
		return nil, c.Errorf(diag.TypeMismatch, "input %q is %v; Det takes floats", x.Name(), x.Type())
	}
	m := d[r-1]
	switch {
	case m < 0 || d[r-2] < 0:
		return nil, c.Errorf(diag.UnsupportedAttr, "input %q has dims %v; Det needs the matrix size known at import time", x.Name(), d)
	case d[r-2] != m:
		return nil, c.Errorf(diag.ShapeMismatch, "input %q has dims %v; the last two dims must be equal (square matrices)", x.Name(), d)
	case m > sigDetMaxM:
		return nil, c.Errorf(diag.UnsupportedAttr, "input %q holds %dx%d matrices; Det is imported for up to %dx%d (an unrolled LU factorization: its layers grow with the size)", x.Name(), m, m, sigDetMaxM, sigDetMaxM)
	}
	sq := []int64{int64(r - 2), int64(r - 1)}
	if m == 0 {
		// The determinant of a 0x0 matrix is 1: a ones tensor of the batch
		// shape, made by reducing an empty axis with Prod.
		return []*dsl.Tensor{c.Net().AddReduce(x, dsl.ReduceProd, 3<<uint(r-2), false).Output(0)}, c.err
	}
	if m > sigDetLeibnizMaxM {
		return []*dsl.Tensor{redSqueeze(c, sigDetLU(c, x, m), sq)}, c.err
	}
	elem := make([][]*dsl.Tensor, m)
	for i := range elem {
		elem[i] = make([]*dsl.Tensor, m)
		for j := range elem[i] {
			l := c.Net().AddSlice(x, dsl.Dims{int64(i), int64(j)}, dsl.Dims{1, 1}, dsl.Dims{1, 1})
			l.SetAxes(dsl.Dims{int64(r - 2), int64(r - 1)})
			elem[i][j] = l.Output(0) // [*, 1, 1]
		}
	}
	var sum *dsl.Tensor
	for _, p := range sigPermutations(int(m)) {
		term := elem[0][p.perm[0]]
		for i := 1; i < int(m); i++ {
			term = redEW(c, term, elem[i][p.perm[i]], dsl.ElementWiseProd)
		}
		switch {
		case sum == nil && p.odd:
			sum = redUnary(c, term, dsl.UnaryNeg)
		case sum == nil:
			sum = term
		case p.odd:
			sum = redEW(c, sum, term, dsl.ElementWiseSub)
		default:
			sum = redEW(c, sum, term, dsl.ElementWiseSum)
		}
	}
	return []*dsl.Tensor{redSqueeze(c, sum, sq)}, c.err
}

type sigPerm struct {
	perm []int
	odd  bool
}

// sigPermutations lists the permutations of 0..n-1 with their parity.
func sigPermutations(n int) []sigPerm {
	if n == 1 {
		return []sigPerm{{perm: []int{0}}}
	}
	var out []sigPerm
	for _, p := range sigPermutations(n - 1) {
		// Insert n-1 at every position; moving it left past k elements
		// adds k transpositions.
		for pos := n - 1; pos >= 0; pos-- {
			q := make([]int, 0, n)
			q = append(q, p.perm[:pos]...)
			q = append(q, n-1)
			q = append(q, p.perm[pos:]...)
			out = append(out, sigPerm{perm: q, odd: p.odd != ((n-1-pos)%2 == 1)})
		}
	}
	return out
}
