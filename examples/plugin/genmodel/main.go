// Command genmodel writes examples/plugin's ONNX model, a MatMul followed by
// a SwiGLU node in the custom domain trtc.examples:
//
//	go run ./examples/plugin/genmodel -o examples/plugin/testdata/swiglu.onnx
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/trtc/trtc/examples/plugin/model"
)

func main() {
	out := flag.String("o", "examples/plugin/testdata/swiglu.onnx", "where to write the model")
	flag.Parse()
	if err := os.WriteFile(*out, model.ONNX(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
}
