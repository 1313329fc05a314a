package cpu

import (
	"context"
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func ctlScalarI32(t *testing.T, v int64) *tensor.Tensor {
	return mustTensor(t, tensor.Int32, []int64{}, []float64{float64(v)})
}

// TestLoopCountedSum sums the rows of a sequence through a recurrence,
// also for a dynamic sequence length, fp16, and a trip count smaller
// than the sequence.
func TestLoopCountedSum(t *testing.T) {
	rng := newRNG(11)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		for _, count := range []int64{5, 3, 0} {
			net := dsl.NewNetwork()
			seq := net.AddInput("seq", dt, dsl.Dims{-1, 3})
			init := net.AddInput("init", dt, dsl.Dims{3})
			cnt := net.AddInput("count", tensor.Int32, dsl.Dims{})
			lp := net.AddLoop()
			lp.AddTripLimit(cnt, dsl.TripLimitCount)
			rec := lp.AddRecurrence(init)
			it := lp.AddIterator(seq, 0, false)
			rec.SetInput(1, net.AddElementWise(rec.Output(0), it.Output(0), dsl.ElementWiseSum).Output(0))
			out := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
			net.MarkOutput(out)
			s, sv := randTensor(t, rng, dt, 5, 3)
			i0, iv := randTensor(t, rng, dt, 3)
			got := runNet(t, net, map[string]*tensor.Tensor{"seq": s, "init": i0, "count": ctlScalarI32(t, count)})[out.Name()]
			want := append([]float64{}, iv...)
			for r := int64(0); r < count; r++ {
				for c := range want {
					want[c] = roundTo(dt, []float64{want[c] + sv[int(r)*3+c]})[0]
				}
			}
			checkClose(t, got, []int64{3}, want, 1)
		}
	}
}

// TestLoopIteratorReverseConcat iterates a [4,2] tensor backwards along
// axis 0 and collects the slices with Concatenate (axis 0 and 1) and
// Reverse outputs.
func TestLoopIteratorReverseConcat(t *testing.T) {
	rng := newRNG(12)
	net := dsl.NewNetwork()
	x := net.AddInput("x", tensor.Float32, dsl.Dims{4, 2})
	cnt := net.AddInput("count", tensor.Int64, dsl.Dims{})
	lp := net.AddLoop()
	lp.AddTripLimit(cnt, dsl.TripLimitCount)
	it := lp.AddIterator(x, -2, true)
	v := net.AddActivation(it.Output(0), dsl.ActivationReLU).Output(0)
	cat0 := lp.AddLoopOutput(v, dsl.LoopOutputConcatenate, 0)
	cat1 := lp.AddLoopOutput(it.Output(0), dsl.LoopOutputConcatenate, -1)
	rev := lp.AddLoopOutput(it.Output(0), dsl.LoopOutputReverse, 0)
	for _, o := range []*dsl.LoopOutputLayer{cat0, cat1, rev} {
		o.SetInput(1, cnt)
		net.MarkOutput(o.Output(0))
	}
	xt, xv := randTensor(t, rng, tensor.Float32, 4, 2)
	c, _ := tensor.FromInt64([]int64{}, []int64{4})
	out := runNet(t, net, map[string]*tensor.Tensor{"x": xt, "count": c})
	var w0, w1, wr []float64
	for i := 0; i < 4; i++ { // iteration i reads row 3-i
		for j := 0; j < 2; j++ {
			w0 = append(w0, max(xv[(3-i)*2+j], 0))
		}
	}
	for j := 0; j < 2; j++ { // [2,4]: column i is iteration i
		for i := 0; i < 4; i++ {
			w1 = append(w1, xv[(3-i)*2+j])
		}
	}
	wr = append(wr, xv...) // reversing the reversed rows gives x
	checkClose(t, out[cat0.Output(0).Name()], []int64{4, 2}, w0, 1)
	checkClose(t, out[cat1.Output(0).Name()], []int64{2, 4}, w1, 1)
	checkClose(t, out[rev.Output(0).Name()], []int64{4, 2}, wr, 1)
}

// ctlWhileDoubling builds: x = start; while x < limit { x *= 2 }, with the
// values of every iteration collected into room slots.
func ctlWhileDoubling() (*dsl.Network, *dsl.Tensor, *dsl.Tensor) {
	net := dsl.NewNetwork()
	start := net.AddInput("start", tensor.Int32, dsl.Dims{})
	limit := net.AddInput("limit", tensor.Int32, dsl.Dims{})
	two := net.AddInput("two", tensor.Int32, dsl.Dims{})
	room := net.AddInput("room", tensor.Int32, dsl.Dims{})
	lp := net.AddLoop()
	rec := lp.AddRecurrence(start)
	lp.AddTripLimit(net.AddElementWise(rec.Output(0), limit, dsl.ElementWiseLess).Output(0), dsl.TripLimitWhile)
	rec.SetInput(1, net.AddElementWise(rec.Output(0), two, dsl.ElementWiseProd).Output(0))
	last := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	all := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputConcatenate, 0)
	all.SetInput(1, room)
	net.MarkOutput(last)
	net.MarkOutput(all.Output(0))
	return net, last, all.Output(0)
}

func TestLoopWhileDoubling(t *testing.T) {
	net, last, all := ctlWhileDoubling()
	in := map[string]*tensor.Tensor{"start": ctlScalarI32(t, 1), "limit": ctlScalarI32(t, 101), "two": ctlScalarI32(t, 2), "room": ctlScalarI32(t, 10)}
	out := runNet(t, net, in)
	x, values := int64(1), []float64{}
	for x <= 100 {
		values = append(values, float64(x))
		x *= 2
	}
	checkClose(t, out[last.Name()], []int64{}, []float64{float64(x)}, 1)
	for len(values) < 10 {
		values = append(values, 0) // slots after the last iteration
	}
	checkClose(t, out[all.Name()], []int64{10}, values, 1)

	// A start already past the limit runs zero times.
	in["start"] = ctlScalarI32(t, 200)
	out = runNet(t, net, in)
	checkClose(t, out[last.Name()], []int64{}, []float64{200}, 1)

	// Too little room for the iterations is a run time error.
	in["start"], in["room"] = ctlScalarI32(t, 1), ctlScalarI32(t, 3)
	if err := runErr(net, in); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("want OutOfRange, got %v", err)
	}
}

// TestLoopWhileAndCount stops at whichever limit ends first.
func TestLoopWhileAndCount(t *testing.T) {
	net, last, _ := ctlWhileDoubling()
	lp := net.Loops()[0]
	lp.AddTripLimit(net.Input(3), dsl.TripLimitCount) // room doubles as the count
	in := map[string]*tensor.Tensor{"start": ctlScalarI32(t, 1), "limit": ctlScalarI32(t, 101), "two": ctlScalarI32(t, 2), "room": ctlScalarI32(t, 3)}
	checkClose(t, runNet(t, net, in)[last.Name()], []int64{}, []float64{8}, 1)
}

// TestLoopNested sums the squares of a matrix: the outer loop iterates
// rows, the inner loop the elements of each row, with the running sum
// carried through both.
func TestLoopNested(t *testing.T) {
	rng := newRNG(13)
	net := dsl.NewNetwork()
	m := net.AddInput("m", tensor.Float32, dsl.Dims{3, 4})
	acc0 := net.AddInput("acc", tensor.Float32, dsl.Dims{})
	c3 := net.AddInput("c3", tensor.Int32, dsl.Dims{})
	c4 := net.AddInput("c4", tensor.Int32, dsl.Dims{})
	outer := net.AddLoop()
	outer.AddTripLimit(c3, dsl.TripLimitCount)
	orec := outer.AddRecurrence(acc0)
	row := outer.AddIterator(m, 0, false)
	inner := net.AddLoop()
	inner.AddTripLimit(c4, dsl.TripLimitCount)
	irec := inner.AddRecurrence(orec.Output(0))
	el := inner.AddIterator(row.Output(0), 0, false).Output(0)
	sq := net.AddElementWise(el, el, dsl.ElementWiseProd).Output(0)
	irec.SetInput(1, net.AddElementWise(irec.Output(0), sq, dsl.ElementWiseSum).Output(0))
	orec.SetInput(1, inner.AddLoopOutput(irec.Output(0), dsl.LoopOutputLastValue, 0).Output(0))
	// Each outer iteration also records its row's running total.
	rows := outer.AddLoopOutput(orec.Output(0), dsl.LoopOutputConcatenate, 0)
	rows.SetInput(1, c3)
	out := outer.AddLoopOutput(orec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	net.MarkOutput(out)
	net.MarkOutput(rows.Output(0))
	mt, mv := randTensor(t, rng, tensor.Float32, 3, 4)
	a0, av := randTensor(t, rng, tensor.Float32)
	got := runNet(t, net, map[string]*tensor.Tensor{"m": mt, "acc": a0, "c3": ctlScalarI32(t, 3), "c4": ctlScalarI32(t, 4)})
	sum := av[0]
	var starts []float64
	for i := 0; i < 3; i++ {
		starts = append(starts, sum)
		for j := 0; j < 4; j++ {
			sum += mv[i*4+j] * mv[i*4+j]
		}
	}
	checkClose(t, got[out.Name()], []int64{}, []float64{sum}, 12)
	checkClose(t, got[rows.Output(0).Name()], []int64{3}, starts, 12)
}

// ctlIfNet: out = c ? relu(x) * y : x - y.
func ctlIfNet() (*dsl.Network, *dsl.Tensor) {
	net := dsl.NewNetwork()
	c := net.AddInput("c", tensor.Bool, dsl.Dims{})
	x := net.AddInput("x", tensor.Float32, dsl.Dims{-1, 3})
	y := net.AddInput("y", tensor.Float32, dsl.Dims{1, 3})
	ic := net.AddIfConditional()
	ic.SetCondition(c)
	xi := ic.AddInput(x).Output(0)
	relu := net.AddActivation(xi, dsl.ActivationReLU).Output(0)
	tr := net.AddElementWise(relu, y, dsl.ElementWiseProd).Output(0)
	fa := net.AddElementWise(xi, y, dsl.ElementWiseSub).Output(0)
	out := ic.AddOutput(tr, fa).Output(0)
	net.MarkOutput(out)
	return net, out
}

func TestIfEachBranch(t *testing.T) {
	rng := newRNG(14)
	net, out := ctlIfNet()
	e, err := New(net)
	if err != nil {
		t.Fatal(err)
	}
	xt, xv := randTensor(t, rng, tensor.Float32, 2, 3)
	yt, yv := randTensor(t, rng, tensor.Float32, 1, 3)
	for _, cond := range []bool{true, false} {
		ct, _ := tensor.FromBool([]int64{}, []bool{cond})
		res, err := e.Run(context.Background(), map[string]*tensor.Tensor{"c": ct, "x": xt, "y": yt})
		if err != nil {
			t.Fatal(err)
		}
		var want []float64
		for i := range xv {
			if cond {
				want = append(want, max(xv[i], 0)*yv[i%3])
			} else {
				want = append(want, xv[i]-yv[i%3])
			}
		}
		checkClose(t, res[out.Name()], []int64{2, 3}, want, 1)
	}
}

// TestIfInsideLoop accumulates |v[i]| with an if-conditional per element:
// acc + v[i] when v[i] > 0, acc - v[i] otherwise.
func TestIfInsideLoop(t *testing.T) {
	rng := newRNG(15)
	net := dsl.NewNetwork()
	v := net.AddInput("v", tensor.Float32, dsl.Dims{-1})
	zero := net.AddInput("zero", tensor.Float32, dsl.Dims{})
	count := net.AddInput("count", tensor.Int32, dsl.Dims{})
	lp := net.AddLoop()
	lp.AddTripLimit(count, dsl.TripLimitCount)
	acc := lp.AddRecurrence(zero)
	e := lp.AddIterator(v, 0, false).Output(0)
	ic := net.AddIfConditional()
	ic.SetCondition(net.AddElementWise(e, zero, dsl.ElementWiseGreater).Output(0))
	a := ic.AddInput(acc.Output(0)).Output(0)
	x := ic.AddInput(e).Output(0)
	sum := net.AddElementWise(a, x, dsl.ElementWiseSum).Output(0)
	diff := net.AddElementWise(a, x, dsl.ElementWiseSub).Output(0)
	acc.SetInput(1, ic.AddOutput(sum, diff).Output(0))
	out := lp.AddLoopOutput(acc.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	net.MarkOutput(out)
	vt, vv := randTensor(t, rng, tensor.Float32, 7)
	z := mustTensor(t, tensor.Float32, []int64{}, []float64{0})
	got := runNet(t, net, map[string]*tensor.Tensor{"v": vt, "zero": z, "count": ctlScalarI32(t, 7)})[out.Name()]
	want := 0.0
	for _, x := range vv {
		if x > 0 {
			want += x
		} else {
			want -= x
		}
	}
	checkClose(t, got, []int64{}, []float64{want}, 7)

	// More iterations than the iterated axis: OutOfRange at run time.
	if err := runErr(net, map[string]*tensor.Tensor{"v": vt, "zero": z, "count": ctlScalarI32(t, 8)}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("want OutOfRange, got %v", err)
	}
}

// TestRegionCycle: a layer outside the loop reads the loop's output and
// feeds the loop body, so no order exists.
func TestRegionCycle(t *testing.T) {
	net := dsl.NewNetwork()
	init := net.AddInput("init", tensor.Float32, dsl.Dims{2})
	cnt := net.AddInput("count", tensor.Int32, dsl.Dims{})
	lp := net.AddLoop()
	lp.AddTripLimit(cnt, dsl.TripLimitCount)
	rec := lp.AddRecurrence(init)
	lo := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	outside := net.AddActivation(lo, dsl.ActivationTanh).Output(0)
	rec.SetInput(1, net.AddElementWise(rec.Output(0), outside, dsl.ElementWiseSum).Output(0))
	net.MarkOutput(lo)
	if _, err := New(net); !errors.Is(err, diag.InvalidGraph) {
		t.Fatalf("want InvalidGraph, got %v", err)
	}
}

// TestRecurrenceShapeChangeAtRunTime: with a dynamic initial shape, a next
// value that broadcasts to another shape is caught at run time.
func TestRecurrenceShapeChangeAtRunTime(t *testing.T) {
	net := dsl.NewNetwork()
	init := net.AddInput("init", tensor.Float32, dsl.Dims{-1})
	y := net.AddInput("y", tensor.Float32, dsl.Dims{3})
	lp := net.AddLoop()
	lp.AddTripLimit(net.AddInput("count", tensor.Int32, dsl.Dims{}), dsl.TripLimitCount)
	rec := lp.AddRecurrence(init)
	rec.SetInput(1, net.AddElementWise(rec.Output(0), y, dsl.ElementWiseSum).Output(0))
	net.MarkOutput(lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0))
	yt, _ := randTensor(t, newRNG(19), tensor.Float32, 3)
	in := map[string]*tensor.Tensor{"init": mustTensor(t, tensor.Float32, []int64{1}, []float64{1}), "y": yt, "count": ctlScalarI32(t, 2)}
	if err := runErr(net, in); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("want ShapeMismatch, got %v", err)
	}
	// The same shape throughout is fine.
	in["init"] = mustTensor(t, tensor.Float32, []int64{3}, []float64{1, 2, 3})
	if err := runErr(net, in); err != nil {
		t.Fatal(err)
	}
}

// TestLoopInsideIf runs a summing loop only in the true branch.
func TestLoopInsideIf(t *testing.T) {
	rng := newRNG(20)
	net := dsl.NewNetwork()
	c := net.AddInput("c", tensor.Bool, dsl.Dims{})
	seq := net.AddInput("seq", tensor.Float32, dsl.Dims{4, 2})
	x := net.AddInput("x", tensor.Float32, dsl.Dims{2})
	cnt := net.AddInput("count", tensor.Int32, dsl.Dims{})
	ic := net.AddIfConditional()
	ic.SetCondition(c)
	xi := ic.AddInput(x).Output(0)
	lp := net.AddLoop()
	lp.AddTripLimit(cnt, dsl.TripLimitCount)
	rec := lp.AddRecurrence(xi)
	it := lp.AddIterator(seq, 0, false)
	rec.SetInput(1, net.AddElementWise(rec.Output(0), it.Output(0), dsl.ElementWiseSum).Output(0))
	sum := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	out := ic.AddOutput(sum, xi).Output(0)
	net.MarkOutput(out)
	regs := net.Regions()
	if len(regs) != 2 || len(regs[0].TrueBranch) != 5 || len(regs[0].FalseBranch) != 0 {
		t.Fatalf("true branch %d layers, false %d", len(regs[0].TrueBranch), len(regs[0].FalseBranch))
	}
	st, sv := randTensor(t, rng, tensor.Float32, 4, 2)
	xt, xv := randTensor(t, rng, tensor.Float32, 2)
	for _, cond := range []bool{true, false} {
		ct, _ := tensor.FromBool([]int64{}, []bool{cond})
		// With the false branch taken the loop must not run: a count past
		// the sequence would fail if it did.
		count := int64(4)
		if !cond {
			count = 9
		}
		got := runNet(t, net, map[string]*tensor.Tensor{"c": ct, "seq": st, "x": xt, "count": ctlScalarI32(t, count)})[out.Name()]
		want := append([]float64{}, xv...)
		if cond {
			for i := 0; i < 4; i++ {
				for j := range want {
					want[j] += sv[i*2+j]
				}
			}
		}
		checkClose(t, got, []int64{2}, want, 4)
	}
}

// TestReverseIteratorWhileLoop: without a Count limit a reversed iterator
// counts back from the end of its axis.
func TestReverseIteratorWhileLoop(t *testing.T) {
	rng := newRNG(21)
	net := dsl.NewNetwork()
	v := net.AddInput("v", tensor.Float32, dsl.Dims{3})
	i0 := net.AddInput("i0", tensor.Int32, dsl.Dims{})
	one := net.AddInput("one", tensor.Int32, dsl.Dims{})
	n := net.AddInput("n", tensor.Int32, dsl.Dims{})
	lp := net.AddLoop()
	i := lp.AddRecurrence(i0)
	lp.AddTripLimit(net.AddElementWise(i.Output(0), n, dsl.ElementWiseLess).Output(0), dsl.TripLimitWhile)
	i.SetInput(1, net.AddElementWise(i.Output(0), one, dsl.ElementWiseSum).Output(0))
	it := lp.AddIterator(v, 0, true)
	cat := lp.AddLoopOutput(it.Output(0), dsl.LoopOutputConcatenate, 0)
	cat.SetInput(1, n)
	net.MarkOutput(cat.Output(0))
	vt, vv := randTensor(t, rng, tensor.Float32, 3)
	got := runNet(t, net, map[string]*tensor.Tensor{"v": vt, "i0": ctlScalarI32(t, 0), "one": ctlScalarI32(t, 1), "n": ctlScalarI32(t, 3)})[cat.Output(0).Name()]
	checkClose(t, got, []int64{3}, []float64{vv[2], vv[1], vv[0]}, 1)
}

// TestLoopEmptyAndZeroTrips: an empty iterated tensor with zero trips gives
// an empty concatenation and the initial value.
func TestLoopEmptyAndZeroTrips(t *testing.T) {
	net := dsl.NewNetwork()
	seq := net.AddInput("seq", tensor.Float32, dsl.Dims{-1, 2})
	init := net.AddInput("init", tensor.Float32, dsl.Dims{2})
	cnt := net.AddInput("count", tensor.Int32, dsl.Dims{})
	lp := net.AddLoop()
	lp.AddTripLimit(cnt, dsl.TripLimitCount)
	rec := lp.AddRecurrence(init)
	it := lp.AddIterator(seq, 0, false)
	rec.SetInput(1, net.AddElementWise(rec.Output(0), it.Output(0), dsl.ElementWiseSum).Output(0))
	last := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0).Output(0)
	cat := lp.AddLoopOutput(it.Output(0), dsl.LoopOutputConcatenate, 1)
	cat.SetInput(1, cnt)
	net.MarkOutput(last)
	net.MarkOutput(cat.Output(0))
	in := map[string]*tensor.Tensor{"seq": tensor.New(tensor.Float32, 0, 2), "init": mustTensor(t, tensor.Float32, []int64{2}, []float64{3, -4}), "count": ctlScalarI32(t, 0)}
	out := runNet(t, net, in)
	checkClose(t, out[last.Name()], []int64{2}, []float64{3, -4}, 1)
	checkClose(t, out[cat.Output(0).Name()], []int64{2, 0}, nil, 1)
}
