// Command trtc compiles, runs, benchmarks, compares and inspects neural
// network engines; the commands live in package cli, so custom builds with
// extra plugins are a main like this one plus imports.
package main

import (
	"os"

	"github.com/trtc/trtc/cmd/trtc/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
