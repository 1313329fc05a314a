// Package inspect renders an engine's manifest and build report for
// people: the text, JSON and Graphviz forms of trtc inspect, shared with
// the examples' golden tests.
package inspect

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/tensor"
)

// JSON writes the manifest as protobuf JSON.
func JSON(w io.Writer, m *enginepb.Manifest) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func tensorString(t *enginepb.TensorDesc) string {
	return fmt.Sprintf("%s (%v %s)", t.GetName(), tensor.DataType(t.GetDtype()), engine.FormatDims(t.GetDims()))
}

// Text writes the engine report: what the engine was built for, its
// bindings, profiles and memory, the passes, the fusions, and every layer
// with its precision (and why), fusion and tactic. name is the file's name;
// version its format version.
func Text(w io.Writer, name string, version uint32, m *enginepb.Manifest) error {
	b := m.GetBuild()
	arch := m.GetDeviceArch()
	if arch == "" {
		arch = "any device"
	}
	fmt.Fprintf(w, "engine %s: target %s (%s), file format %d, built by trtc %s\n", name, m.GetTarget(), arch, version, m.GetTrtcVersion())
	for _, lib := range sortedStrings(m.GetLibraryVersions()) {
		fmt.Fprintf(w, "library %s %s\n", lib, m.GetLibraryVersions()[lib])
	}
	src := b.GetSource()
	if src == "" {
		src = "Go code"
	}
	fmt.Fprintf(w, "network %s from %s: precision %s, optimization level %d\n", m.GetNetworkName(), src, b.GetPrecision(), b.GetOptLevel())
	for _, t := range m.GetInputs() {
		fmt.Fprintf(w, "input  %s\n", tensorString(t))
	}
	for _, t := range m.GetOutputs() {
		fmt.Fprintf(w, "output %s\n", tensorString(t))
	}
	for i, p := range m.GetProfiles() {
		for _, r := range p.GetInputs() {
			fmt.Fprintf(w, "profile %d: %s min %s opt %s max %s\n", i, r.GetInput(), engine.FormatDims(r.GetMin()), engine.FormatDims(r.GetOpt()), engine.FormatDims(r.GetMax()))
		}
	}
	fmt.Fprintf(w, "memory: %d bytes for activations at the largest shapes\n", m.GetDeviceMemorySize())
	fmt.Fprintf(w, "layers: %d (%d before the passes); fusions: %s; precisions: %s\n", len(b.GetLayers()), b.GetLayersBefore(), FusionCounts(b), PrecisionCounts(b))
	for _, p := range b.GetPasses() {
		if p.GetSkipped() {
			fmt.Fprintf(w, "pass %s: skipped at this optimization level\n", p.GetName())
		} else {
			fmt.Fprintf(w, "pass %s: %d -> %d layers\n", p.GetName(), p.GetLayersBefore(), p.GetLayersAfter())
		}
	}
	for i, f := range b.GetFusions() {
		fmt.Fprintf(w, "fusion %d %s: %s\n", i, f.GetKind(), strings.Join(f.GetLayers(), ", "))
	}
	fmt.Fprintln(w)
	for i, l := range b.GetLayers() {
		var ins, outs []string
		for _, t := range l.GetInputs() {
			ins = append(ins, tensorString(t))
		}
		for _, t := range l.GetOutputs() {
			outs = append(outs, tensorString(t))
		}
		extra := ""
		if l.GetPrecision() != "" {
			extra += fmt.Sprintf(" %s (%s)", l.GetPrecision(), l.GetPrecisionReason())
		}
		if l.GetFusion() >= 0 {
			extra += fmt.Sprintf(" [fusion %d %s]", l.GetFusion(), b.GetFusions()[l.GetFusion()].GetKind())
		}
		if l.GetTactic() != "" {
			extra += " tactic " + l.GetTactic()
		}
		fmt.Fprintf(w, "[%d] %s %q%s\n    in:  %s\n    out: %s\n", i, l.GetKind(), l.GetName(), extra, strings.Join(ins, ", "), strings.Join(outs, ", "))
	}
	for _, s := range m.GetSections() {
		fmt.Fprintf(w, "section %s (%s): %d bytes at offset %d\n", s.GetName(), s.GetKind(), s.GetLength(), s.GetOffset())
	}
	for _, warn := range b.GetWarnings() {
		fmt.Fprintf(w, "note: %s\n", warn)
	}
	return nil
}

// Dot draws the compiled network in Graphviz: one box per layer labelled
// with its kind, name and precision, each fusion a cluster.
func Dot(w io.Writer, m *enginepb.Manifest) error {
	b := m.GetBuild()
	var sb strings.Builder
	fmt.Fprintf(&sb, "digraph %q {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n", m.GetNetworkName())
	producer := map[string]string{}
	for _, t := range m.GetInputs() {
		id := "in_" + DotID(t.GetName())
		fmt.Fprintf(&sb, "  %s [shape=ellipse, label=%q];\n", id, tensorString(t))
		producer[t.GetName()] = id
	}
	members := map[int32][]int{}
	for i, l := range b.GetLayers() {
		if l.GetFusion() >= 0 {
			members[l.GetFusion()] = append(members[l.GetFusion()], i)
		}
	}
	label := func(l *enginepb.LayerInfo) string {
		s := l.GetKind() + "\n" + l.GetName()
		if l.GetPrecision() != "" {
			s += "\n" + l.GetPrecision()
		}
		return s
	}
	for fi, f := range b.GetFusions() {
		fmt.Fprintf(&sb, "  subgraph cluster_%d {\n    label=%q; style=rounded; color=blue;\n", fi, fmt.Sprintf("fusion %d %s", fi, f.GetKind()))
		for _, i := range members[int32(fi)] {
			fmt.Fprintf(&sb, "    l%d [label=%q];\n", i, label(b.GetLayers()[i]))
		}
		sb.WriteString("  }\n")
	}
	for i, l := range b.GetLayers() {
		id := fmt.Sprintf("l%d", i)
		if l.GetFusion() < 0 {
			fmt.Fprintf(&sb, "  %s [label=%q];\n", id, label(l))
		}
		for _, t := range l.GetInputs() {
			if p, ok := producer[t.GetName()]; ok {
				fmt.Fprintf(&sb, "  %s -> %s [label=%q];\n", p, id, fmt.Sprintf("%v %s", tensor.DataType(t.GetDtype()), engine.FormatDims(t.GetDims())))
			}
		}
		for _, t := range l.GetOutputs() {
			producer[t.GetName()] = id
		}
	}
	for _, t := range m.GetOutputs() {
		id := "out_" + DotID(t.GetName())
		fmt.Fprintf(&sb, "  %s [shape=ellipse, label=%q];\n", id, tensorString(t))
		if p, ok := producer[t.GetName()]; ok {
			fmt.Fprintf(&sb, "  %s -> %s;\n", p, id)
		}
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

func sortedStrings(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FusionCounts is "ConvBiasActivation 3, Pointwise 2", or "none".
func FusionCounts(b *enginepb.BuildReport) string {
	counts := map[string]int{}
	for _, f := range b.GetFusions() {
		counts[f.GetKind()]++
	}
	if len(counts) == 0 {
		return "none"
	}
	return joinCounts(counts)
}

// PrecisionCounts counts layers by compute precision: "fp16 40, fp32 6".
func PrecisionCounts(b *enginepb.BuildReport) string {
	counts := map[string]int{}
	for _, l := range b.GetLayers() {
		if p := l.GetPrecision(); p != "" {
			counts[p]++
		}
	}
	if len(counts) == 0 {
		return "no float layers"
	}
	return joinCounts(counts)
}

func joinCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// DotID turns a name into a Graphviz identifier.
func DotID(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}
