package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// shShapeOpCases are the backend test cases of the shape-manipulation
// importers. Their data inputs are graph inputs with static dims; the
// variants below also run them with the shape-like inputs as constants
// (the common case in exported models), with every input constant (the
// node is folded at import time), and with dynamic dims for the data
// input (shape-like inputs keep a static length, which trtc needs).
var shShapeOpCases = regexp.MustCompile(`^test_(shape|size|reshape|transpose|concat|unsqueeze|squeeze|flatten|slice|gather|split|expand|tile|range_[a-z0-9_]*delta$|constant_pad|edge_pad|reflect_pad|wrap_pad|constantofshape|tril|triu|scatter|onehot|depthtospace|spacetodepth|compress|nonzero|eyelike|reversesequence|cumsum|unique)`)

type shShapeVariant struct {
	name    string
	constAt func(i int) bool // which inputs become initializers
	dynamic bool             // input 0 (the data) gets dynamic dims
}

var shShapeVariants = []shShapeVariant{
	{name: "params-constant", constAt: func(i int) bool { return i > 0 }},
	{name: "folded", constAt: func(int) bool { return true }},
	{name: "dynamic", constAt: func(int) bool { return false }, dynamic: true},
	{name: "params-constant-dynamic", constAt: func(i int) bool { return i > 0 }, dynamic: true},
}

func TestShapeOpsVariants(t *testing.T) {
	root := conformance.DefaultRoot
	if _, err := os.Stat(filepath.Join(root, "node")); err != nil {
		t.Skipf("ONNX backend test data not found at %s", root)
	}
	entries, err := os.ReadDir(filepath.Join(root, "node"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !shShapeOpCases.MatchString(e.Name()) {
			continue
		}
		for _, v := range shShapeVariants {
			if v.dynamic && strings.HasPrefix(e.Name(), "test_constantofshape") {
				continue // input 0 is the shape, whose length trtc needs
			}
			if err := shRunShapeVariant(filepath.Join(root, "node", e.Name()), v); err != nil {
				t.Errorf("%s [%s]: %v", e.Name(), v.name, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no cases matched")
	}
}

func shRunShapeVariant(dir string, v shShapeVariant) error {
	m, err := onnx.LoadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no data sets")
	}
	set := sets[0]
	g := proto.Clone(m.Proto.GetGraph()).(*onnxpb.GraphProto)
	var keep []*onnxpb.ValueInfoProto
	inputs := map[string]*tensor.Tensor{}
	opt := onnx.Options{InputDims: map[string]dsl.Dims{}}
	for i, in := range g.GetInput() {
		tt, err := onnx.LoadTensorFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			return err
		}
		if v.constAt(i) {
			g.Initializer = append(g.Initializer, onnx.TensorToProto(tt, in.GetName()))
			continue
		}
		keep = append(keep, in)
		inputs[in.GetName()] = tt
		if v.dynamic && i == 0 {
			d := make(dsl.Dims, tt.Rank())
			for k := range d {
				d[k] = -1
			}
			opt.InputDims[in.GetName()] = d
		}
	}
	g.Input = keep
	mp := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	mp.Graph = g
	data, err := proto.Marshal(mp)
	if err != nil {
		return err
	}
	net, err := onnx.ImportBytes(data, opt)
	if err != nil {
		return fmt.Errorf("import: %v", err)
	}
	got, err := cpu.Run(net, inputs)
	if err != nil {
		return fmt.Errorf("run: %v", err)
	}
	for i, out := range net.Outputs() {
		want, err := onnx.LoadTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			return err
		}
		if err := conformance.Compare(got[out.Name()], want); err != nil {
			return fmt.Errorf("output %d: %v", i, err)
		}
	}
	return nil
}
