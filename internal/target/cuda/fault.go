package cuda

import (
	"encoding/binary"
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

// Faults: kernels that read an index from data (gathers, scatters, one-hot
// ...) check it, and where it is out of range they record the fault in a
// slot of their step instead of reading or writing out of bounds. Each
// context has a slot of two words per fallible step: the position of the
// first bad element plus one (0: no fault) and its value. After every
// inference the slots come back to the host with the outputs, and a fault
// becomes the error the CPU engine gives for the same input, naming the
// layer. A kernel writes a slot with trtc_fault (faultPrelude).

// faultPrelude is in every generated module.
const faultPrelude = `__device__ __forceinline__ void trtc_fault(unsigned long long* f, i64 pos, i64 v) {
  if (f != 0 && atomicCAS(f, 0ULL, (unsigned long long)(pos + 1)) == 0ULL) f[1] = (unsigned long long)v;
}
`

// faultSlotBytes is one step's slot: position + 1 and value.
const faultSlotBytes = 16

// fallible reports whether step s's kernel can record a fault.
func fallible(s step, l dsl.Layer) bool {
	switch s.Kind {
	case kindGather:
		return true
	case kindKernel:
		f := familyOf(l)
		return f != nil && f.fault != nil
	}
	return false
}

// takesFaultSlot reports whether step s's kernel has the fault slot
// parameter: gathers and every kernel family, fallible or not (the others
// get a null slot).
func takesFaultSlot(s step, l dsl.Layer) bool {
	return s.Kind == kindGather || s.Kind == kindKernel && familyOf(l) != nil
}

// faultSlots numbers the fallible steps' slots in step order: the slot of
// each step (-1 for none) and the step of each slot.
func faultSlots(layers []dsl.Layer, p *plan) (slot, steps []int) {
	slot = make([]int, len(p.Steps))
	for i, s := range p.Steps {
		slot[i] = -1
		if fallible(s, layers[i]) {
			slot[i] = len(steps)
			steps = append(steps, i)
		}
	}
	return slot, steps
}

// faultPtr is the address of step i's slot, or 0 where the step cannot
// fault.
func (c *cudaContext) faultPtr(i int) cuda.DevicePtr {
	k := c.x.faultSlot[i]
	if k < 0 {
		return 0
	}
	return c.faults.Ptr().Add(k * faultSlotBytes)
}

// allocFaults makes the context's zeroed slots and their pinned copy.
func (c *cudaContext) allocFaults() error {
	n := len(c.x.faultSteps) * faultSlotBytes
	if n == 0 {
		return nil
	}
	var err error
	if c.faults, err = c.x.dev.Alloc(n); err != nil {
		return err
	}
	if c.faultHost, err = c.x.dev.AllocHost(n); err != nil {
		return err
	}
	return c.x.dev.MemsetD8(c.faults.Ptr(), 0, n)
}

// fetchFaults enqueues the copy of the slots to the host; checkFaults
// reads it after the stream has synchronized.
func (c *cudaContext) fetchFaults() error {
	if c.faults == nil {
		return nil
	}
	return c.stream.CopyDtoH(c.faultHost.Bytes(), c.faults.Ptr())
}

// checkFaults turns the first recorded fault, in step order, into an
// error and clears the slots for the next inference.
func (c *cudaContext) checkFaults(sp *shapePlan) error {
	if c.faults == nil {
		return nil
	}
	b := c.faultHost.Bytes()[:len(c.x.faultSteps)*faultSlotBytes]
	for k, i := range c.x.faultSteps { // slots are in step order
		pos := int64(binary.LittleEndian.Uint64(b[k*faultSlotBytes:]))
		if pos == 0 {
			continue
		}
		val := int64(binary.LittleEndian.Uint64(b[k*faultSlotBytes+8:]))
		if err := c.x.dev.MemsetD8(c.faults.Ptr(), 0, len(b)); err != nil {
			return err
		}
		clear(b)
		return c.x.faultError(sp, i, pos-1, val)
	}
	return nil
}

// faultError describes the fault of step i at element pos with value val.
func (x *executable) faultError(sp *shapePlan, i int, pos, val int64) error {
	l := x.layers[i]
	var err error
	if f := familyOf(l); f != nil && f.fault != nil {
		err = f.fault(l, shapeValues{dims: sp.dims, values: sp.values}, pos, val)
	} else if g, ok := l.(*dsl.GatherLayer); ok {
		d := sp.dims[l.Input(0)]
		a, _ := dsl.NormalizeAxis(g.GatherAxis(), len(d))
		err = indexError(l, pos, val, a, d[a])
	}
	if err == nil {
		err = fmt.Errorf("element %d has the bad value %d", pos, val)
	}
	if d, ok := err.(*diag.Error); ok {
		return d // a family's own error, with its code (an assertion's AssertionFailed)
	}
	return &diag.Error{Code: diag.OutOfRange, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(), Loc: l.Location(), Msg: err.Error()}
}

// indexError is the message of an index out of range for an axis, as the
// CPU engine words it.
func indexError(l dsl.Layer, pos, v int64, axis int, n int64) error {
	return fmt.Errorf("index %d (element %d of %q) is out of range for axis %d of length %d; want [%d, %d)",
		v, pos, l.Input(1).Name(), axis, n, -n, n)
}
