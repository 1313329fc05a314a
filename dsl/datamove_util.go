package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// Helpers shared by the data-movement layers (shuffle, slice, gather, ...).

// datamoveCheckPerm reports why perm is not a permutation of 0..rank-1, or "".
func datamoveCheckPerm(perm Permutation, rank int) string {
	if len(perm) != rank {
		return fmt.Sprintf("has %d entries, want %d (one per axis of the rank-%d tensor)", len(perm), rank, rank)
	}
	seen := make([]bool, rank)
	for i, p := range perm {
		if p < 0 || p >= rank {
			return fmt.Sprintf("entry %d is %d, outside [0, %d)", i, p, rank)
		}
		if seen[p] {
			return fmt.Sprintf("axis %d appears twice", p)
		}
		seen[p] = true
	}
	return ""
}

// datamoveShapeInput checks that optional input i is a 1-D Int32/Int64
// tensor (a shape tensor such as reshape dims or slice starts) and returns
// its length (-1 if dynamic). what names the input in messages.
func datamoveShapeInput(c *inferCtx, i int, what string) (int64, bool) {
	t := c.in(i)
	if t.dtype != Int32 && t.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "input %d (%s, %q) must be Int32 or Int64, got %v", i, what, t.name, t.dtype)
		return 0, false
	}
	if len(t.dims) != 1 {
		c.errorf(diag.ShapeMismatch, "input %d (%s, %q) must be a 1-D tensor, got dims %v", i, what, t.name, t.dims)
		return 0, false
	}
	return t.dims[0], true
}

// datamoveCompatible reports whether two dims can be equal at run time:
// same rank, and equal wherever both are known.
func datamoveCompatible(a, b Dims) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] >= 0 && b[i] >= 0 && a[i] != b[i] {
			return false
		}
	}
	return true
}
