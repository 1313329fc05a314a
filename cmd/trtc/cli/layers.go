package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/target/cuda"
)

func newLayersCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "layers",
		Short: "List every TensorRT layer kind and the targets that run it",
		Long: `List every TensorRT layer kind, whether the CPU engine runs it, and where
the CUDA target runs it: gpu (generated kernels, cuDNN, cuBLASLt; some
types or modes may still run on the host, which the build summary names),
plugin (the plugin's CUDA kernel where it has one), region (the loop's
body and condition or the conditional's branches as engines of their own on
the GPU; where one does not build, the whole region on the host) or host
(the CPU engine's kernel, with copies).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "text":
				return writeLayersText(cmd.OutOrStdout())
			case "markdown":
				return writeLayersMarkdown(cmd.OutOrStdout())
			}
			return fmt.Errorf("--format %q: want text or markdown", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or markdown")
	return cmd
}

func supportMark(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func writeLayersText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tCPU\tCUDA")
	for _, k := range dsl.AllLayerTypes() {
		fmt.Fprintf(tw, "%v\t%s\t%s\n", k, supportMark(cpu.Supported(k)), cuda.Support(k))
	}
	return tw.Flush()
}

func writeLayersMarkdown(w io.Writer) error {
	fmt.Fprintln(w, "| layer | cpu | cuda |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, k := range dsl.AllLayerTypes() {
		fmt.Fprintf(w, "| %v | %s | %s |\n", k, supportMark(cpu.Supported(k)), cuda.Support(k))
	}
	return nil
}
