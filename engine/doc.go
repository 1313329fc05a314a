// Package engine will read, verify and run engine files (header, manifest,
// aligned sections) for every target. It is specified by the issue "The
// compiler pipeline, the engine file, and the trtc command" and holds no
// code yet.
package engine
