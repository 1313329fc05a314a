// Package onnxpb holds the Go types of the ONNX IR protobuf schema
// (onnx.proto in this directory, written by trtc from the ONNX IR
// specification). The protobuf package is "onnx", so message names on the
// wire are the standard ones (onnx.ModelProto...).
//
// onnx.pb.go is generated and committed, because builds do not have protoc.
// Regenerate it after editing onnx.proto (needs protoc and protoc-gen-go):
//
//	go generate ./importers/onnx/onnxpb
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
