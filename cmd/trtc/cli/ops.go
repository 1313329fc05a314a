package cli

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/plugins"
)

func newOpsCmd() *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "List the ONNX operators trtc imports (docs/operators.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			switch format {
			case "markdown":
				return onnx.WriteOperatorsMarkdown(w)
			case "text":
				return writeOpsText(w)
			}
			return fmt.Errorf("--format %q: want text or markdown", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or markdown")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

func writeOpsText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tOP\tSINCE\tRESTRICTIONS")
	for _, o := range onnx.SupportedOps() {
		dom := o.Domain
		if dom == "" {
			dom = "ai.onnx"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", dom, o.Op, o.Since, o.Restrictions)
	}
	// Plugins linked into this binary take ops no importer knows.
	for _, k := range plugins.Registered() {
		fmt.Fprintf(tw, "%s\t%s\tplugin\tversion %s (registered in this binary)\n", k.Namespace, k.Name, k.Version)
	}
	return tw.Flush()
}
