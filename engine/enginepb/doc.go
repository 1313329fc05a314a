// Package enginepb holds the Go types of the engine file's manifest
// (engine.proto in this directory). The protobuf package is "trtc.engine".
//
// engine.pb.go is generated and committed, because builds do not have protoc.
// Regenerate it after editing engine.proto (needs protoc and protoc-gen-go
// v1.36.12, the version go.mod uses):
//
//	go generate ./engine/enginepb
package enginepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative engine.proto
