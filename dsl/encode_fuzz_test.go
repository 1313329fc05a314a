package dsl_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/tensor"
)

// FuzzDecodeNetwork feeds DecodeNetwork arbitrary bytes. It must return a
// network or a *diag.Error, never panic or report an internal error; a
// network it returns must encode again, and that encoding must be a fixed
// point of decode and encode.
func FuzzDecodeNetwork(f *testing.F) {
	f.Add(smallEncoding(f))
	for _, name := range []string{"loop with if", "plugin", "pool", "generate", "forward ref"} {
		f.Add(mustEncode(f, dsltest.Networks()[name](rand.New(rand.NewPCG(5, 6))), dsl.EncodeOptions{}))
	}
	ext := mustEncode(f, dsltest.Networks()["if"](rand.New(rand.NewPCG(5, 6))), dsl.EncodeOptions{
		PutWeights: func(*tensor.Tensor) (uint64, error) { return 1, nil }})
	f.Add(ext)
	scalar, _ := tensor.FromFloat32(nil, []float32{0.5})
	opt := decOpts
	opt.GetWeights = func(id uint64) (*tensor.Tensor, error) {
		if id != 1 {
			return nil, errors.New("no such weights")
		}
		return scalar, nil
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		net, err := dsl.DecodeNetwork(b, opt)
		if err != nil {
			var de *diag.Error
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if errors.Is(err, diag.Internal) {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		b2, err := dsl.EncodeNetwork(net, dsl.EncodeOptions{})
		if err != nil {
			t.Fatalf("a decoded network does not encode: %v", err)
		}
		net2, err := dsl.DecodeNetwork(b2, opt)
		if err != nil {
			t.Fatalf("the re-encoding does not decode: %v", err)
		}
		b3, err := dsl.EncodeNetwork(net2, dsl.EncodeOptions{})
		if err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("encode(decode(b)) is not a fixed point (err %v)", err)
		}
	})
}
