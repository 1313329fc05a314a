"""Export a tiny BertModel (2 layers, hidden 32) for debugging imports
away from the GPU machine: python3 bench/gpu/tinybert.py OUT.onnx"""
import sys

import torch
from transformers import BertConfig, BertModel

cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
cfg._attn_implementation = "eager"


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = BertModel(cfg)

    def forward(self, input_ids, attention_mask):
        o = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        return o.last_hidden_state, o.pooler_output


m = Bert().eval()
ids, mask = torch.randint(0, 100, (1, 16)), torch.ones(1, 16, dtype=torch.int64)
torch.onnx.export(m, (ids, mask), sys.argv[1], input_names=["input_ids", "attention_mask"],
                  output_names=["last_hidden_state", "pooler_output"], opset_version=17, dynamo=False,
                  dynamic_axes={"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}})
