#!/usr/bin/env python3
"""Peer of `ephys bench --attribution`: TorchRay's Excitation Backprop (MWP) and contrastive MWP on
torchvision VGG16 with the fixture formula's weights (scripts/fixtures/make_zoo_fixtures.py), a batch
of 2 images of 224 x 224 (1.5 * u(999, i)), classes 3 and 7; MWP at features.23, c-MWP contrast at
classifier.4; each timing includes the forward pass, as TorchRay's calls do. Prints one JSON line
with maps per second (best of --repeats after a warm-up). Needs torch, torchvision and torchray
(see make_attribution_fixtures.py for the virtual environment)."""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
from torchray.attribution.excitation_backprop import contrastive_excitation_backprop, excitation_backprop

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from make_zoo_fixtures import load_formula_weights, uniform  # noqa: E402


def best(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = torchvision.models.vgg16()
    model.eval()
    load_formula_weights(model)
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.from_numpy((1.5 * uniform(999, 2 * 3 * 224 * 224)).astype(np.float32).reshape(2, 3, 224, 224))
    mwp = best(args.repeats, lambda: excitation_backprop(model, x, [3, 7], saliency_layer="features.23"))
    cmwp = best(args.repeats, lambda: contrastive_excitation_backprop(
        model, x, [3, 7], saliency_layer="features.23", contrast_layer="classifier.4",
        classifier_layer="classifier.6"))
    print(json.dumps({"threads": args.threads, "vgg16_mwp_maps_per_s": 2 / mwp, "vgg16_cmwp_maps_per_s": 2 / cmwp}))


if __name__ == "__main__":
    main()
