package dsl

import "fmt"

// Tensor is a handle to a value in a Network: a network input or a layer
// output (TensorRT's ITensor). Its type and dims are inferred when the
// producing layer is added and kept up to date when layers change.
type Tensor struct {
	net      *Network
	id       int
	name     string
	dtype    DataType
	dims     Dims
	producer Layer // nil for network inputs
	outIndex int
	isInput  bool
	isOutput bool

	// bad marks a tensor whose producer could not infer it; layers that
	// consume it skip their own checks so one mistake is reported once.
	bad bool
	// values holds the contents of a small Int32/Int64 shape tensor when
	// they are known while building (from a Constant, or a Shape of static
	// dims), so layers that take shapes as tensors can infer static dims.
	values []int64
}

// Name returns the tensor's name.
func (t *Tensor) Name() string { return t.name }

// SetName renames the tensor. Network input and output names are the
// bindings of an engine, so they must be unique (checked by Err).
func (t *Tensor) SetName(name string) { t.name = name }

// Type returns the element type.
func (t *Tensor) Type() DataType {
	t.net.refresh()
	return t.dtype
}

// Dims returns the shape, with -1 for dims known only at run time.
func (t *Tensor) Dims() Dims {
	t.net.refresh()
	return t.dims.Clone()
}

// Rank is the number of dims.
func (t *Tensor) Rank() int {
	t.net.refresh()
	return len(t.dims)
}

// SetDims changes the dims of a network input (TensorRT allows it only there).
func (t *Tensor) SetDims(d Dims) {
	if !t.isInput {
		t.net.addError(callerLoc(), t.name, "SetDims is only allowed on network inputs; the dims of %q are inferred from its producer", t.name)
		return
	}
	if err := checkInputDims(d); err != nil {
		t.net.addError(callerLoc(), t.name, "SetDims(%v) on input %q: %v", d, t.name, err)
		return
	}
	t.dims = d.Clone()
	t.net.dirty = true
}

// SetType changes the element type of a network input.
func (t *Tensor) SetType(dt DataType) {
	if !t.isInput {
		t.net.addError(callerLoc(), t.name, "SetType is only allowed on network inputs; in a strongly typed network insert a Cast layer instead")
		return
	}
	if !dt.Valid() {
		t.net.addError(callerLoc(), t.name, "SetType(%v) on input %q: not a data type", dt, t.name)
		return
	}
	t.dtype = dt
	t.net.dirty = true
}

// IsNetworkInput reports whether the tensor is a network input.
func (t *Tensor) IsNetworkInput() bool { return t.isInput }

// IsNetworkOutput reports whether the tensor is marked as a network output.
func (t *Tensor) IsNetworkOutput() bool { return t.isOutput }

// Producer returns the layer that computes the tensor and which of its
// outputs it is; nil for network inputs.
func (t *Tensor) Producer() (Layer, int) { return t.producer, t.outIndex }

// Network returns the network the tensor belongs to.
func (t *Tensor) Network() *Network { return t.net }

// ID is the tensor's index in its network, stable for the network's life.
func (t *Tensor) ID() int { return t.id }

// KnownValues returns the contents of a small integer tensor when they are
// known at build time (shape arithmetic on static dims, constants).
func (t *Tensor) KnownValues() ([]int64, bool) {
	t.net.refresh()
	if t.values == nil {
		return nil, false
	}
	return append([]int64{}, t.values...), true
}

func (t *Tensor) String() string {
	return fmt.Sprintf("%s (%v %v)", t.name, t.dtype, t.dims)
}

func checkInputDims(d Dims) error {
	for i, v := range d {
		if v < -1 {
			return fmt.Errorf("dimension %d is %d: want a size >= 0 or -1 for dynamic", i, v)
		}
	}
	return nil
}
