package fuse

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/passes/autocast"
	"github.com/trtc/trtc/internal/target/cpu"
)

// countKinds counts g's fusions by kind.
func countKinds(g *ir.Graph, into map[ir.FusedKind]int) map[ir.FusedKind]int {
	if into == nil {
		into = map[ir.FusedKind]int{}
	}
	for _, f := range g.Fusions {
		into[f.Kind]++
	}
	return into
}

func kindsString(m map[ir.FusedKind]int) string {
	var s []string
	for _, k := range ir.AllFusedKinds() {
		if m[k] > 0 {
			s = append(s, fmt.Sprintf("%v %d", k, m[k]))
		}
	}
	return strings.Join(s, ", ")
}

// TestConformanceCorpus fuses every ONNX backend test model that runs on the
// CPU engine: the result must pass ir.Check and compute the same outputs
// (bit for bit: the network is not modified).
func TestConformanceCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; -short skips it")
	}
	models := irtest.ConformanceModels(t)
	total := map[ir.FusedKind]int{}
	modelsWith := map[ir.FusedKind][]string{}
	changed := 0
	for _, m := range models {
		g := ir.New(m.Net)
		ng, err := Fuse(g, ir.Options{})
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if err := ir.Check(ng); err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if ng == g {
			continue
		}
		changed++
		for k := range countKinds(ng, nil) {
			modelsWith[k] = append(modelsWith[k], m.Name)
		}
		countKinds(ng, total)
		want, err := cpu.Run(m.Net, m.Inputs)
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		got, err := cpu.Run(ng.Net, m.Inputs)
		if err != nil {
			t.Errorf("%s after fusion: %v", m.Name, err)
			continue
		}
		if err := irtest.Compare(want, got, 0); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	t.Logf("%d of %d models have fusions; fusions by kind: %s", changed, len(models), kindsString(total))
	kinds := make([]ir.FusedKind, 0, len(modelsWith))
	for k := range modelsWith {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	for _, k := range kinds {
		names := modelsWith[k]
		if len(names) > 8 {
			names = append(names[:8:8], "...")
		}
		t.Logf("%v in %d models: %s", k, len(modelsWith[k]), strings.Join(names, " "))
	}
	if changed == 0 {
		t.Fatal("no conformance model has a fusion; the corpus has softmax and layer norm written as reduces")
	}
	for _, k := range []ir.FusedKind{ir.FusedSoftMax, ir.FusedNormalization, ir.FusedPointwise} {
		if total[k] == 0 {
			t.Errorf("no %v fusion in the corpus (its expanded softmax, layer norm and activation tests have them)", k)
		}
	}
}

// TestPyTorchExports fuses the two PyTorch exports of the importer's test
// data: a small CNN (conv + ReLU, conv + SiLU, a Gemm and a SoftMax) and a
// transformer block (LayerNormalization, attention, a GELU MLP), as
// imported and after autocast to fp16, which the pipeline runs before
// fusion (its Casts around the fp32 softmax and normalizations join their
// groups).
func TestPyTorchExports(t *testing.T) {
	for _, c := range []struct {
		file       string
		want, fp16 []ir.FusedKind
	}{
		{"small_cnn",
			[]ir.FusedKind{ir.FusedConvBiasActivation, ir.FusedMatMulBiasActivation},
			[]ir.FusedKind{ir.FusedConvBiasActivation, ir.FusedMatMulBiasActivation, ir.FusedSoftMax}},
		{"transformer_block",
			[]ir.FusedKind{ir.FusedNormalization, ir.FusedMatMulBiasActivation},
			[]ir.FusedKind{ir.FusedNormalization, ir.FusedMatMulBiasActivation, ir.FusedSoftMax}},
	} {
		t.Run(c.file, func(t *testing.T) {
			net, err := onnx.Import("../../../importers/onnx/testdata/pytorch/"+c.file+".onnx", onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, g *ir.Graph, want []ir.FusedKind) {
				counts := countKinds(g, nil)
				t.Logf("%s %s: %d layers, fusions: %s", c.file, what, g.Net.NbLayers(), kindsString(counts))
				for _, s := range describe(g) {
					t.Logf("  %s", s)
				}
				for _, k := range want {
					if counts[k] == 0 {
						t.Errorf("%s: no %v fusion", what, k)
					}
				}
			}
			check("as imported", fuse(t, net), c.want)
			g16, err := autocast.Autocast(ir.New(net), ir.Options{Compute: dsl.Float16})
			if err != nil {
				t.Fatal(err)
			}
			f16, err := Fuse(g16, ir.Options{Compute: dsl.Float16})
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Check(f16); err != nil {
				t.Fatal(err)
			}
			check("fp16", f16, c.fp16)
		})
	}
}
