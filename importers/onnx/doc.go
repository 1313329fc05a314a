// Package onnx imports ONNX models into a dsl.Network.
//
// One importer per op, registered in one table keyed by (domain, op_type,
// since-version); a model's opset picks, for each op, the importer with the
// highest since-version not above it. Initializers become Constant layers;
// nodes whose inputs are all known at import time are folded by running
// them on the CPU engine, so the shape arithmetic PyTorch exports (Shape,
// Gather, Concat, Reshape chains) becomes constants. An op with no
// importer is looked up in the plugin registry (package plugins); when
// neither knows it, the error lists every unsupported op of the model at
// once.
//
// trtc does not use github.com/owulveryck/onnx-go: its last release
// (v0.5.0) dates from December 2019, it decodes with the deprecated
// gogo/protobuf into gorgonia tensors behind an internal package, and its
// backend covers about 40 ops. This package reads the ONNX protobuf with
// google.golang.org/protobuf from a schema written for trtc (onnxpb).
//
// Types trtc has no DataType for are widened on import: double to float32,
// int16/uint16 to int32, uint32/uint64 to int64.
package onnx
