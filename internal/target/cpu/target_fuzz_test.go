package cpu

import (
	"context"
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/tensor"
)

// fuzzSections serves sections from memory, past the engine file's hash
// checks, so the fuzzer reaches the CPU target's own decoding.
type fuzzSections map[string][]byte

func (s fuzzSections) Section(name string) ([]byte, error) {
	b, ok := s[name]
	if !ok {
		return nil, diag.Errorf(diag.EngineCorrupt, "no section %q", name)
	}
	return b, nil
}
func (s fuzzSections) Metadata() map[string]string {
	return map[string]string{metaEncoding: dsl.EncodingVersion()}
}
func (s fuzzSections) Name() string { return "fuzz.engine" }

func lowerSmall(t testing.TB) *target.Build {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 3})
	c := net.AddConstant(dsl.Dims{1, 3}, dsl.Float32Weights(1, 2, 3)).Output(0)
	y := net.AddElementWise(x, c, dsl.ElementWiseProd).Output(0)
	net.MarkOutput(net.AddActivation(y, dsl.ActivationReLU).Output(0))
	b := &target.Build{}
	if err := (cpuTarget{}).Lower(ir.New(net), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoadSectionsRoundTrip loads what Lower wrote and runs it.
func TestLoadSectionsRoundTrip(t *testing.T) {
	b := lowerSmall(t)
	s := fuzzSections{}
	for _, sec := range b.Sections {
		s[sec.Name] = sec.Data
	}
	exe, err := (cpuTarget{}).Load(s)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := exe.NewContext()
	x, _ := tensor.FromFloat32([]int64{2, 3}, []float32{1, -1, 1, 2, 2, -2})
	out, err := c.Execute(context.Background(), map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		got := v.Float32s()
		want := []float32{1, 0, 3, 2, 4, 0}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	delete(s, sectionWeightsIndex)
	if _, err := (cpuTarget{}).Load(s); !errors.Is(err, diag.EngineCorrupt) {
		t.Errorf("missing weights index: got %v", err)
	}
}

// FuzzLoadSections feeds arbitrary network, weights index and weights
// bytes to the CPU target's loader: it must fail with an error, never
// panic, and whatever loads must run or fail cleanly.
func FuzzLoadSections(f *testing.F) {
	b := lowerSmall(f)
	s := map[string][]byte{}
	for _, sec := range b.Sections {
		s[sec.Name] = sec.Data
	}
	f.Add(s[sectionNetwork], s[sectionWeightsIndex], s[sectionWeights])
	f.Add([]byte{}, []byte{1, 1, 1, 0, 4}, []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, network, index, weights []byte) {
		exe, err := (cpuTarget{}).Load(fuzzSections{sectionNetwork: network, sectionWeightsIndex: index, sectionWeights: weights})
		if err != nil {
			if errors.Is(err, diag.Internal) {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		c, _ := exe.NewContext()
		x, _ := tensor.FromFloat32([]int64{2, 3}, []float32{1, -1, 1, 2, 2, -2})
		_, _ = c.Execute(context.Background(), map[string]*tensor.Tensor{"x": x})
	})
}
