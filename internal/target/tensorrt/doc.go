// Package tensorrt is trtc's TensorRT target: it lowers an ir.Graph layer
// by layer onto TensorRT's INetworkDefinition through a small C++ shim
// (shim.h, shim.cpp, plugin.cpp) called with cgo, builds a serialized plan
// with buildSerializedNetwork, stores it as the engine section
// SectionPlan, and runs it with enqueueV3.
//
// The target is compiled only with -tags tensorrt (it needs TensorRT's
// headers); libnvinfer is never linked but dlopened at run time, so a
// binary built with the tag still starts where TensorRT is missing and its
// Probe names every file it tried. See docs/tensorrt.md for what has been
// compiled against which headers and what has never run.
//
// The files without the build tag (this one, options.go, library.go) hold
// what needs no TensorRT: option validation, library search, error
// mapping, and the names cmd/trtc uses to find the plan in an engine.
package tensorrt
