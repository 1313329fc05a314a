package cuda

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/tensor"
)

// regionRun is what one context keeps for a device region: a context per
// part, on the parent context's stream, and each recurrence's two state
// buffers; a Reverse output of a While loop stacks into stack first.
type regionRun struct {
	subs   []*cudaContext
	state  [][2]*cuda.Buffer
	slices []*cuda.Buffer // an iterator's slice along an axis other than 0
	stack  []*cuda.Buffer
}

func (r *regionRun) close() {
	for _, s := range r.subs {
		if s != nil {
			s.Close()
		}
	}
	for _, st := range r.state {
		for _, b := range st {
			if b != nil {
				b.Free()
			}
		}
	}
	for _, b := range append(slices.Clone(r.stack), r.slices...) {
		if b != nil {
			b.Free()
		}
	}
}

// regionRunOf is step i's regionRun in c, made on first use.
func (c *cudaContext) regionRunOf(i int) (*regionRun, error) {
	if r := c.regionRuns[i]; r != nil {
		return r, nil
	}
	dr := c.x.devRegions[i]
	r := &regionRun{}
	for _, e := range dr.execs {
		s, err := e.newContextOn(c.stream, false)
		if err != nil {
			r.close()
			return nil, err
		}
		s.useGraphs = false // a part runs inside its parent's steps
		r.subs = append(r.subs, s)
	}
	r.state = make([][2]*cuda.Buffer, len(dr.parts.recs))
	r.stack = make([]*cuda.Buffer, len(dr.parts.outs))
	r.slices = make([]*cuda.Buffer, len(dr.parts.iters))
	c.regionRuns[i] = r
	return r, nil
}

// partRun is one run of a part: its context and last phase, and where
// its outputs are until the part runs again (its arena, or an input's
// memory where an output is that input passed through).
type partRun struct {
	c    *cudaContext
	sp   *shapePlan
	outs []cuda.DevicePtr
}

func (p partRun) out(k int) (cuda.DevicePtr, []int64) {
	return p.outs[k], p.sp.dims[p.c.x.net.Outputs()[k]]
}

// runPart runs sub-context s on its inputs, in place at ptrs with dims.
func runPart(ctx context.Context, s *cudaContext, ptrs []cuda.DevicePtr, dims [][]int64) (partRun, error) {
	ins := s.x.net.Inputs()
	shapes := make(map[string][]int64, len(ins))
	for k, t := range ins {
		shapes[t.Name()] = dims[k]
	}
	sp, err := s.prepare(shapes)
	if err != nil {
		return partRun{}, err
	}
	s.bound = make(map[*dsl.Tensor]cuda.DevicePtr, len(ins))
	for k, t := range ins {
		s.bound[t] = ptrs[k]
	}
	defer func() { s.bound = nil }()
	if sp, err = s.runSteps(ctx, sp); err != nil {
		return partRun{}, err
	}
	run := partRun{c: s, sp: sp}
	for _, t := range s.x.net.Outputs() {
		run.outs = append(run.outs, s.addr(sp, t))
	}
	return run, nil
}

// readScalar waits for the stream and reads the integer or bool scalar
// at p.
func (c *cudaContext) readScalar(p cuda.DevicePtr, dt dsl.DataType) (int64, error) {
	if err := c.stream.Synchronize(); err != nil {
		return 0, err
	}
	v := tensor.New(dt)
	if err := c.x.dev.CopyDtoH(v.Bytes(), p); err != nil {
		return 0, err
	}
	return v.Int64At(0), nil
}

// checkPartFaults waits for the stream and reports the first fault the
// parts recorded.
func (c *cudaContext) checkPartFaults(runs []partRun) error {
	for _, p := range runs {
		if p.c != nil {
			if err := p.c.fetchFaults(); err != nil {
				return err
			}
		}
	}
	if err := c.stream.Synchronize(); err != nil {
		return err
	}
	for _, p := range runs {
		if p.c != nil {
			if err := p.c.checkFaults(p.sp); err != nil {
				return err
			}
		}
	}
	return nil
}

// deviceRegion runs device-region step i.
func (c *cudaContext) deviceRegion(ctx context.Context, sp *shapePlan, i int) error {
	r, err := c.regionRunOf(i)
	if err != nil {
		return err
	}
	if c.x.devRegions[i].parts.condition != nil {
		return c.conditional(ctx, sp, i, r)
	}
	return c.loop(ctx, sp, i, r)
}

// bytesOf is the size of t at dims d.
func bytesOf(t *dsl.Tensor, d []int64) int64 { return t.Type().ByteSize(volume(d)) }

// copyOut copies part output k into the parent's tensor t, checking its
// dims against the plan's.
func (c *cudaContext) copyOut(sp *shapePlan, t *dsl.Tensor, p partRun, k int) error {
	src, d := p.out(k)
	if !slices.Equal(d, sp.dims[t]) {
		return diag.Errorf(diag.ShapeMismatch, "%q has dims %v on the GPU but %v were planned", t.Name(), d, sp.dims[t])
	}
	return c.stream.CopyDtoD(c.addr(sp, t), src, int(bytesOf(t, d)))
}

// conditional reads the condition back, runs the branch it picks and
// copies that branch's values into the outputs read after the region.
func (c *cudaContext) conditional(ctx context.Context, sp *shapePlan, i int, r *regionRun) error {
	parts := c.x.devRegions[i].parts
	v, err := c.readScalar(c.addr(sp, parts.condition), parts.condition.Type())
	if err != nil {
		return err
	}
	side := 1
	if v != 0 {
		side = 0
	}
	sn := parts.branches[side]
	ptrs := make([]cuda.DevicePtr, len(sn.ins))
	dims := make([][]int64, len(sn.ins))
	for k, b := range sn.ins {
		ptrs[k], dims[k] = c.addr(sp, b.parent), sp.dims[b.parent]
	}
	run, err := runPart(ctx, r.subs[side], ptrs, dims)
	if err != nil {
		return err
	}
	wanted := c.x.writes[i]
	for k, o := range parts.couts {
		if slices.Contains(wanted, o.Output(0)) {
			if err := c.copyOut(sp, o.Output(0), run, k); err != nil {
				return fmt.Errorf("%s: %w", dsl.LayerString(o), err)
			}
		}
	}
	return c.checkPartFaults([]partRun{run})
}

// loop runs a loop as the CPU engine's loopStep does (internal/target/
// cpu/control.go), on device memory: per iteration the While condition,
// the iterators' slices, the body, the stacked outputs' slots and the
// recurrences' next states.
func (c *cudaContext) loop(ctx context.Context, sp *shapePlan, i int, r *regionRun) error {
	x := c.x
	parts := x.devRegions[i].parts
	st := c.stream
	limit := int64(math.MaxInt64)
	if parts.count != nil {
		t := parts.count.Input(0)
		v, err := c.readScalar(c.addr(sp, t), t.Type())
		if err != nil {
			return err
		}
		limit = max(v, 0)
	}
	stateDims := make([][]int64, len(parts.recs))
	cur := 0
	for k, rc := range parts.recs {
		init := rc.Input(0)
		stateDims[k] = sp.dims[init]
		n := bytesOf(init, stateDims[k])
		for j := range 2 {
			if err := c.ensure(&r.state[k][j], n); err != nil {
				return err
			}
		}
		if err := st.CopyDtoD(r.state[k][0].Ptr(), c.addr(sp, init), int(n)); err != nil {
			return err
		}
	}
	// The outputs read after the loop (live, by index of parts.outs);
	// the stacked ones start as zeros (slots past the last iteration stay
	// zero), and a Reverse output of a loop whose length is not known in
	// advance stacks into r.stack first.
	live := make([]bool, len(parts.outs))
	stacks := make([]stackedOutput, len(parts.outs))
	for k, o := range parts.outs {
		t := o.Output(0)
		live[k] = slices.Contains(x.writes[i], t)
		if parts.contrib[k] < 0 || !live[k] {
			continue
		}
		d := sp.dims[t]
		n := bytesOf(t, d)
		stacks[k] = stackedAlong(o, d)
		if err := st.MemsetD8(c.addr(sp, t), 0, int(n)); err != nil {
			return err
		}
		if o.LoopOutput() == dsl.LoopOutputReverse && parts.while != nil {
			if err := c.ensure(&r.stack[k], n); err != nil {
				return err
			}
		}
	}
	// slice points each iterator at its slice of this trip: in place
	// along axis 0, else copied into r.slices.
	iterPtr := make([]cuda.DevicePtr, len(parts.iters))
	iterDims := make([][]int64, len(parts.iters))
	slice := func(trip int64) error {
		for k, it := range parts.iters {
			src := it.Input(0)
			d := sp.dims[src]
			a, _ := dsl.NormalizeAxis(it.Axis(), len(d))
			idx := trip
			if it.Reverse() {
				m := d[a]
				if parts.count != nil {
					m = limit
				}
				idx = m - 1 - trip
			}
			if idx < 0 || idx >= d[a] {
				return &diag.Error{Code: diag.OutOfRange, Layer: it.Name(), Op: it.Type().String(), Index: it.Index(),
					Msg: fmt.Sprintf("iteration %d reads index %d of axis %d of %q, which has length %d", trip, idx, a, src.Name(), d[a])}
			}
			iterDims[k] = slices.Concat(d[:a], d[a+1:])
			width := bytesOf(src, d[a+1:])
			from := c.addr(sp, src).Add(int(idx * width))
			if volume(d[:a]) == 1 {
				iterPtr[k] = from
				continue
			}
			if err := c.ensure(&r.slices[k], bytesOf(src, iterDims[k])); err != nil {
				return err
			}
			iterPtr[k] = r.slices[k].Ptr()
			if err := c.copyRows(iterPtr[k], from, volume(d[:a]), width, width, d[a]*width); err != nil {
				return err
			}
		}
		return nil
	}
	run := func(sn *subNet, sub *cudaContext) (partRun, error) {
		ptrs := make([]cuda.DevicePtr, len(sn.ins))
		dims := make([][]int64, len(sn.ins))
		for k, b := range sn.ins {
			switch {
			case b.rec >= 0:
				ptrs[k], dims[k] = r.state[b.rec][cur].Ptr(), stateDims[b.rec]
			case b.iter >= 0:
				ptrs[k], dims[k] = iterPtr[b.iter], iterDims[b.iter]
			default:
				ptrs[k], dims[k] = c.addr(sp, b.parent), sp.dims[b.parent]
			}
		}
		return runPart(ctx, sub, ptrs, dims)
	}
	var body, cond partRun
	var trips int64
	for ; trips < limit; trips++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if parts.cond != nil {
			var err error
			if cond, err = run(parts.cond, r.subs[1]); err != nil {
				return err
			}
			p, _ := cond.out(0)
			v, err := c.readScalar(p, parts.while.Input(0).Type())
			if err != nil {
				return err
			}
			if v == 0 {
				break
			}
		}
		if err := slice(trips); err != nil {
			return err
		}
		var err error
		if body, err = run(parts.body, r.subs[0]); err != nil {
			return err
		}
		for k, o := range parts.outs {
			t := o.Output(0)
			if parts.contrib[k] < 0 || !live[k] {
				continue
			}
			so := stacks[k]
			if trips >= so.length {
				return &diag.Error{Code: diag.OutOfRange, Layer: o.Name(), Op: o.Type().String(), Index: o.Index(),
					Msg: fmt.Sprintf("the loop ran at least %d iterations but the %v output %q has room for %d (input 1)", trips+1, o.LoopOutput(), t.Name(), so.length)}
			}
			src, vd := body.out(parts.contrib[k])
			if !slices.Equal(vd, so.elem) {
				return &diag.Error{Code: diag.ShapeMismatch, Layer: o.Name(), Op: o.Type().String(), Index: o.Index(),
					Msg: fmt.Sprintf("%q has shape %v in iteration %d but the output's slots are %v; concatenated values keep one shape", o.Input(0).Name(), vd, trips, so.elem)}
			}
			at, dst := trips, c.addr(sp, t)
			switch {
			case o.LoopOutput() == dsl.LoopOutputReverse && parts.while != nil:
				dst = r.stack[k].Ptr() // reversed when the loop ends
			case o.LoopOutput() == dsl.LoopOutputReverse:
				at = limit - 1 - trips
			}
			if err := c.copyRows(dst.Add(int(at*so.width)), src, so.rows, so.width, so.length*so.width, so.width); err != nil {
				return err
			}
		}
		for k, rc := range parts.recs {
			src, d := body.out(k)
			if !slices.Equal(d, stateDims[k]) {
				return &diag.Error{Code: diag.ShapeMismatch, Layer: rc.Name(), Op: rc.Type().String(), Index: rc.Index(),
					Msg: fmt.Sprintf("next value %q has shape %v in iteration %d but the initial value has %v; a recurrence keeps its shape", rc.Input(1).Name(), d, trips, stateDims[k])}
			}
			if err := st.CopyDtoD(r.state[k][1-cur].Ptr(), src, int(bytesOf(rc.Input(0), d))); err != nil {
				return err
			}
		}
		cur = 1 - cur
	}
	for k, o := range parts.outs {
		t := o.Output(0)
		if !live[k] {
			continue
		}
		switch {
		case parts.contrib[k] < 0:
			rec, _ := o.Input(0).Producer()
			j := slices.IndexFunc(parts.recs, func(rc *dsl.RecurrenceLayer) bool { return dsl.Layer(rc) == rec })
			if j < 0 {
				return &diag.Error{Code: diag.Internal, Layer: o.Name(), Op: o.Type().String(), Index: o.Index(), Msg: "a LastValue output that is not a recurrence of its loop"}
			}
			if err := st.CopyDtoD(c.addr(sp, t), r.state[j][cur].Ptr(), int(bytesOf(t, sp.dims[t]))); err != nil {
				return err
			}
		case o.LoopOutput() == dsl.LoopOutputReverse && parts.while != nil:
			so := stacks[k]
			pitch := so.length * so.width
			for s := int64(0); s < trips; s++ {
				if err := c.copyRows(c.addr(sp, t).Add(int(s*so.width)), r.stack[k].Ptr().Add(int((trips-1-s)*so.width)), so.rows, so.width, pitch, pitch); err != nil {
					return err
				}
			}
		}
	}
	return c.checkPartFaults([]partRun{body, cond})
}

// stackedOutput is the layout of a Concatenate or Reverse loop output
// of dims d along axis a: rows (the volume before a) of length slots of
// width bytes (one value's part after a), and the dims of one value.
type stackedOutput struct {
	rows, width, length int64
	elem                []int64
}

func stackedAlong(o *dsl.LoopOutputLayer, d []int64) stackedOutput {
	a, _ := o.ConcatAxis()
	return stackedOutput{rows: volume(d[:a]), width: bytesOf(o.Output(0), d[a+1:]), length: d[a], elem: slices.Concat(d[:a], d[a+1:])}
}

// rowCopyName names the fixed module's pitched copies: rows of width
// bytes from src, srcPitch bytes apart, to dst, dstPitch bytes apart; in
// bytes ("1") or, where every size and address divides by 4, in words
// ("4"). A device region copies an iterator's slice and a stacked
// output's slot along an axis other than 0 with them.
const rowCopyName = "trtc_rows"

func rowCopyKernels() string {
	var b strings.Builder
	for _, k := range []struct{ n, t string }{{"1", "unsigned char"}, {"4", "unsigned int"}} {
		fmt.Fprintf(&b, `extern "C" __global__ void %s%s(i64 rows, i64 width, i64 dstPitch, i64 srcPitch, %s* __restrict__ dst, const %[3]s* __restrict__ src) {
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < rows * width; e += (i64)gridDim.x * blockDim.x) {
    const i64 r = e / width, c = e %% width;
    dst[r * dstPitch + c] = src[r * srcPitch + c];
  }
}
`, rowCopyName, k.n, k.t)
	}
	return b.String()
}

// copyRows copies rows of width bytes, srcPitch bytes apart at src, to
// dstPitch bytes apart at dst, on c's stream: one contiguous copy where
// the rows are contiguous on both sides, else a pitched copy kernel.
func (c *cudaContext) copyRows(dst, src cuda.DevicePtr, rows, width, dstPitch, srcPitch int64) error {
	if rows == 1 || width == dstPitch && width == srcPitch {
		return c.stream.CopyDtoD(dst, src, int(rows*width))
	}
	if rows*width == 0 {
		return nil
	}
	unit, name := int64(1), rowCopyName+"1"
	if (width|dstPitch|srcPitch|int64(dst)|int64(src))%4 == 0 {
		unit, name = 4, rowCopyName+"4"
	}
	return c.stream.Launch(c.x.fns[name], grid(rows*width/unit), block256, 0, rows, width/unit, dstPitch/unit, srcPitch/unit, dst, src)
}
