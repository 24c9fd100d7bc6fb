#!/usr/bin/python3
"""Reads a safetensors file with nothing but json and numpy, following the published format
(https://huggingface.co/docs/safetensors), and loads the tensors into PyTorch.

Debian has no python3-safetensors, so this is how the files ag writes are checked from Python:

  /usr/bin/python3 tools/safetensors_check.py model.safetensors          # list tensors
  /usr/bin/python3 tools/safetensors_check.py --check-fixture FILE       # CTest: exact values
  /usr/bin/python3 tools/safetensors_check.py --fashion-mnist CKPT       # test accuracy in torch

Format: u64 little-endian N, N bytes of JSON header
{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
then the data section; offsets are relative to its start and tile it exactly.
Exit status: 0 when every check passed, 1 on a failed check, 77 (CTest's skip) when torch is
missing but the numpy checks passed.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": None,
          "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
          "BOOL": np.bool_}


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata dict); raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, too short for the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header_text = blob[8:8 + n].decode("utf-8")
    if not header_text.startswith("{"):
        raise ValueError(f"{path}: header does not start with '{{'")
    header = json.loads(header_text)
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    end_of_previous = 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        if begin != end_of_previous:
            raise ValueError(f"{path}: tensor {name!r} starts at {begin}, expected {end_of_previous}")
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r}: dtype {info['dtype']} not handled here")
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * np.dtype(dtype).itemsize:
            raise ValueError(f"{path}: tensor {name!r}: {end - begin} bytes for {info['dtype']} {shape}")
        tensors[name] = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"),
                                      count=count, offset=begin).reshape(shape).copy()
        end_of_previous = end
    if end_of_previous != len(data):
        raise ValueError(f"{path}: {len(data) - end_of_previous} bytes after the last tensor")
    return tensors, metadata


def to_torch(tensors):
    import torch  # the system python's python3-torch
    return {name: torch.from_numpy(array) for name, array in tensors.items()}


class Checker:
    def __init__(self):
        self.failures = 0

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures += 1


def check_fixture(path):
    """The file tests/test_safetensors.cpp (case python_fixture) writes."""
    tensors, metadata = read_safetensors(path)
    check = Checker()
    w = ((np.arange(6) - 2.5) * 0.375).astype(np.float32).reshape(3, 2)
    x = ((np.arange(12) % 5) * 0.5 - 1.0).astype(np.float32).reshape(4, 3)
    b = np.array([0.125, -0.5], dtype=np.float32)
    expected = {
        "dense.weight": w, "dense.bias": b, "x": x,
        "third": np.array([[1.0 / 3.0, -2.5], [1e-300, 6.02214076e23]], dtype=np.float64),
        "scalar": np.array(42.0, dtype=np.float64),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    check(sorted(tensors) == sorted(list(expected) + ["y"]), f"names {sorted(tensors)}")
    for name, want in expected.items():
        got = tensors.get(name)
        check(got is not None and got.dtype == want.dtype and got.shape == want.shape
              and np.array_equal(got, want),
              f"{name}: {want.dtype} {want.shape} bit for bit")
    check(metadata == {"producer": "ag test_safetensors",
                       "tricky": "quote \" backslash \\ newline \n \u00e9"},
          f"metadata {metadata!r}")
    try:
        import torch
    except ImportError:
        print("torch is not installed: numpy checks only")
        return 1 if check.failures else 77
    t = to_torch(tensors)
    # ag's Dense holds weight as [in, out]; torch.nn.Linear holds [out, in].
    linear = torch.nn.Linear(3, 2)
    linear.load_state_dict({"weight": t["dense.weight"].T.contiguous(), "bias": t["dense.bias"]})
    with torch.no_grad():
        y = linear(t["x"])
    check(torch.allclose(y, t["y"], rtol=0, atol=1e-6),
          "torch.nn.Linear with the stored weights reproduces ag's output y")
    check(t["third"].dtype == torch.float64 and t["third"][1, 1].item() == 6.02214076e23,
          "F64 tensor loads as torch.float64")
    return 1 if check.failures else 0


def load_idx(path):
    with gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb") as f:
        blob = f.read()
    magic, = struct.unpack(">I", blob[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, blob[4:4 + 4 * dims])
    return np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist_accuracy(path, data_dir):
    """Rebuilds the example's MLP (Dense layers "0", "2", "4") in torch and scores the test set."""
    import torch
    tensors, metadata = read_safetensors(path)
    t = to_torch(tensors)
    layers = sorted({int(name.split(".")[0]) for name in t if not name.startswith("optim.")})
    modules = []
    for i, index in enumerate(layers):
        w = t[f"{index}.weight"]
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        linear.load_state_dict({"weight": w.T.contiguous(), "bias": t[f"{index}.bias"]})
        modules.append(linear)
        if i + 1 < len(layers):
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    images = load_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    with torch.no_grad():
        predicted = model(x).argmax(dim=1).numpy()
    accuracy = float((predicted == labels).mean())
    print(f"metadata: {metadata}")
    print(f"PyTorch, weights from {path}: test accuracy {accuracy:.4f}")
    if "test_accuracy" in metadata:
        stored = float(metadata["test_accuracy"])
        print(f"ag reported {stored:.4f}")
        return 0 if abs(stored - accuracy) < 1e-3 else 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--check-fixture", action="store_true",
                        help="verify the values tests/test_safetensors.cpp writes")
    parser.add_argument("--fashion-mnist", action="store_true",
                        help="score a fashion_mnist checkpoint on the test set with torch")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    if args.check_fixture:
        return check_fixture(args.file)
    if args.fashion_mnist:
        return fashion_mnist_accuracy(args.file, args.data_dir)
    tensors, metadata = read_safetensors(args.file)
    for name, array in tensors.items():
        print(f"{name}: {array.dtype} {list(array.shape)}")
    if metadata:
        print(f"__metadata__: {json.dumps(metadata)}")
    to_torch(tensors)
    print(f"{len(tensors)} tensors loaded into torch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
