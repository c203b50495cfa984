"""Reading a Hugging Face checkpoint folder: safetensors weights (fp32, fp16 or bf16) as float32 numpy arrays.

The format is read here rather than with `safetensors.numpy`, which cannot represent bf16 (numpy has no bf16).
Pickle checkpoints are refused: loading them can run arbitrary code.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from bertdesk.core.errors import CheckpointError

_PICKLE_FILES = ("pytorch_model.bin", "tf_model.h5", "model.ckpt.index", "flax_model.msgpack")
_FLOAT_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}
_INT_DTYPES = {"I64": np.dtype("<i8"), "I32": np.dtype("<i4")}
_MAX_HEADER = 100 * 1024 * 1024


def checkpoint_files(folder: Path) -> list[Path]:
    """The safetensors files of a checkpoint folder (one file or a sharded set), or a clear refusal."""
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a folder")
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{index} is not a valid safetensors index: {exc}") from exc
        files = []
        for name in sorted(set(weight_map.values())):
            shard = (folder / name).resolve()
            if folder.resolve() not in shard.parents:
                raise CheckpointError(f"{index} names a shard outside the folder: {name}")
            files.append(shard)
        return files
    pickled = [name for name in _PICKLE_FILES if (folder / name).exists()]
    if pickled:
        raise CheckpointError(
            f"{folder} holds only {pickled[0]}: bertdesk reads safetensors checkpoints only, because pickle files "
            "can run arbitrary code when loaded. Save the model with safe_serialization=True (model.safetensors)."
        )
    raise CheckpointError(f"{folder} has no model.safetensors")


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of one safetensors file; floating tensors as float32."""
    try:
        with path.open("rb") as f:
            (header_size,) = struct.unpack("<Q", f.read(8))
            if header_size <= 0 or header_size > _MAX_HEADER:
                raise ValueError(f"implausible header size {header_size}")
            header = json.loads(f.read(header_size))
            data = f.read()
    except (OSError, struct.error, ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = spec["dtype"], spec["shape"], spec["data_offsets"]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: bad header entry for {name!r}") from exc
        if not 0 <= begin <= end <= len(data):
            raise CheckpointError(f"{path}: tensor {name!r} lies outside the file (truncated download?)")
        raw = data[begin:end]
        if dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype in _FLOAT_DTYPES:
            array = np.frombuffer(raw, dtype=_FLOAT_DTYPES[dtype]).astype(np.float32)
        elif dtype in _INT_DTYPES:
            array = np.frombuffer(raw, dtype=_INT_DTYPES[dtype]).copy()
        else:
            raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        expected = int(np.prod(shape)) if shape else 1
        if array.size != expected:
            raise CheckpointError(f"{path}: tensor {name!r} has {array.size} values; shape {shape} needs {expected}")
        tensors[name] = array.reshape(shape)
    return tensors


def read_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """Every tensor of a checkpoint folder, merged across shards."""
    tensors: dict[str, np.ndarray] = {}
    for file in checkpoint_files(folder):
        tensors.update(read_safetensors(file))
    return tensors
