"""Export the public benchmark models with random weights, save PyTorch's
outputs on fixed random inputs, and time PyTorch eager (and optionally
torch.compile with mode=reduce-overhead) in fp32 and fp16.

    python3 bench/gpu/export.py OUT [--compile]

Writes OUT/<model>.onnx, OUT/<model>_b<B>/<input>.npy, the fp32 outputs
OUT/<model>_b<B>/ref/<output>.npy, and OUT/torch.json with median
latencies (ms, CUDA events, 50 runs after 20 warm-up runs).
"""
import copy
import json
import os
import sys

import numpy as np
import torch

torch.backends.cuda.matmul.allow_tf32 = False  # fp32 references in fp32
torch.backends.cudnn.allow_tf32 = False

out = sys.argv[1]
with_compile = "--compile" in sys.argv
os.makedirs(out, exist_ok=True)
dev = torch.device("cuda")
timings = {}


def median_ms(fn, runs=50, warmup=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


def bench(name, model, make_inputs, input_names, output_names, dynamic_axes):
    model = model.eval().to(dev)
    torch.manual_seed(0)
    ex = make_inputs(1)
    path = os.path.join(out, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, tuple(x.to(dev) for x in ex), path, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    for batch in (1, 32):
        torch.manual_seed(batch)
        xs = make_inputs(batch)
        d = os.path.join(out, f"{name}_b{batch}")
        os.makedirs(os.path.join(d, "ref"), exist_ok=True)
        for n, x in zip(input_names, xs):
            np.save(os.path.join(d, n + ".npy"), x.numpy())
        gx = [x.to(dev) for x in xs]
        with torch.no_grad():
            ys = model(*gx)
            if isinstance(ys, torch.Tensor):
                ys = (ys,)
            elif hasattr(ys, "to_tuple"):
                ys = ys.to_tuple()
            for n, y in zip(output_names, ys):
                np.save(os.path.join(d, "ref", n + ".npy"), y.float().cpu().numpy())
            timings[f"{name} b{batch} eager fp32"] = median_ms(lambda: model(*gx))
            half = [x.half() if x.is_floating_point() else x for x in gx]
            mh = copy.deepcopy(model).half()  # keep the fp32 weights for the next batch's reference
            timings[f"{name} b{batch} eager fp16"] = median_ms(lambda: mh(*half))
            if with_compile:
                mc = torch.compile(mh, mode="reduce-overhead")
                timings[f"{name} b{batch} compile fp16"] = median_ms(lambda: mc(*half))
    with open(os.path.join(out, "torch.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "timings_ms": timings}, f, indent=1)


import torchvision  # noqa: E402

bench("resnet50", torchvision.models.resnet50(weights=None),
      lambda b: (torch.rand(b, 3, 224, 224) * 2 - 1,), ["x"], ["logits"], {"x": {0: "batch"}, "logits": {0: "batch"}})

from transformers import BertConfig, BertModel  # noqa: E402

cfg = BertConfig()  # bert-base: 12 layers, hidden 768, 12 heads
cfg._attn_implementation = "eager"


class Bert(torch.nn.Module):
    """BertModel called by keyword, returning its two outputs."""

    def __init__(self):
        super().__init__()
        self.bert = BertModel(cfg, add_pooling_layer=True)

    def forward(self, input_ids, attention_mask):
        o = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        return o.last_hidden_state, o.pooler_output


bench("bert", Bert(),
      lambda b: (torch.randint(0, cfg.vocab_size, (b, 128)), torch.ones(b, 128, dtype=torch.int64)),
      ["input_ids", "attention_mask"], ["last_hidden_state", "pooler_output"],
      {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})

with open(os.path.join(out, "torch.json"), "w") as f:
    json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "timings_ms": timings}, f, indent=1)
print(json.dumps(timings, indent=1))
