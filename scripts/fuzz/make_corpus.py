#!/usr/bin/env python3
"""Writes the seed corpus of `ephys fuzz` into fuzz/corpus/ (run from the repository root; standard
library only, but for the ONNX seed, which make_onnx_seed.py exports with torch). Seeds are small valid inputs of every reader plus hand-made hostile ones that once
crashed or blew up a reader (self-referential pickles, zero-stride tensors, zip members that declare
gigabytes, regions outside the canvas, numbers past any Int). The harness mutates them."""
import collections, io, os, pickle, shutil, struct, sys, types, zipfile, zlib

root = "fuzz/corpus"
shutil.rmtree(root, ignore_errors=True)
for d in ["protocol", "stimulus", "csv", "npy", "npz", "pt", "safetensors", "coco", "support/stimuli"]:
    os.makedirs(f"{root}/{d}")

def write(path, data):
    with open(f"{root}/{path}", "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)

# --- support files the protocol seeds name (weights only need to exist for validation) -------------
shutil.copy("Tests/EngineTests/Fixtures/model/net_init.safetensors", f"{root}/support/weights.safetensors")
for name in ["gaussian-bars.yaml", "gratings.yaml", "gaussian-bars-reference.yaml"]:
    shutil.copy(f"Stimuli/{name}", f"{root}/support/stimuli/{name}")
    shutil.copy(f"Stimuli/{name}", f"{root}/stimulus/{name}")

# --- protocols ------------------------------------------------------------------------------------
for name in ["orientation-attention", "position-attention", "width-attention"]:
    text = open(f"Protocols/{name}.yaml").read()
    text = text.replace("../Checkpoints/object-attention-mnist.safetensors", "weights.safetensors")
    text = text.replace("../Stimuli/", "stimuli/")
    write(f"protocol/{name}.yaml", text)
write("protocol/inline-grating-cue.yaml", """name: inline
model: {architecture: object-attention-mnist, weights: weights.safetensors}
stimulus:
  kind: grating
  canvas: [28, 42]
  parameters:
    orientation: {from: 0, to: 150, steps: 6}
    frequency: [0.1, 0.2]
    phase: 0
    x: 9
    y: 14
    aperture: 8
  distractor: {kind: noise, amplitude: 0.5, region: [0, 28, 28, 14]}
  combine: clamp
  noise: 0.1
attention: {mode: cue}
record: {layers: [conv1], units: center, batch: 64, responses: false}
tuning: {axis: orientation, reduce: mean}
seed: 3
output: Reports/inline
""")
write("protocol/spatial-gain-units.yaml", """name: gain
model: {architecture: object-attention-mnist, weights: weights.safetensors}
stimulus:
  kind: gabor
  parameters:
    orientation: [0, 45, 90, 135]
    sigma: {from: 2, to: 6, steps: 3}
    x: 8
  distractor: {kind: bar, orientation: 90, x: 35, y: 14, width: 2, length: 12, region: whole}
attention: {mode: spatial-gain, layer: conv2, beta: 0.5, sigma: 3}
record:
  layers: [conv1, conv2]
  units: [[conv1, 0, 5, 5], [conv2, 3, 2, 2]]
tuning: {axis: orientation}
""")
write("protocol/region-outside-canvas.yaml", """name: outside
model: {architecture: object-attention-mnist, weights: weights.safetensors}
stimulus:
  kind: gaussian-bar
  parameters: {orientation: {from: 0, to: 180, steps: 4}, x: 1e19}
  distractor: {kind: digit, index: 7, region: [0, 40, 28, 28]}
record: {layers: [conv1], units: covering}
tuning: {axis: orientation}
""")

# --- stimulus files -------------------------------------------------------------------------------
write("stimulus/huge-range.yaml", """kind: gaussian-bar
parameters:
  orientation: {from: -1.7e308, to: 1.7e308, steps: 100000}
  x: {from: 0, to: 40, steps: 100000}
  y: {from: 0, to: 27, steps: 100000}
distractor: {kind: noise, amplitude: 1, region: [0, 0, 100000, 100000]}
""")
write("stimulus/grating-bar-distractor.yaml", """kind: grating
canvas: [32, 48]
parameters:
  orientation: [0, 90]
  frequency: 0.1
distractor: {kind: grating, orientation: 45, frequency: 0.2, sigma: 3, x: 36, y: 16, region: [0, 24, 32, 24]}
""")

# --- CSV tables -----------------------------------------------------------------------------------
rows = ["unit,layer,condition,attended,unattended"]
for u in range(4):
    for k, c in enumerate([0, 45, 90, 135, 180]):
        rows.append(f"u{u},conv{1 + u % 2},{c},{1 + u + k * 0.5:.3f},{0.8 + u + k * 0.3:.3f}")
write("csv/table.csv", "\n".join(rows) + "\n")
write("csv/quoted.csv", 'unit,condition,attended,unattended,note\r\n"conv1[0,1,2]",1,2.5,1.5,"a, ""quoted"" note"\r\n'
      '"conv1[0,1,2]",2,3.5,1.0,"line\nbreak"\r\nconv1[1,1,2],1,nan,1\r\nconv1[1,1,2],2,1e308,-1e308\r\n')
write("csv/heatmap-names.csv", "unit,layer,condition,attended,unattended\n"
      "conv1[0,99999999,99999999],conv1,0,1,2\nconv1[0,99999999,99999999],conv1,1,2,1\n"
      "conv1[0,-5,3],conv1,0,1,2\nconv1[0,-5,3],conv1,1,3,1\n")

# --- NPY ------------------------------------------------------------------------------------------
def npy(descr, shape, data, fortran=False, version=1):
    shape_text = "()" if not shape else ("(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")")
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape_text)
    prefix = 10 if version == 1 else 12
    total = (prefix + len(header) + 1 + 63) // 64 * 64
    header += " " * (total - prefix - len(header) - 1) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin1") + data

write("npy/f32.npy", npy("<f4", [2, 1, 3, 4], struct.pack("<24f", *range(24))))
write("npy/f64-big-endian.npy", npy(">f8", [3], struct.pack(">3d", 1.5, -2, 1e300)))
write("npy/fortran-v2.npy", npy("<i8", [2, 3], struct.pack("<6q", *range(6)), fortran=True, version=2))
write("npy/claims-huge.npy", npy("<f4", [100000, 100000, 100000], b"\0" * 64))

# --- NPZ ------------------------------------------------------------------------------------------
def npz(members, compress):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    return buf.getvalue()

small = [("a.npy", npy("<f4", [3, 5], struct.pack("<15f", *range(15)))), ("b.npy", npy("|u1", [4], b"\1\2\3\4"))]
write("npz/stored.npz", npz(small, False))
write("npz/deflated.npz", npz(small, True))
# One 64 MiB member of zeros (64 KiB deflated) named by 64 directory entries: 4 GiB if each were inflated.
zeros = npy("<f4", [16 << 20], b"")
body = zeros + b"\0" * (64 << 20)
comp = zlib.compressobj(9, zlib.DEFLATED, -15)
raw = comp.compress(body) + comp.flush()
crc = zlib.crc32(body)
local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), len(body), 5, 0) + b"x.npy" + raw
central = b""
for i in range(64):
    name = b"m%02d.npy" % i
    central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), len(body),
                           len(name), 0, 0, 0, 0, 0, 0) + name
eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 64, 64, len(central), len(local), 0)
write("npz/one-member-64-times.npz", local + central + eocd)

# The shipped object-attention weights as an .npz (what the weights readers then load into the model).
import json
with open("Checkpoints/object-attention-mnist.safetensors", "rb") as f:
    blob = f.read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
members = []
for name, info in sorted(header.items()):
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    members.append((name + ".npy", npy("<f4", info["shape"], blob[8 + n + b:8 + n + e])))
write("npz/object-attention-mnist.npz", npz(members, False))

# --- PyTorch files --------------------------------------------------------------------------------
for name in ["net_init.pt", "net_init_legacy.pt", "strided.pt", "wrapped.pt", "evil.pt"]:
    shutil.copy(f"Tests/EngineTests/Fixtures/model/{name}", f"{root}/pt/{name}")
# The reference code's format of the object-attention network (random weights): loads into the model.
shutil.copy("Tests/ModelsTests/Fixtures/object_attention_mnist_random.pt", f"{root}/pt/object_attention_mnist_random.pt")

# A stand-in `torch` module so pickle writes the globals torch.save writes, without torch.
torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*args): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage: pass
FloatStorage.__module__ = "torch"; FloatStorage.__qualname__ = "FloatStorage"
torch.FloatStorage = FloatStorage; torch._utils = utils
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils

class Storage:
    def __init__(self, key, n): self.key, self.n = key, n
class Tensor:
    def __init__(self, storage, shape, stride): self.s, self.shape, self.stride = storage, shape, stride
    def __reduce__(self):
        return (_rebuild_tensor_v2, (self.s, 0, self.shape, self.stride, False, collections.OrderedDict()))
class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", FloatStorage, obj.key, "cpu", obj.n) if isinstance(obj, Storage) else None

def dumps(obj):
    buf = io.BytesIO(); Pickler(buf, protocol=2).dump(obj); return buf.getvalue()

def torch_zip(pkl, storages):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def put(name, data):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        put("archive/data.pkl", pkl)
        put("archive/byteorder", "little")
        for key, data in storages.items():
            put(f"archive/data/{key}", data)
        put("archive/version", "3\n")
    return buf.getvalue()

def legacy(pkl, storages):
    out = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2) + pkl
    out += pickle.dumps(list(storages), protocol=2)
    for data in storages.values():
        out += struct.pack("<q", len(data) // 4) + data
    return out

s = Storage("0", 4)
zero_stride = collections.OrderedDict(w=Tensor(s, (100000, 100000), (0, 0)))
write("pt/zero-stride.pt", torch_zip(dumps(zero_stride), {"0": struct.pack("<4f", 1, 2, 3, 4)}))
selfdict = collections.OrderedDict(); selfdict["me"] = selfdict
write("pt/self-dict.pt", torch_zip(dumps(selfdict), {}))
selflist = []; selflist.append(selflist)
write("pt/self-list.pt", torch_zip(dumps(collections.OrderedDict(l=selflist)), {}))
cycle = {}; cycle["a"] = {"b": cycle}
write("pt/legacy-cycle.pt", legacy(dumps(cycle), {}))
write("pt/legacy-self-dict.pt", legacy(dumps(selfdict), {}))
deep = []
for _ in range(500): deep = [deep]
sys.setrecursionlimit(10000)
write("pt/deep.pt", torch_zip(dumps(collections.OrderedDict(d=deep)), {}))

# --- safetensors ----------------------------------------------------------------------------------
for src, name in [("Tests/EngineTests/Fixtures/model/net_init.safetensors", "net_init.safetensors"),
                  ("Checkpoints/object-attention-mnist.safetensors", "object-attention-mnist.safetensors")]:
    shutil.copy(src, f"{root}/safetensors/{name}")
import json
header = json.dumps({f"t{i}": {"dtype": "F32", "shape": [256], "data_offsets": [0, 1024]} for i in range(2000)}).encode()
header += b" " * (-len(header) % 8)
write("safetensors/overlapping.safetensors", struct.pack("<Q", len(header)) + header + b"\0" * 1024)

# --- COCO instances -------------------------------------------------------------------------------
coco = {
    "images": [{"id": 1, "file_name": "a.png", "height": 48, "width": 64}],
    "categories": [{"id": 1, "name": "thing", "supercategory": "animal"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "area": 200, "iscrowd": 0,
         "segmentation": [[4, 6, 22, 6, 22, 26, 4, 26]]},
        {"id": 2, "image_id": 1, "category_id": 1, "area": 300, "iscrowd": 0,
         "segmentation": {"size": [48, 64], "counts": [100, 20, 28, 20, 2904]}},
        {"id": 3, "image_id": 1, "category_id": 1, "area": 10, "iscrowd": 1,
         "segmentation": {"size": [48, 64], "counts": "PP1c0"}},
    ],
}
write("coco/instances.json", json.dumps(coco, indent=1))
coco["images"][0]["height"] = 1e30
coco["annotations"][0]["segmentation"] = [[1e308, 6, -1e308, 6, 22, 1e300, 4, 26]]
write("coco/extreme.json", json.dumps(coco, indent=1))
print("corpus written to", root)

# --- feature-gain protocol (mutants reach the feature-attention keys) and a Pascal VOC annotation ---
write("protocol/feature-gain.yaml", """name: feature-gain
model: {architecture: feature-gain-cnn, weights: random}
stimulus:
  kind: grating
  canvas: [56, 56]
  parameters:
    orientation: {from: 0, to: 150, steps: 6}
    frequency: [0.1, 0.2]
    phase: 0
    x: 28
    y: 28
    aperture: 20
attention:
  mode: feature-gain
  target: {orientation: 45}
  values: tuning
  layers: [features.6, features.8]
  beta: 0.5
record: {layers: [features.11], units: covering, batch: 32, responses: false}
tuning: {axis: orientation, reduce: max}
seed: 2
""")
os.makedirs(f"{root}/voc", exist_ok=True)
write("voc/000005.xml", """<annotation>
\t<folder>VOC2007</folder>
\t<filename>000005.jpg</filename>
\t<size>
\t\t<width>500</width>
\t\t<height>375</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>chair</name>
\t\t<pose>Rear</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>263</xmin>
\t\t\t<ymin>211</ymin>
\t\t\t<xmax>324</xmax>
\t\t\t<ymax>339</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>person</name>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>5</xmin>
\t\t\t<ymin>244</ymin>
\t\t\t<xmax>67</xmax>
\t\t\t<ymax>374</ymax>
\t\t</bndbox>
\t\t<part>
\t\t\t<name>head</name>
\t\t\t<bndbox><xmin>10</xmin><ymin>250</ymin><xmax>30</xmax><ymax>270</ymax></bndbox>
\t\t</part>
\t</object>
</annotation>
""")

# The ONNX seed is exported by torch (Debian's python3-torch), so it has its own script.
import subprocess  # noqa: E402
os.makedirs(f"{root}/onnx", exist_ok=True)
subprocess.run(["/usr/bin/python3", "scripts/fuzz/make_onnx_seed.py"], check=True)
