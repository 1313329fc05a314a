// Command trtc-with-swiglu is trtc with the SwiGLU example plugin built in:
// the whole of a custom build is importing the package that registers the
// plugin and calling the CLI, the way custom Caddy builds add modules.
//
//	go run ./examples/plugin/trtc-with-swiglu run examples/plugin/testdata/swiglu.onnx --shapes x:4x8
package main

import (
	"os"

	"github.com/trtc/trtc/cmd/trtc/cli"

	_ "github.com/trtc/trtc/examples/plugin/swiglu" // registers SwiGLU
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
