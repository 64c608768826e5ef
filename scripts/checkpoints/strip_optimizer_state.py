#!/usr/bin/env python3
"""Removes the optimiser state (tensors named `optimizer/...`, which `--resume` needs) from Ephys
training checkpoints, keeping the weights and the metadata byte for byte, so shipped checkpoints stay
small. The file is rewritten atomically (temporary file + rename).

  python3 scripts/checkpoints/strip_optimizer_state.py Checkpoints/saliency-multiset-set.safetensors ...
"""
import json
import os
import struct
import sys


def strip(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    metadata = header.pop("__metadata__", {})
    kept, blobs, offset = {}, [], 0
    for name, entry in header.items():
        if name.startswith("optimizer/"):
            continue
        start, end = entry["data_offsets"]
        blob = raw[base + start:base + end]
        kept[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    metadata.pop("ephys.optimizer_state", None)
    if metadata:
        kept["__metadata__"] = metadata
    text = json.dumps(kept, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    temporary = path + ".tmp-strip"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(temporary, path)
    print(f"{path}: {len(raw)} -> {8 + len(text) + offset} bytes")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        strip(p)
