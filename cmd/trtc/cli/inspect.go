package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/inspect"
)

func newInspectCmd() *cobra.Command {
	var format, svg string
	var shapes []string
	cmd := &cobra.Command{
		Use:   "inspect MODEL.engine|MODEL.onnx",
		Short: "Show what an engine or an ONNX model is made of",
		Long: `Given an engine file, print what it was built for (target, device,
libraries), its inputs, outputs, optimization profiles and memory, the
passes that ran, the fusions, and every layer with its precision (and
why: "softmax kept in fp32"), fusion and tactic. Given an ONNX model,
print the network trtc imports from it: inputs, outputs and every layer
with its input and output types and dims (-1 for dynamic).
Formats: text, json, or Graphviz dot (render with: dot -Tsvg x.dot -o x.svg).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if svg != "" {
				return inspectSVG(args[0], shapes, svg)
			}
			if isEngineFile(args[0]) {
				return inspectEngine(cmd.OutOrStdout(), args[0], format)
			}
			dims, err := parseShapeList("--shapes", shapes)
			if err != nil {
				return err
			}
			net, err := onnx.Import(args[0], onnx.Options{InputDims: toDSLDims(dims)})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch format {
			case "text":
				return inspectText(w, net)
			case "json":
				return inspectJSON(w, net)
			case "dot":
				return inspectDot(w, net)
			}
			return usageError{fmt.Errorf("--format %q: want text, json or dot", format)}
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or dot")
	cmd.Flags().StringVar(&svg, "svg", "", "render the graph to this SVG file with Graphviz's dot (must be installed)")
	cmd.Flags().StringSliceVar(&shapes, "shapes", nil, "input shapes, name:1x3x224x224")
	return cmd
}

// tensorInfo describes one tensor for the JSON form.
type tensorInfo struct {
	Name string  `json:"name"`
	Type string  `json:"type"`
	Dims []int64 `json:"dims"`
}

type layerInfo struct {
	Index   int          `json:"index"`
	Kind    string       `json:"kind"`
	Name    string       `json:"name"`
	Inputs  []tensorInfo `json:"inputs"`
	Outputs []tensorInfo `json:"outputs"`
}

type networkInfo struct {
	Name     string         `json:"name"`
	Inputs   []tensorInfo   `json:"inputs"`
	Outputs  []tensorInfo   `json:"outputs"`
	Layers   []layerInfo    `json:"layers"`
	Kinds    map[string]int `json:"layer_counts"`
	Warnings []string       `json:"warnings,omitempty"`
}

func describe(t *dsl.Tensor) tensorInfo {
	return tensorInfo{Name: t.Name(), Type: t.Type().String(), Dims: t.Dims()}
}

func networkDescription(net *dsl.Network) networkInfo {
	info := networkInfo{Name: net.Name(), Kinds: map[string]int{}}
	for _, t := range net.Inputs() {
		info.Inputs = append(info.Inputs, describe(t))
	}
	for _, t := range net.Outputs() {
		info.Outputs = append(info.Outputs, describe(t))
	}
	for _, l := range net.Layers() {
		li := layerInfo{Index: l.Index(), Kind: l.Type().String(), Name: l.Name()}
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				li.Inputs = append(li.Inputs, describe(t))
			}
		}
		for i := 0; i < l.NbOutputs(); i++ {
			li.Outputs = append(li.Outputs, describe(l.Output(i)))
		}
		info.Layers = append(info.Layers, li)
		info.Kinds[li.Kind]++
	}
	for _, w := range net.Diagnostics().Warnings() {
		info.Warnings = append(info.Warnings, w.Error())
	}
	return info
}

func fmtTensor(t tensorInfo) string {
	return fmt.Sprintf("%s (%s %v)", t.Name, t.Type, dsl.Dims(t.Dims))
}

func inspectText(w io.Writer, net *dsl.Network) error {
	info := networkDescription(net)
	fmt.Fprintf(w, "network %s: %d layers\n", info.Name, len(info.Layers))
	for _, t := range info.Inputs {
		fmt.Fprintf(w, "input  %s\n", fmtTensor(t))
	}
	for _, t := range info.Outputs {
		fmt.Fprintf(w, "output %s\n", fmtTensor(t))
	}
	kinds := make([]string, 0, len(info.Kinds))
	for k := range info.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var counts []string
	for _, k := range kinds {
		counts = append(counts, fmt.Sprintf("%s %d", k, info.Kinds[k]))
	}
	fmt.Fprintf(w, "layers by kind: %s\n\n", strings.Join(counts, ", "))
	for _, l := range info.Layers {
		var ins, outs []string
		for _, t := range l.Inputs {
			ins = append(ins, fmtTensor(t))
		}
		for _, t := range l.Outputs {
			outs = append(outs, fmtTensor(t))
		}
		fmt.Fprintf(w, "[%d] %s %q\n    in:  %s\n    out: %s\n", l.Index, l.Kind, l.Name, strings.Join(ins, ", "), strings.Join(outs, ", "))
	}
	for _, warn := range info.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

func inspectJSON(w io.Writer, net *dsl.Network) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(networkDescription(net))
}

func inspectDot(w io.Writer, net *dsl.Network) error {
	info := networkDescription(net)
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n", info.Name)
	producer := map[string]string{}
	for _, t := range info.Inputs {
		id := "in_" + dotID(t.Name)
		fmt.Fprintf(&b, "  %s [shape=ellipse, label=%q];\n", id, fmtTensor(t))
		producer[t.Name] = id
	}
	for _, l := range info.Layers {
		id := fmt.Sprintf("l%d", l.Index)
		fmt.Fprintf(&b, "  %s [label=%q];\n", id, l.Kind+"\n"+l.Name)
		for _, t := range l.Inputs {
			if p, ok := producer[t.Name]; ok {
				fmt.Fprintf(&b, "  %s -> %s [label=%q];\n", p, id, t.Type+" "+dsl.Dims(t.Dims).String())
			}
		}
		for _, t := range l.Outputs {
			producer[t.Name] = id
		}
	}
	for _, t := range info.Outputs {
		id := "out_" + dotID(t.Name)
		fmt.Fprintf(&b, "  %s [shape=ellipse, label=%q];\n", id, fmtTensor(t))
		if p, ok := producer[t.Name]; ok {
			fmt.Fprintf(&b, "  %s -> %s;\n", p, id)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dotID(s string) string { return inspect.DotID(s) }

func toDSLDims(m map[string][]int64) map[string]dsl.Dims {
	out := make(map[string]dsl.Dims, len(m))
	for k, v := range m {
		out[k] = dsl.Dims(v)
	}
	return out
}

// inspectSVG renders the dot form with Graphviz.
func inspectSVG(path string, shapes []string, out string) error {
	dotBin, err := exec.LookPath("dot")
	if err != nil {
		return usageError{fmt.Errorf("--svg needs Graphviz's dot, which is not installed (apt-get install graphviz); --format dot writes the graph for rendering elsewhere")}
	}
	var b bytes.Buffer
	if isEngineFile(path) {
		err = inspectEngine(&b, path, "dot")
	} else {
		var dims map[string][]int64
		if dims, err = parseShapeList("--shapes", shapes); err != nil {
			return err
		}
		var net *dsl.Network
		if net, err = onnx.Import(path, onnx.Options{InputDims: toDSLDims(dims)}); err != nil {
			return err
		}
		err = inspectDot(&b, net)
	}
	if err != nil {
		return err
	}
	c := exec.Command(dotBin, "-Tsvg", "-o", out)
	c.Stdin = &b
	if msg, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("dot -Tsvg: %v: %s", err, msg)
	}
	return nil
}
