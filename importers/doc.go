// Package importers groups the front ends that build a dsl.Network from a
// model file. The ONNX importer (importers/onnx) is specified by the issue
// "ONNX importer, plugin fallback, and ONNX conformance" and does not exist
// yet.
package importers
