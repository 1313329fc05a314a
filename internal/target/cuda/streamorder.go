package cuda

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/tensor"
)

// The stream-order check.
//
// A build runs its engine once more after timing the tactics, on random
// inputs, two ways: with the host waiting for the stream after every
// step, and as an inference runs, every step queued at once. Every
// tactic trtc picks is deterministic, so the two must agree bit for bit.
// They did not on an H200 with cuDNN 9 (ResNet-50 fp16, batch 32,
// 2026-12-02): with cuDNN's engine 41, planned without workspace, on
// layer4's projection shortcut (1x1, stride 2, 1024 to 2048 channels),
// the queued run's logits were off by up to 26 in 40 runs out of 40; a
// host wait after that convolution put them right, while an empty kernel
// after it or a blocking stream did not, so the engine misbehaves unless
// the host waits for it, and timing alone picks it in some builds. Where
// the runs differ, the check finds the library step (cuDNN convolution,
// cuBLASLt matrix multiply) after which a host wait makes them agree,
// excludes the tactic it ran, times the step again without it and checks
// again.

// maxExclusions bounds the rounds of the check.
const maxExclusions = 4

// checkStreamOrder is the stream-order check at these shapes on context
// c, whose tactics are timed. It returns what it excluded, as warnings.
func (c *cudaContext) checkStreamOrder(shapes map[string][]int64) ([]string, error) {
	sp, err := c.prepare(shapes)
	if err != nil {
		return nil, err
	}
	if sp.stop < len(c.x.layers) {
		return nil, nil // dims that depend on data: the runs sync between phases anyway
	}
	if err := c.putRandomInputs(sp); err != nil {
		return nil, err
	}
	every := func(int) bool { return true }
	ref, err := c.runWaitingAfter(sp, every)
	if err != nil {
		return nil, err
	}
	if again, err := c.runWaitingAfter(sp, every); err != nil || !sameBytes(ref, again) {
		return nil, err // a tactic that is not deterministic: nothing to compare
	}
	var warnings []string
	for round := 0; ; round++ {
		ok, err := c.agreesQueued(sp, ref, func(int) bool { return false })
		if err != nil || ok {
			return warnings, err
		}
		if round == maxExclusions {
			return append(warnings, fmt.Sprintf("the engine's outputs at %v still depend on when the host waits for the stream after excluding %d tactics", shapeKey(shapes), round)), nil
		}
		i, err := c.culprit(sp, ref)
		if err != nil {
			return warnings, err
		}
		if i < 0 {
			return append(warnings, fmt.Sprintf("the engine's outputs at %v depend on when the host waits for the stream, and no one step accounts for it", shapeKey(shapes))), nil
		}
		w, ok := c.excludeTactic(sp, i)
		if !ok {
			return append(warnings, w), nil
		}
		warnings = append(warnings, w)
		// Time the step again without the tactic, waiting after each
		// step: the reference's outputs with the new tactic.
		if ref, err = c.runWaitingAfter(sp, every); err != nil {
			return warnings, err
		}
	}
}

// agreesQueued runs the steps, the host waiting after those wait marks,
// twice, and reports whether both runs' outputs are ref's.
func (c *cudaContext) agreesQueued(sp *shapePlan, ref [][]byte, wait func(int) bool) (bool, error) {
	for range 2 {
		got, err := c.runWaitingAfter(sp, wait)
		if err != nil || !sameBytes(ref, got) {
			return false, err
		}
	}
	return true, nil
}

// culprit is the library step after which a host wait makes the queued
// run agree with ref, found by halving the library steps waited after;
// -1 when waiting after all of them does not.
func (c *cudaContext) culprit(sp *shapePlan, ref [][]byte) (int, error) {
	var lib []int
	for i, s := range c.x.plan.Steps {
		if s.Kind == kindConv || s.Kind == kindMatmul {
			lib = append(lib, i)
		}
	}
	prefix := func(n int) func(int) bool {
		set := map[int]bool{}
		for _, i := range lib[:n] {
			set[i] = true
		}
		return func(i int) bool { return set[i] }
	}
	n, err := shortestAgreeingPrefix(len(lib), func(n int) (bool, error) { return c.agreesQueued(sp, ref, prefix(n)) })
	if err != nil || n <= 0 {
		return -1, err
	}
	return lib[n-1], nil
}

// shortestAgreeingPrefix is the least n in 1..total for which agrees(n)
// (waiting after the first n library steps) holds, found by halving on
// the assumption that it holds for every n from there on; 0 when it does
// not hold for total, and agrees(0), no waits, is taken not to hold.
func shortestAgreeingPrefix(total int, agrees func(n int) (bool, error)) (int, error) {
	if ok, err := agrees(total); err != nil || !ok {
		return 0, err
	}
	lo, hi := 0, total // agrees(hi) holds, agrees(lo) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := agrees(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// excludeTactic keeps step i from running the tactic it ran (its cuDNN
// engine, or its cuBLASLt algorithm) and forgets its choice, so the step
// is timed again; false when there is nothing to exclude or nothing left.
func (c *cudaContext) excludeTactic(sp *shapePlan, i int) (string, bool) {
	l := c.x.layers[i]
	ck := choiceKey(i, l, sp.dims)
	kept := fmt.Sprintf("%s gives different outputs unless the host waits for it; its tactic was kept", dsl.LayerString(l))
	switch m, p := sp.matmuls[i], c.convPlans[convKey{sp, i}]; {
	case c.x.plan.Steps[i].Kind == kindMatmul && m != nil:
		c.x.mu.Lock()
		a := m.algo
		c.x.mu.Unlock()
		if a == nil {
			return kept, false // cuBLASLt's default algorithm
		}
		c.x.exclude(ck, algoChoice(a))
		next := slices.IndexFunc(m.algos, func(a cuda.Algo) bool { return !c.x.isExcluded(ck, algoChoice(&a)) })
		if next < 0 {
			return fmt.Sprintf("%s gives different outputs unless the host waits for it with every cuBLASLt algorithm of the heuristic's", dsl.LayerString(l)), false
		}
		c.x.mu.Lock()
		m.algo, m.tuned = &m.algos[next], false
		c.x.mu.Unlock()
		return fmt.Sprintf("%s: a cuBLASLt algorithm gave different outputs unless the host waited for it, so another is timed in its place", dsl.LayerString(l)), true
	case c.x.plan.Steps[i].Kind == kindConv && p != nil:
		ch := convChoice(p)
		c.x.exclude(ck, ch)
		p.Close()
		delete(c.convPlans, convKey{sp, i})
		if c.cudnnPlan(sp, i, l) == nil && isChannelsLast(c.x.layers, c.x.plan.Steps[i]) {
			// No other engine, and im2col takes NCHW only: keep it.
			c.x.unexclude(ck, ch)
			delete(c.convPlans, convKey{sp, i})
			return fmt.Sprintf("%s gives different outputs unless the host waits for it, and cuDNN has no other engine for it; cuDNN engine %d was kept", dsl.LayerString(l), ch.Engine), false
		}
		return fmt.Sprintf("%s: cuDNN engine %d gave different outputs unless the host waited for it, so another is timed in its place", dsl.LayerString(l), ch.Engine), true
	}
	return kept, false
}

// exclude rules tactic t out at choice key ck and forgets the choice.
func (x *executable) exclude(ck string, t choice) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.excluded == nil {
		x.excluded = map[string][]string{}
	}
	x.excluded[ck] = append(x.excluded[ck], t.tactic())
	delete(x.measuredChoices, ck)
	delete(x.plan.Choices, ck)
}

// unexclude takes tactic t off ck's list again (nothing could replace
// it); the step's choice is made again.
func (x *executable) unexclude(ck string, t choice) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.excluded[ck] = slices.DeleteFunc(x.excluded[ck], func(s string) bool { return s == t.tactic() })
	if len(x.excluded[ck]) == 0 {
		delete(x.excluded, ck)
	}
}

// isExcluded reports whether the stream-order check ruled tactic t out
// at choice key ck.
func (x *executable) isExcluded(ck string, t choice) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Contains(x.excluded[ck], t.tactic())
}

// convChoice and algoChoice are the tactics of a cuDNN plan and a
// cuBLASLt algorithm, as choices (and choice.tactic) spell them.
func convChoice(p *cuda.ConvPlan) choice { return choice{Engine: p.Engine(), Bias: p.Config().Bias} }
func algoChoice(a *cuda.Algo) choice     { return choice{Algo: a.Bytes(), Workspace: a.WorkspaceSize} }

// putRandomInputs writes random values to the network's float inputs
// and zeros (valid indices, empty masks) to the others.
func (c *cudaContext) putRandomInputs(sp *shapePlan) error {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, in := range c.x.net.Inputs() {
		v := tensor.New(in.Type(), sp.dims[in]...)
		if in.Type().IsFloat() {
			for k := range v.Len() {
				v.SetFloat64(k, rng.Float64()*2-1)
			}
		}
		if len(v.Bytes()) == 0 {
			continue
		}
		if err := c.x.dev.CopyHtoD(c.addr(sp, in), v.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// runWaitingAfter runs a single-phase plan's steps on the inputs in the
// arena, the host waiting for the stream after each step wait marks, and
// returns the outputs' bytes. The inputs' slots may be reused by later
// tensors, so they are saved before and put back after.
func (c *cudaContext) runWaitingAfter(sp *shapePlan, wait func(int) bool) ([][]byte, error) {
	saved, err := c.saveArenaInputs(sp)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, b := range saved {
			b.Free()
		}
	}()
	for i := sp.start; i < sp.stop; i++ {
		l := c.x.layers[i]
		if err := c.run(context.Background(), sp, i, l); err != nil {
			return nil, fmt.Errorf("%s on the CUDA target: %w", dsl.LayerString(l), err)
		}
		if wait(i) {
			if err := c.stream.Synchronize(); err != nil {
				return nil, err
			}
		}
	}
	outs, err := c.readOutputs(sp)
	if err != nil {
		return nil, err
	}
	for t, b := range saved {
		if err := c.x.dev.CopyDtoD(c.addr(sp, t), b.Ptr(), b.Size()); err != nil {
			return nil, err
		}
	}
	if err := c.fetchFaults(); err != nil {
		return nil, err
	}
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	return outs, c.checkFaults(sp)
}

func sameBytes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !bytes.Equal(a[k], b[k]) {
			return false
		}
	}
	return true
}
