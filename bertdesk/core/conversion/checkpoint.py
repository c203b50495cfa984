"""Reading a Hugging Face checkpoint folder: safetensors weights (fp32, fp16 or bf16) as float32 numpy arrays.

The format is read here rather than with `safetensors.numpy`, which cannot represent bf16 (numpy has no bf16).
Every part of a file's header is checked before a byte of it is used, so a damaged or hostile file gets one clear
sentence. Pickle checkpoints are refused: loading them can run arbitrary code.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bertdesk.core.bundles.config import check_inside, describe_value, folder_root, read_failure, read_json
from bertdesk.core.errors import CheckpointError

_PICKLE_FILES = ("pytorch_model.bin", "tf_model.h5", "model.ckpt.index", "flax_model.msgpack")
_FLOAT_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}
_INT_DTYPES = {"I64": np.dtype("<i8"), "I32": np.dtype("<i4")}
_ITEM_SIZES = {"BF16": 2} | {name: dtype.itemsize for name, dtype in (_FLOAT_DTYPES | _INT_DTYPES).items()}
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorSpec:
    """One tensor's entry in a safetensors header, checked: its dtype, shape and byte range in the data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def checkpoint_files(folder: Path) -> list[Path]:
    """The safetensors files of a checkpoint folder (one file or a sharded set), or a clear refusal."""
    if folder.is_file():
        raise CheckpointError(f"{folder} is a file, not a checkpoint folder")
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a folder")
    single = folder / "model.safetensors"
    if single.is_file():
        check_inside(single, folder, CheckpointError)
        return [single]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return _shards(folder, index)
    pickled = [name for name in _PICKLE_FILES if (folder / name).exists()]
    if pickled:
        raise CheckpointError(
            f"{folder} holds only {pickled[0]}: bertdesk reads safetensors checkpoints only, because pickle files "
            "can run arbitrary code when loaded. Save the model with safe_serialization=True (model.safetensors)."
        )
    raise CheckpointError(f"{folder} has no model.safetensors")


def _shards(folder: Path, index: Path) -> list[Path]:
    """The shard files a `model.safetensors.index.json` names, each checked to be a file inside `folder`."""
    raw = read_json(index, CheckpointError)
    weight_map = raw.get("weight_map") if isinstance(raw, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        found = describe_value(weight_map) if isinstance(raw, dict) and "weight_map" in raw else "no weight_map"
        raise CheckpointError(
            f"{index} is not a valid safetensors index: it needs a weight_map object naming each weight's file "
            f"(found {found})"
        )
    names = set()
    for weight, name in weight_map.items():
        if not isinstance(name, str) or not name or "\0" in name:
            raise CheckpointError(
                f"{index}: weight_map[{_shown(weight)}] must be a file name, not {describe_value(name)}"
            )
        names.add(name)
    root = folder_root(folder)
    files = []
    for name in sorted(names):
        shard = (folder / name).resolve()
        if root not in shard.parents:
            raise CheckpointError(f"{index} names a shard outside the folder: {name[:100]}")
        if not shard.is_file():
            raise CheckpointError(f"{index} names the shard {name[:100]}, which is not in {folder}")
        files.append(shard)
    return files


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of one safetensors file; floating tensors as float32. Only the byte ranges the header describes
    are read, one tensor at a time: bytes after them (or between them) are never loaded."""
    tensors: dict[str, np.ndarray] = {}
    try:
        with path.open("rb") as file:
            header_bytes, data_start = _read_header(path, file)
            data_size = os.fstat(file.fileno()).st_size - data_start
            for spec in parse_header(header_bytes, data_size, where=str(path)):
                file.seek(data_start + spec.begin)
                raw = file.read(spec.end - spec.begin)
                if len(raw) < spec.end - spec.begin:
                    raise CheckpointError(f"{path} became shorter while it was read")
                tensors[spec.name] = _array(raw, spec)
    except OSError as exc:
        raise read_failure(path, exc, CheckpointError, "safetensors file") from exc
    return tensors


def _array(raw: bytes, spec: TensorSpec) -> np.ndarray:
    """The tensor `spec` from its bytes `raw`: float32 for floating dtypes."""
    if spec.dtype == "BF16":
        array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    elif spec.dtype in _FLOAT_DTYPES:
        array = np.frombuffer(raw, dtype=_FLOAT_DTYPES[spec.dtype]).astype(np.float32)
    else:
        array = np.frombuffer(raw, dtype=_INT_DTYPES[spec.dtype]).copy()
    return array.reshape(spec.shape)


def _read_header(path: Path, file: BinaryIO) -> tuple[bytes, int]:
    """(header JSON bytes, offset of the data section) of the open safetensors file, after checking its length
    prefix."""
    prefix = file.read(8)
    if len(prefix) < 8:
        raise CheckpointError(f"{path} is not a safetensors file: it is only {len(prefix)} bytes long")
    (header_size,) = struct.unpack("<Q", prefix)
    if not 2 <= header_size <= _MAX_HEADER:
        raise CheckpointError(f"{path} is not a readable safetensors file: implausible header size {header_size}")
    header = file.read(header_size)
    if len(header) < header_size:
        raise CheckpointError(
            f"{path} is not a readable safetensors file: its header length {header_size} is larger than the "
            "file (truncated download?)"
        )
    return header, 8 + header_size


def parse_header(header: bytes, data_size: int, *, where: str = "safetensors file") -> list[TensorSpec]:
    """The tensor entries of a safetensors header (JSON bytes) for a data section of `data_size` bytes.

    Raises CheckpointError unless the header is a JSON object whose every entry has a supported dtype, a shape of
    whole non-negative numbers and byte offsets inside the data section that match that shape and overlap no other.
    """
    try:
        parsed = json.loads(header.decode("utf-8"))
    except RecursionError as exc:
        raise CheckpointError(f"{where} is not a readable safetensors file: its header is nested too deeply") from exc
    except ValueError as exc:  # not UTF-8, not JSON, or a number too long to convert
        raise CheckpointError(f"{where} is not a readable safetensors file: its header is not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise CheckpointError(
            f"{where} is not a readable safetensors file: its header is {describe_value(parsed)}, not an object"
        )
    specs = [_spec(name, entry, data_size, where) for name, entry in parsed.items() if name != "__metadata__"]
    ordered = sorted((s for s in specs if s.end > s.begin), key=lambda s: s.begin)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.begin < before.end:
            raise CheckpointError(
                f"{where}: tensors {_shown(before.name)} and {_shown(after.name)} overlap in the file (bytes "
                f"{before.begin}-{before.end} and {after.begin}-{after.end})"
            )
    return specs


def _spec(name: str, entry: object, data_size: int, where: str) -> TensorSpec:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{where}: bad header entry for {_shown(name)}: {what}")

    if not isinstance(entry, dict):
        raise bad(f"it is {describe_value(entry)}, not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str):
        raise bad(f"dtype is {describe_value(dtype)}")
    if dtype not in _ITEM_SIZES:
        raise CheckpointError(f"{where}: tensor {_shown(name)} has unsupported dtype {_shown(dtype)}")
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise bad(f"shape must be a list of whole numbers of 0 or more, not {_describe_list(shape)}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(n) for n in offsets):
        raise bad(f"data_offsets must be two whole numbers of 0 or more, not {_describe_list(offsets)}")
    begin, end = offsets
    if not begin <= end <= data_size:
        raise CheckpointError(
            f"{where}: tensor {_shown(name)} lies outside the file (bytes {begin}-{end} of {data_size}; truncated "
            "download?)"
        )
    needed = _byte_count(shape, _ITEM_SIZES[dtype], data_size)
    if end - begin != needed:
        raise CheckpointError(
            f"{where}: tensor {_shown(name)} has {end - begin} bytes; shape {_describe_list(shape)} of {dtype} needs "
            + (f"{needed}" if needed <= data_size else f"more than the file's {data_size}")
        )
    return TensorSpec(name, dtype, tuple(shape), begin, end)


def _byte_count(shape: list[int], item_size: int, limit: int) -> int:
    """Bytes a tensor of `shape` takes, or limit + 1 once it exceeds `limit` (a hostile shape's product of
    thousands of huge numbers is never computed)."""
    if 0 in shape:
        return 0
    count = item_size
    for size in shape:
        count *= size
        if count > limit:
            return limit + 1
    return count


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _describe_list(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(describe_value(v) for v in value[:4]) + (", …]" if len(value) > 4 else "]")
    return describe_value(value)


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:80] + "…")


def read_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """Every tensor of a checkpoint folder, merged across shards."""
    tensors: dict[str, np.ndarray] = {}
    for file in checkpoint_files(folder):
        tensors.update(read_safetensors(file))
    return tensors
