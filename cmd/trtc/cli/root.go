// Package cli is trtc's command line: `trtc compile` turns an ONNX model
// into an engine file, `trtc run`, `trtc bench` and `trtc compare` execute
// engines (or ONNX models, compiled on the fly), `trtc inspect` shows what
// an engine or model is made of, and `trtc ops` and `trtc layers` report
// what the build supports.
//
// It is a package so that custom binaries can add plugins the way custom
// Caddy builds add modules: a main that imports the packages registering
// the plugins and calls Main (see docs/plugins.md):
//
//	import (
//		"os"
//		"github.com/trtc/trtc/cmd/trtc/cli"
//		_ "example.com/myplugins"
//	)
//
//	func main() { os.Exit(cli.Main(os.Args[1:])) }
//
// Exit codes: 0 success, 1 a user error (a bad model, flag or input; the
// message says what to change), 2 an internal error (a bug in trtc).
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trtc/trtc/diag"
)

// version is set at link time with
// -ldflags "-X github.com/trtc/trtc/cmd/trtc/cli.version=...".
var version = "dev"

// Main executes the command line (without the program name) and returns
// the exit code.
func Main(args []string) int { return MainTo(os.Stdout, args) }

// MainTo is Main with the commands' output going to stdout (errors still
// go to standard error), for programs that embed trtc's command line.
func MainTo(stdout io.Writer, args []string) int {
	cmd := newRootCmd()
	cmd.SetOut(stdout)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "trtc:", err)
	return exitCode(err)
}

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// exitCode is 2 for internal errors, 1 for everything else.
func exitCode(err error) int {
	if errors.Is(err, diag.Internal) {
		return 2
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trtc",
		Short: "Compile neural networks for NVIDIA GPUs from Go",
		Long: `trtc compiles ONNX models and networks written in Go into engines for
TensorRT, trtc's own CUDA engine, or the pure-Go CPU engine, and runs,
benchmarks, compares and inspects them.

Exit codes: 0 success, 1 user error (bad model, flags or inputs), 2 internal error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCompileCmd(), newRunCmd(), newBenchCmd(), newCompareCmd(), newInspectCmd(),
		newVersionCmd(), newLayersCmd(), newOpsCmd())
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
