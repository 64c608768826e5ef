#!/usr/bin/env python3
"""Writes fuzz/corpus/onnx/small.onnx (called by make_corpus.py), the seed of `ephys fuzz`'s onnx reader: a small network exported by
torch.onnx.export (opset 13, dynamic batch) whose graph holds the operator families the importer handles
(Conv, BatchNormalization folded, Relu, MaxPool, Resize, reflect Pad, Slice, Concat, Transpose,
GlobalAveragePool, Flatten, Gemm, Softmax) and shape arithmetic, on a 3 x 16 x 16 input. Run from the
repository root with Debian's python3-torch."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.mix = nn.Conv2d(8, 5, 3, stride=2)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        up = F.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        z = torch.cat([F.relu(self.conv(x)), up], dim=1)
        z = F.pad(z, (1, 1, 1, 1), mode="reflect")[:, :, 1:, ::1].transpose(2, 3)
        z = F.adaptive_avg_pool2d(self.mix(z), 1).flatten(1)
        return F.softmax(self.fc(z), dim=1)


def main():
    torch.manual_seed(0)
    model = Small().eval()
    torch.onnx.export(model, torch.randn(1, 3, 16, 16), "fuzz/corpus/onnx/small.onnx", input_names=["input"],
                      output_names=["scores"], opset_version=13,
                      dynamic_axes={"input": {0: "batch"}, "scores": {0: "batch"}})


if __name__ == "__main__":
    main()
