"""Exports the small PyTorch models trtc's ONNX importer is checked against.

Run on a machine with PyTorch and onnx (the GPU machine has them):

    python3 export.py OUTDIR

For each model it writes OUTDIR/<name>.onnx (random weights, dynamic batch),
and for two batch sizes <name>.b<N>.input.npy and <name>.b<N>.output.npy
computed by PyTorch in float32 on the CPU. The files are small enough to
commit; importers/onnx/pytorch_test.go reads them.
"""
import sys
import os

import numpy as np
import torch
import torch.nn as nn


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(16), nn.SiLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return torch.softmax(self.head(torch.flatten(self.features(x), 1)), dim=-1)


class TransformerBlock(nn.Module):
    def __init__(self, d=32, heads=4):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, need_weights=False)
        x = x + a
        return x + self.mlp(self.ln2(x))


def randomize_batchnorm(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)


def export(model, name, example, dynamic_axes, batches, outdir):
    model.eval()
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(model, (example,), path, input_names=["x"], output_names=["y"],
                      dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    for b in batches:
        shape = (b,) + tuple(example.shape[1:])
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(b))
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(outdir, f"{name}.b{b}.input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(outdir, f"{name}.b{b}.output.npy"), y.numpy().astype(np.float32))
    print("wrote", path, os.path.getsize(path), "bytes")


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    cnn = SmallCNN()
    randomize_batchnorm(cnn)
    export(cnn, "small_cnn", torch.randn(1, 3, 32, 32), {"x": {0: "batch"}, "y": {0: "batch"}}, [1, 3], outdir)
    block = TransformerBlock()
    export(block, "transformer_block", torch.randn(2, 16, 32),
           {"x": {0: "batch"}, "y": {0: "batch"}}, [1, 2], outdir)


if __name__ == "__main__":
    main()
