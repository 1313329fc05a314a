// Package importers groups the front ends that build a dsl.Network from a
// model file: importers/onnx for ONNX models.
package importers
