package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// TripLimit is the kind of a loop's trip limit; values are TensorRT's
// nvinfer1::TripLimit.
type TripLimit int

const (
	TripLimitCount TripLimit = iota // an Int32/Int64 scalar from outside the loop: the number of iterations
	TripLimitWhile                  // a Bool scalar computed in the loop: iterate while it is true
	numTripLimits
)

var tripLimitNames = [...]string{"Count", "While"}

func (t TripLimit) String() string {
	if t >= 0 && t < numTripLimits {
		return tripLimitNames[t]
	}
	return fmt.Sprintf("TripLimit(%d)", int(t))
}

// AllTripLimits lists every trip limit kind.
func AllTripLimits() []TripLimit { return []TripLimit{TripLimitCount, TripLimitWhile} }

// LoopOutput is the kind of a loop output; values are TensorRT's
// nvinfer1::LoopOutput.
type LoopOutput int

const (
	LoopOutputLastValue   LoopOutput = iota // the recurrence's value after the last iteration
	LoopOutputConcatenate                   // the values of every iteration stacked along a new axis, in order
	LoopOutputReverse                       // the same, in reverse iteration order
	numLoopOutputs
)

var loopOutputNames = [...]string{"LastValue", "Concatenate", "Reverse"}

func (o LoopOutput) String() string {
	if o >= 0 && o < numLoopOutputs {
		return loopOutputNames[o]
	}
	return fmt.Sprintf("LoopOutput(%d)", int(o))
}

// AllLoopOutputs lists every loop output kind.
func AllLoopOutputs() []LoopOutput {
	return []LoopOutput{LoopOutputLastValue, LoopOutputConcatenate, LoopOutputReverse}
}

// Loop is a recurrent subgraph (TensorRT ILoop). It is made of boundary
// layers created through it (recurrences, trip limits, iterators, loop
// outputs); the body is every layer between them: the layers that depend
// on the loop's recurrences or iterators and feed one of its exits (a
// recurrence's next value, a while condition, a loop output). Layers that
// only use tensors from outside the loop stay outside and run once. The
// only way to take a value out of a loop is a LoopOutputLayer.
type Loop struct {
	net      *Network
	name     string
	boundary []Layer
}

// AddLoop starts a new loop (TensorRT INetworkDefinition::addLoop).
func (n *Network) AddLoop() *Loop {
	return &Loop{net: n, name: "(Unnamed Loop at " + callerLoc() + ")"}
}

// Name returns the loop's name (used in diagnostics).
func (lp *Loop) Name() string { return lp.name }

// SetName names the loop.
func (lp *Loop) SetName(name string) { lp.name = name }

// Network returns the network the loop belongs to.
func (lp *Loop) Network() *Network { return lp.net }

// BoundaryLayers returns the loop's recurrence, trip limit, iterator and
// loop output layers in the order they were added.
func (lp *Loop) BoundaryLayers() []Layer { return append([]Layer{}, lp.boundary...) }

func (lp *Loop) add(l Layer) { lp.boundary = append(lp.boundary, l) }

// loopBoundary is embedded by the four loop boundary layer types.
type loopBoundary struct{ loop *Loop }

// Loop returns the loop the layer belongs to (TensorRT getLoop).
func (b loopBoundary) Loop() *Loop { return b.loop }

// RecurrenceLayer carries a value from one iteration to the next (TensorRT
// IRecurrenceLayer). Input 0 is the initial value and must come from
// outside the loop; input 1 is the next value, set with SetInput(1, t)
// once the body that computes it exists; it must have input 0's type and
// dims. The output is input 0 in the first iteration and the previous
// iteration's input 1 afterwards.
//
// Input 1 is kept apart from the other layers' inputs: it is produced
// later in the network, so the in-order inference must not look at it
// (its type and dims are checked with the loop's structure, see
// Network.regionProblems).
type RecurrenceLayer struct {
	layerBase
	loopBoundary
	next *Tensor
}

// AddRecurrence adds a recurrence with initial value init.
func (lp *Loop) AddRecurrence(init *Tensor) *RecurrenceLayer {
	l := &RecurrenceLayer{loopBoundary: loopBoundary{lp}}
	lp.net.addLayer(l, LayerRecurrence, 1, 1, init)
	lp.add(l)
	return l
}

// NbInputs is 1 until the next value is set, then 2.
func (l *RecurrenceLayer) NbInputs() int {
	if l.next != nil {
		return 2
	}
	return 1
}

// Input returns the initial value (0) or the next value (1).
func (l *RecurrenceLayer) Input(i int) *Tensor {
	if i == 1 {
		return l.next
	}
	return l.layerBase.Input(i)
}

// SetInput replaces the initial value (0) or sets the next value (1).
func (l *RecurrenceLayer) SetInput(i int, t *Tensor) {
	if i != 1 {
		l.layerBase.SetInput(i, t)
		return
	}
	if !l.net.own(t, callerLoc(), fmt.Sprintf("SetInput(1) of recurrence %q", l.name)) {
		return
	}
	l.next = t
	l.changed()
}

// isBackEdge marks input 1 as a value from the previous iteration.
func (l *RecurrenceLayer) isBackEdge(input int) bool { return input == 1 }

func (l *RecurrenceLayer) infer(c *inferCtx) {
	init := c.in(0)
	c.setOutput(0, init.dtype, init.dims)
}

// recurrenceDimsCompatible reports whether two shapes can be equal at run time:
// same rank, and equal wherever both are static.
func recurrenceDimsCompatible(a, b Dims) bool {
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

// TripLimitLayer sets how many times a loop runs (TensorRT ITripLimitLayer).
// A Count limit takes an Int32/Int64 scalar from outside the loop (a
// negative count runs zero times); a While limit takes a Bool scalar
// computed from the loop's recurrences, evaluated before every iteration.
// A loop has at most one limit of each kind and at least one; with both,
// it stops at whichever ends first.
type TripLimitLayer struct {
	layerBase
	loopBoundary
	kind TripLimit
}

// AddTripLimit adds a trip limit of the given kind on t.
func (lp *Loop) AddTripLimit(t *Tensor, kind TripLimit) *TripLimitLayer {
	l := &TripLimitLayer{loopBoundary: loopBoundary{lp}, kind: kind}
	lp.net.addLayer(l, LayerTripLimit, 0, 1, t)
	lp.add(l)
	return l
}

// TripLimit returns the limit's kind.
func (l *TripLimitLayer) TripLimit() TripLimit { return l.kind }

func (l *TripLimitLayer) infer(c *inferCtx) {
	t := c.in(0)
	switch l.kind {
	case TripLimitCount:
		if t.dtype != Int32 && t.dtype != Int64 {
			c.errorf(diag.TypeMismatch, "a Count trip limit takes an Int32 or Int64 scalar; %q is %v", t.name, t.dtype)
		}
	case TripLimitWhile:
		if t.dtype != Bool {
			c.errorf(diag.TypeMismatch, "a While trip limit takes a Bool scalar; %q is %v", t.name, t.dtype)
		}
	default:
		c.errorf(diag.InvalidNode, "unknown trip limit kind %d", int(l.kind))
		return
	}
	if len(t.dims) != 0 {
		c.errorf(diag.ShapeMismatch, "a trip limit takes a scalar (rank 0); %q has dims %v", t.name, t.dims)
	}
}

// IteratorLayer gives each iteration one slice of a tensor from outside the
// loop (TensorRT IIteratorLayer): iteration i sees index i along axis
// (index M-1-i when reversed, M being the Count trip limit, or the axis
// length when the loop has none). The output drops the axis.
type IteratorLayer struct {
	layerBase
	loopBoundary
	axis    int
	reverse bool
}

// AddIterator adds an iterator over axis of t (negative axes count from
// the end).
func (lp *Loop) AddIterator(t *Tensor, axis int, reverse bool) *IteratorLayer {
	l := &IteratorLayer{loopBoundary: loopBoundary{lp}, axis: axis, reverse: reverse}
	lp.net.addLayer(l, LayerIterator, 1, 1, t)
	lp.add(l)
	return l
}

func (l *IteratorLayer) Axis() int { return l.axis }
func (l *IteratorLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}
func (l *IteratorLayer) Reverse() bool { return l.reverse }
func (l *IteratorLayer) SetReverse(reverse bool) {
	l.reverse = reverse
	l.changed()
}

func (l *IteratorLayer) infer(c *inferCtx) {
	t := c.in(0)
	ax, ok := normAxis(l.axis, len(t.dims))
	if !ok {
		c.errorf(diag.InvalidNode, "iterator axis %d is out of range for %q with rank %d (want [%d, %d))", l.axis, t.name, len(t.dims), -len(t.dims), len(t.dims))
		return
	}
	out := append(t.dims[:ax:ax], t.dims[ax+1:]...)
	c.setOutput(0, t.dtype, out)
}

// LoopOutputLayer takes a value out of a loop (TensorRT ILoopOutputLayer).
// Input 0 comes from inside the loop. LastValue: input 0 must be a
// recurrence of the same loop, and the output is its value after the last
// iteration (the initial value when the loop runs zero times).
// Concatenate and Reverse: input 1, set with SetInput(1, t), is the length
// of the new axis, an Int32/Int64 scalar from outside the loop (usually
// the trip count); the output is input 0's value of every iteration,
// stacked along a new axis inserted at Axis. If the loop runs fewer
// iterations than the length, the remaining slices are zero; more is a run
// time error.
type LoopOutputLayer struct {
	layerBase
	loopBoundary
	kind LoopOutput
	axis int
}

// AddLoopOutput adds an output of the given kind; axis is where
// Concatenate and Reverse insert the iteration axis.
func (lp *Loop) AddLoopOutput(t *Tensor, kind LoopOutput, axis int) *LoopOutputLayer {
	l := &LoopOutputLayer{loopBoundary: loopBoundary{lp}, kind: kind, axis: axis}
	lp.net.addLayer(l, LayerLoopOutput, 1, 2, t)
	lp.add(l)
	return l
}

// LoopOutput returns the output's kind.
func (l *LoopOutputLayer) LoopOutput() LoopOutput { return l.kind }
func (l *LoopOutputLayer) Axis() int              { return l.axis }
func (l *LoopOutputLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

// ConcatAxis returns the iteration axis in [0, rank(output)), or false
// when it is out of range.
func (l *LoopOutputLayer) ConcatAxis() (int, bool) {
	if l.Input(0) == nil {
		return 0, false
	}
	return normAxis(l.axis, len(l.Input(0).dims)+1)
}

func (l *LoopOutputLayer) infer(c *inferCtx) {
	t := c.in(0)
	switch l.kind {
	case LoopOutputLastValue:
		if c.has(1) {
			c.errorf(diag.InvalidNode, "a LastValue loop output takes one input; input 1 (%q) is only for Concatenate and Reverse", c.in(1).name)
			return
		}
		c.setOutput(0, t.dtype, t.dims)
	case LoopOutputConcatenate, LoopOutputReverse:
		if !c.has(1) {
			c.errorf(diag.InvalidNode, "a %v loop output needs the length of the iteration axis: call SetInput(1, tripCount) with an Int32/Int64 scalar from outside the loop", l.kind)
			return
		}
		n := c.in(1)
		if (n.dtype != Int32 && n.dtype != Int64) || len(n.dims) != 0 {
			c.errorf(diag.TypeMismatch, "input 1 (%q) of a %v loop output must be an Int32/Int64 scalar; it is %v %v", n.name, l.kind, n.dtype, n.dims)
			return
		}
		ax, ok := l.ConcatAxis()
		if !ok {
			c.errorf(diag.InvalidNode, "loop output axis %d is out of range for an output of rank %d (want [%d, %d])", l.axis, len(t.dims)+1, -len(t.dims)-1, len(t.dims))
			return
		}
		length := Dynamic
		if v, ok := c.values(1); ok && len(v) == 1 {
			length = max(v[0], 0)
		}
		out := make(Dims, 0, len(t.dims)+1)
		out = append(out, t.dims[:ax]...)
		out = append(out, length)
		out = append(out, t.dims[ax:]...)
		c.setOutput(0, t.dtype, out)
	default:
		c.errorf(diag.InvalidNode, "unknown loop output kind %d", int(l.kind))
	}
}
