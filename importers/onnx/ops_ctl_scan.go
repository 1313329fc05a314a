package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// Scan onto a dsl Loop: scan inputs are Iterators (reversed for direction
// 1), states are recurrences, scan outputs are Concatenate (or Reverse)
// loop outputs, and the trip count is the scanned axis's length. Opset 8's
// Scan has a leading batch axis that the body does not see; it becomes an
// outer loop over the batch around the scan loop.

func init() {
	register(OpInfo{Op: "Scan", Since: 8, Types: "tensors",
		Restrictions: "sequence_lens only when every length is the full sequence"}, importScan8)
	for _, since := range []int64{9, 11, 16, 19, 21} {
		register(OpInfo{Op: "Scan", Since: since, Types: "tensors"}, importScan)
	}
}

// scanSpec describes one scan loop: its states, scanned inputs (axis and
// direction) and output axes and directions.
type scanSpec struct {
	body       *onnxpb.GraphProto
	states     []*dsl.Tensor
	inputs     []*dsl.Tensor
	inAxes     []int64
	inRev      []bool
	outAxes    []int64
	outRev     []bool
	nbScanOuts int
}

// ctlScanLoop builds the loop of spec and returns the final states then
// the scan outputs.
func (c *nodeCtx) ctlScanLoop(s scanSpec) ([]*dsl.Tensor, error) {
	net := c.Net()
	lp := net.AddLoop()
	if c.node.GetName() != "" {
		lp.SetName(c.node.GetName())
	}
	if len(s.inputs) == 0 {
		return nil, c.Errorf(diag.InvalidNode, "Scan needs at least one scan input")
	}
	ax0 := s.inAxes[0]
	if ax0 < 0 {
		ax0 += int64(s.inputs[0].Rank())
	}
	if ax0 < 0 || ax0 >= int64(s.inputs[0].Rank()) {
		return nil, c.Errorf(diag.UnsupportedAttr, "scan input axis %d is out of range for rank %d", s.inAxes[0], s.inputs[0].Rank())
	}
	trip := c.ctlDim(s.inputs[0], int(ax0))
	lp.AddTripLimit(trip, dsl.TripLimitCount)
	bind := map[string]*dsl.Tensor{}
	entries := map[*dsl.Tensor]bool{}
	nStates := len(s.states)
	if len(s.body.GetInput()) != nStates+len(s.inputs) || len(s.body.GetOutput()) != nStates+s.nbScanOuts {
		return nil, c.Errorf(diag.InvalidNode, "the Scan body has %d inputs and %d outputs; want %d and %d",
			len(s.body.GetInput()), len(s.body.GetOutput()), nStates+len(s.inputs), nStates+s.nbScanOuts)
	}
	recs := make([]*dsl.RecurrenceLayer, nStates)
	for i, st := range s.states {
		recs[i] = lp.AddRecurrence(st)
		bind[s.body.GetInput()[i].GetName()] = recs[i].Output(0)
		entries[recs[i].Output(0)] = true
	}
	for j, in := range s.inputs {
		ax := s.inAxes[j]
		if ax < 0 {
			ax += int64(in.Rank())
		}
		if ax < 0 || ax >= int64(in.Rank()) {
			return nil, c.Errorf(diag.UnsupportedAttr, "scan input %d axis %d is out of range for rank %d", j, s.inAxes[j], in.Rank())
		}
		it := lp.AddIterator(in, int(ax), s.inRev[j]).Output(0)
		bind[s.body.GetInput()[nStates+j].GetName()] = it
		entries[it] = true
	}
	outs, err := c.ImportSubgraph(s.body, bind)
	if err != nil {
		return nil, err
	}
	res := make([]*dsl.Tensor, 0, len(outs))
	for i, r := range recs {
		r.SetInput(1, outs[i])
		res = append(res, lp.AddLoopOutput(r.Output(0), dsl.LoopOutputLastValue, 0).Output(0))
	}
	for k := 0; k < s.nbScanOuts; k++ {
		t := ctlInLoop(lp, outs[nStates+k], entries)
		ax := s.outAxes[k]
		if ax < 0 {
			ax += int64(t.Rank() + 1)
		}
		if ax < 0 || ax > int64(t.Rank()) {
			return nil, c.Errorf(diag.UnsupportedAttr, "scan output %d axis %d is out of range for an output of rank %d", k, s.outAxes[k], t.Rank()+1)
		}
		kind := dsl.LoopOutputConcatenate
		if s.outRev[k] {
			kind = dsl.LoopOutputReverse
		}
		o := lp.AddLoopOutput(t, kind, int(ax))
		o.SetInput(1, trip)
		res = append(res, o.Output(0))
	}
	return res, nil
}

// ctlScanAttrs reads an INTS attribute of n entries (default all def).
func (c *nodeCtx) ctlScanAttrs(name string, n int, def int64) ([]int64, error) {
	v := c.AttrInts(name, nil)
	if v == nil {
		v = make([]int64, n)
		for i := range v {
			v[i] = def
		}
	}
	if len(v) != n {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute %s has %d entries; want %d", name, len(v), n)
	}
	return v, nil
}

func ctlDirections(d []int64) []bool {
	out := make([]bool, len(d))
	for i, v := range d {
		out[i] = v != 0
	}
	return out
}

func importScan(c *nodeCtx) ([]*dsl.Tensor, error) {
	body := c.AttrGraph("body")
	m := int(c.AttrInt("num_scan_inputs", 0))
	n := c.NbInputs() - m
	if body == nil || m < 1 || n < 0 {
		return nil, c.Errorf(diag.InvalidNode, "Scan needs a body and 1 <= num_scan_inputs (%d) <= the %d inputs", m, c.NbInputs())
	}
	k := len(body.GetOutput()) - n
	if k < 0 {
		return nil, c.Errorf(diag.InvalidNode, "the Scan body has %d outputs for %d states", len(body.GetOutput()), n)
	}
	s := scanSpec{body: body, nbScanOuts: k}
	for i := 0; i < n; i++ {
		s.states = append(s.states, c.Input(i))
	}
	for j := 0; j < m; j++ {
		s.inputs = append(s.inputs, c.Input(n+j))
	}
	var err error
	if s.inAxes, err = c.ctlScanAttrs("scan_input_axes", m, 0); err != nil {
		return nil, err
	}
	d, err := c.ctlScanAttrs("scan_input_directions", m, 0)
	if err != nil {
		return nil, err
	}
	s.inRev = ctlDirections(d)
	if s.outAxes, err = c.ctlScanAttrs("scan_output_axes", k, 0); err != nil {
		return nil, err
	}
	if d, err = c.ctlScanAttrs("scan_output_directions", k, 0); err != nil {
		return nil, err
	}
	s.outRev = ctlDirections(d)
	return c.ctlScanLoop(s)
}

// importScan8 runs the opset-8 Scan, whose inputs carry a batch axis 0,
// as an outer loop over the batch whose body is the scan loop.
func importScan8(c *nodeCtx) ([]*dsl.Tensor, error) {
	body := c.AttrGraph("body")
	m := int(c.AttrInt("num_scan_inputs", 0))
	n := c.NbInputs() - 1 - m
	if body == nil || m < 1 || n < 0 {
		return nil, c.Errorf(diag.InvalidNode, "Scan needs a body and 1 <= num_scan_inputs (%d) <= the %d inputs after sequence_lens", m, c.NbInputs()-1)
	}
	k := len(body.GetOutput()) - n
	if k < 0 {
		return nil, c.Errorf(diag.InvalidNode, "the Scan body has %d outputs for %d states", len(body.GetOutput()), n)
	}
	first := c.Input(1 + n)
	if first.Rank() < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "scan input %q has dims %v; opset-8 Scan inputs are [batch, sequence, ...]", first.Name(), first.Dims())
	}
	if c.HasInput(0) {
		lens, ok := c.ConstInts(0)
		seq := first.Dims()[1]
		full := ok && seq >= 0
		for _, l := range lens {
			full = full && l == seq
		}
		if !full {
			return nil, c.Errorf(diag.UnsupportedAttr, "sequence_lens must be a constant equal to the sequence length (variable lengths are not supported)")
		}
	}
	dirs, err := c.ctlScanAttrs("directions", m, 0)
	if err != nil {
		return nil, err
	}
	net := c.Net()
	outer := net.AddLoop()
	batch := c.ctlDim(first, 0)
	outer.AddTripLimit(batch, dsl.TripLimitCount)
	s := scanSpec{body: body, nbScanOuts: k, inRev: ctlDirections(dirs)}
	for i := 0; i < n; i++ {
		s.states = append(s.states, outer.AddIterator(c.Input(1+i), 0, false).Output(0))
	}
	for j := 0; j < m; j++ {
		s.inputs = append(s.inputs, outer.AddIterator(c.Input(1+n+j), 0, false).Output(0))
		s.inAxes = append(s.inAxes, 0)
	}
	s.outAxes = make([]int64, k)
	s.outRev = make([]bool, k)
	inner, err := c.ctlScanLoop(s)
	if err != nil {
		return nil, err
	}
	res := make([]*dsl.Tensor, len(inner))
	for i, t := range inner {
		o := outer.AddLoopOutput(t, dsl.LoopOutputConcatenate, 0)
		o.SetInput(1, batch)
		res[i] = o.Output(0)
	}
	return res, nil
}
