// Command trtc is the command-line front end of trtc: `trtc run` imports an
// ONNX model and runs it (CPU engine for now), `trtc inspect` shows the
// network a model becomes, `trtc ops` and `trtc layers` report what the
// build supports. compile and bench arrive with the compiler and engine.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "trtc:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "trtc",
		Short:         "Compile neural networks for NVIDIA GPUs from Go",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newInspectCmd(), newVersionCmd(), newLayersCmd(), newOpsCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the trtc version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "trtc %s\n", version)
		},
	}
}
