package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// ActivationType selects the function of an ActivationLayer; values are
// TensorRT's nvinfer1::ActivationType.
type ActivationType int

const (
	ActivationReLU            ActivationType = iota // max(0, x)
	ActivationSigmoid                               // 1 / (1 + exp(-x))
	ActivationTanh                                  // tanh(x)
	ActivationLeakyReLU                             // x >= 0 ? x : alpha*x
	ActivationELU                                   // x >= 0 ? x : alpha*(exp(x)-1)
	ActivationSELU                                  // x > 0 ? beta*x : beta*(alpha*exp(x)-alpha)
	ActivationSoftsign                              // x / (1+|x|)
	ActivationSoftplus                              // alpha*log(exp(beta*x)+1)
	ActivationClip                                  // max(alpha, min(beta, x))
	ActivationHardSigmoid                           // max(0, min(1, alpha*x+beta))
	ActivationScaledTanh                            // alpha*tanh(beta*x)
	ActivationThresholdedReLU                       // x > alpha ? x : 0
	ActivationGeluErf                               // 0.5*x*(1+erf(x/sqrt(2)))
	ActivationGeluTanh                              // 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))
	numActivationTypes
)

var activationNames = [...]string{"ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "SELU", "Softsign",
	"Softplus", "Clip", "HardSigmoid", "ScaledTanh", "ThresholdedReLU", "GeluErf", "GeluTanh"}

func (a ActivationType) String() string {
	if a >= 0 && a < numActivationTypes {
		return activationNames[a]
	}
	return fmt.Sprintf("ActivationType(%d)", int(a))
}

// AllActivationTypes lists every activation function.
func AllActivationTypes() []ActivationType {
	out := make([]ActivationType, numActivationTypes)
	for i := range out {
		out[i] = ActivationType(i)
	}
	return out
}

// ActivationLayer applies a pointwise activation (TensorRT IActivationLayer).
// Alpha and beta parameterize some functions; their defaults are 0 as in
// TensorRT, except that the importers set the framework's own defaults.
type ActivationLayer struct {
	layerBase
	act         ActivationType
	alpha, beta float32
}

// AddActivation adds an activation layer. The input may be any float type;
// the output has the input's type and dims.
func (n *Network) AddActivation(in *Tensor, act ActivationType) *ActivationLayer {
	l := &ActivationLayer{act: act}
	n.addLayer(l, LayerActivation, 1, 1, in)
	return l
}

func (l *ActivationLayer) ActivationType() ActivationType { return l.act }
func (l *ActivationLayer) SetActivationType(a ActivationType) {
	l.act = a
	l.changed()
}
func (l *ActivationLayer) Alpha() float32 { return l.alpha }
func (l *ActivationLayer) Beta() float32  { return l.beta }
func (l *ActivationLayer) SetAlpha(a float32) {
	l.alpha = a
	l.changed()
}
func (l *ActivationLayer) SetBeta(b float32) {
	l.beta = b
	l.changed()
}

func (l *ActivationLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.act < 0 || l.act >= numActivationTypes {
		c.errorf(diag.InvalidNode, "unknown activation type %d", int(l.act))
		return
	}
	if !in.dtype.IsFloat() {
		c.errorf(diag.TypeMismatch, "activation %v needs a float input (float32, float16, bfloat16, fp8e4m3); %q is %v", l.act, in.name, in.dtype)
		return
	}
	c.setOutput(0, in.dtype, in.dims)
}
