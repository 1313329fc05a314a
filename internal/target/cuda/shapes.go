package cuda

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// resolveDims returns the concrete dims of every tensor of net when its
// inputs have the given shapes: the network is copied with static input
// dims and inferred again (shape arithmetic that depends only on input
// dims becomes static). A tensor left dynamic depends on data, which the
// CUDA target does not run yet; the error names the layer.
func resolveDims(net *dsl.Network, shapes map[string][]int64) (map[*dsl.Tensor][]int64, error) {
	r := ir.NewRebuilder(net)
	for _, l := range net.TopoLayers() {
		r.Copy(l)
	}
	cp, err := r.Finish()
	if err != nil {
		return nil, err
	}
	for _, in := range cp.Inputs() {
		s, ok := shapes[in.Name()]
		if !ok {
			return nil, diag.Errorf(diag.InvalidArgument, "no shape for input %q", in.Name())
		}
		in.SetDims(dsl.Dims(s))
	}
	if err := cp.Err(); err != nil {
		return nil, err
	}
	dims := map[*dsl.Tensor][]int64{}
	for _, t := range net.Tensors() {
		c := r.Map(t)
		if c == nil {
			continue
		}
		d := c.Dims()
		if !d.IsStatic() {
			l, _ := t.Producer()
			name := t.Name()
			if l != nil {
				name = dsl.LayerString(l)
			}
			return nil, &diag.Error{Code: diag.UnsupportedNode, Index: -1, Layer: name,
				Msg: fmt.Sprintf("the output dims %v of %s depend on data, which the CUDA target does not run yet", d, name)}
		}
		dims[t] = d
	}
	return dims, nil
}

// shapeKey identifies a set of input shapes.
func shapeKey(shapes map[string][]int64) string {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s:%v;", n, shapes[n])
	}
	return b.String()
}

func volume(d []int64) int64 {
	v := int64(1)
	for _, x := range d {
		v *= x
	}
	return v
}

// arena assigns each buffer an offset in one allocation, by liveness:
// a buffer's bytes are reused once its last reader has run.
type arena struct {
	free []span // sorted by offset
	size int64
}

type span struct{ off, n int64 }

const arenaAlign = 256

func (a *arena) alloc(n int64) int64 {
	n = (n + arenaAlign - 1) &^ (arenaAlign - 1)
	if n == 0 {
		n = arenaAlign
	}
	for i, s := range a.free {
		if s.n >= n {
			off := s.off
			if s.n == n {
				a.free = append(a.free[:i], a.free[i+1:]...)
			} else {
				a.free[i] = span{s.off + n, s.n - n}
			}
			return off
		}
	}
	off := a.size
	a.size += n
	return off
}

func (a *arena) release(off, n int64) {
	n = (n + arenaAlign - 1) &^ (arenaAlign - 1)
	if n == 0 {
		n = arenaAlign
	}
	a.free = append(a.free, span{off, n})
	sort.Slice(a.free, func(i, j int) bool { return a.free[i].off < a.free[j].off })
	// merge neighbours
	out := a.free[:0]
	for _, s := range a.free {
		if k := len(out); k > 0 && out[k-1].off+out[k-1].n == s.off {
			out[k-1].n += s.n
			continue
		}
		out = append(out, s)
	}
	a.free = out
}
