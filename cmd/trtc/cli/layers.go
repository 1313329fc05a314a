package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/target/cpu"
)

func newLayersCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "layers",
		Short: "List every TensorRT layer kind and the targets that run it",
		Args:  cobra.NoArgs,
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
	fmt.Fprintln(tw, "LAYER\tCPU")
	for _, k := range dsl.AllLayerTypes() {
		fmt.Fprintf(tw, "%v\t%s\n", k, supportMark(cpu.Supported(k)))
	}
	return tw.Flush()
}

func writeLayersMarkdown(w io.Writer) error {
	fmt.Fprintln(w, "| layer | cpu |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, k := range dsl.AllLayerTypes() {
		fmt.Fprintf(w, "| %v | %s |\n", k, supportMark(cpu.Supported(k)))
	}
	return nil
}
