package cpu

// perfRows reads two inputs broadcast to an output shape as rows: the
// output is rows × n values, and row r of the output reads input k from
// offset off(k, r) with a step of inner[k] (1, or 0 where the input is
// broadcast along the row). Adjacent dims that every input reads the same
// way are merged first, so a same-shape operation is one long row and a
// per-channel one (N,C,H,W with 1,C,1,1) has rows of H*W values with a
// scalar from the second input; only the start of each row needs index
// arithmetic, unlike broadcastIndex's slice of offsets per element.
type perfRows struct {
	n, rows int
	inner   [2]int
	dims    []int    // outer dims, outermost first
	st      [2][]int // each input's strides for the outer dims
}

// newPerfRows plans the rows for inputs of shapes a and b broadcast to out
// (the output of dsl.BroadcastDims; shorter inputs are aligned right).
func newPerfRows(out, a, b []int64) perfRows {
	var st [2][]int64
	for k, s := range [2][]int64{a, b} {
		full := make([]int64, len(out))
		for i := range full {
			full[i] = 1
		}
		copy(full[len(out)-len(s):], s)
		st[k] = broadcastStrides(full, out)
	}
	// Merge from the innermost dim outwards, skipping dims of size 1.
	type dim struct {
		size int
		st   [2]int
	}
	var ds []dim // innermost first
	for d := len(out) - 1; d >= 0; d-- {
		if out[d] == 1 {
			continue
		}
		cur := dim{int(out[d]), [2]int{int(st[0][d]), int(st[1][d])}}
		if m := len(ds) - 1; m >= 0 && cur.st[0] == ds[m].st[0]*ds[m].size && cur.st[1] == ds[m].st[1]*ds[m].size {
			ds[m].size *= cur.size
			continue
		}
		ds = append(ds, cur)
	}
	p := perfRows{n: 1, rows: 1}
	if len(ds) > 0 {
		p.n, p.inner = ds[0].size, ds[0].st
		ds = ds[1:]
	}
	for k := range 2 {
		p.st[k] = make([]int, len(ds))
	}
	p.dims = make([]int, len(ds))
	for i, d := range ds { // reverse to outermost first
		j := len(ds) - 1 - i
		p.dims[j] = d.size
		p.st[0][j], p.st[1][j] = d.st[0], d.st[1]
		p.rows *= d.size
	}
	if p.n == 0 {
		p.rows = 0
	}
	return p
}

// offsets returns where row r starts in each input.
func (p *perfRows) offsets(r int) (oa, ob int) {
	for j := len(p.dims) - 1; j >= 0; j-- {
		i := r % p.dims[j]
		r /= p.dims[j]
		oa += i * p.st[0][j]
		ob += i * p.st[1][j]
	}
	return oa, ob
}
