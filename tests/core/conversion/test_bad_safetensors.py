"""Malformed safetensors files and shard indexes: one clear CheckpointError each, never a traceback.

Each case is a real file on disk read by the real reader; hypothesis then writes headers of generated JSON.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bertdesk.core.conversion.checkpoint import parse_header, read_checkpoint, read_safetensors
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import CheckpointError
from tests.checkpoints import make_checkpoint

GOOD = {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}


def _write(path: Path, header: object, data: bytes = bytes(24), *, header_bytes: bytes | None = None) -> Path:
    encoded = json.dumps(header).encode() if header_bytes is None else header_bytes
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return path


def _error(path: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        read_safetensors(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_a_good_file_reads(tmp_path: Path) -> None:
    data = np.arange(6, dtype="<f4").tobytes()
    assert read_safetensors(_write(tmp_path / "m.safetensors", GOOD, data))["w"].tolist() == [[0, 1, 2], [3, 4, 5]]


def _entry(**changes: object) -> dict:
    return {"w": {**GOOD["w"], **changes}}


@pytest.mark.parametrize(
    ("header", "data", "expected"),
    [
        ([1, 2], bytes(24), "its header is a list, not an object"),
        ("weights", bytes(24), "its header is 'weights' (text), not an object"),
        (55, bytes(24), "its header is 55, not an object"),
        ({"w": [1]}, bytes(24), "bad header entry for 'w': it is a list, not an object"),
        (_entry(shape="2x3"), bytes(24), "shape must be a list of whole numbers of 0 or more, not '2x3' (text)"),
        (_entry(shape=[2, -3]), bytes(24), "shape must be a list of whole numbers of 0 or more, not [2, -3]"),
        (_entry(shape=[2.0, 3]), bytes(24), "shape must be a list of whole numbers of 0 or more, not [2.0, 3]"),
        (_entry(shape=[True, 3]), bytes(24), "not [true, 3]"),
        (_entry(shape=[10**30, 10**30]), bytes(24), "needs more than the file's 24"),
        (_entry(data_offsets=["0", "24"]), bytes(24), "data_offsets must be two whole numbers"),
        (_entry(data_offsets=[0]), bytes(24), "data_offsets must be two whole numbers of 0 or more, not [0]"),
        (_entry(data_offsets=[-8, 16]), bytes(24), "data_offsets must be two whole numbers"),
        (_entry(data_offsets=[0, 48]), bytes(24), "lies outside the file (bytes 0-48 of 24"),
        (_entry(data_offsets=[0, 10**40]), bytes(24), "lies outside the file"),
        (_entry(data_offsets=[16, 8]), bytes(24), "lies outside the file"),
        (_entry(dtype=7), bytes(24), "dtype is 7"),
        (_entry(dtype="C64"), bytes(24), "unsupported dtype 'C64'"),
        (_entry(dtype="F16", shape=[3], data_offsets=[0, 5]), bytes(24), "has 5 bytes; shape [3] of F16 needs 6"),
        (_entry(dtype="BF16", shape=[3], data_offsets=[0, 7]), bytes(24), "has 7 bytes; shape [3] of BF16 needs 6"),
        (_entry(shape=[2, 2]), bytes(24), "has 24 bytes; shape [2, 2] of F32 needs 16"),
        (
            {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
             "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
            bytes(24),
            "tensors 'a' and 'b' overlap in the file (bytes 0-16 and 8-24)",
        ),
    ],
)
def test_malformed_header(tmp_path: Path, header: object, data: bytes, expected: str) -> None:
    assert expected in _error(_write(tmp_path / "m.safetensors", header, data))


def test_header_nested_50000_deep(tmp_path: Path) -> None:
    nested = b'{"w": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    path = _write(tmp_path / "m.safetensors", None, header_bytes=nested)
    assert "its header is nested too deeply" in _error(path)


def test_header_not_utf8_or_not_json(tmp_path: Path) -> None:
    assert "its header is not JSON" in _error(_write(tmp_path / "a", None, header_bytes=b'{"\xff": 1}'))
    assert "its header is not JSON" in _error(_write(tmp_path / "b", None, header_bytes=b"{nope"))


def test_header_length_larger_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", 5000) + b'{"w": {}}')
    assert "its header length 5000 is larger than the file" in _error(path)


@pytest.mark.parametrize("content", [b"", b"\x01\x02"])
def test_shorter_than_the_length_prefix(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(content)
    assert f"it is only {len(content)} bytes long" in _error(path)


def test_a_folder_named_like_the_file(tmp_path: Path) -> None:
    (tmp_path / "m.safetensors").mkdir()
    assert "is a folder, not a safetensors file" in _error(tmp_path / "m.safetensors")


# --- sharded checkpoints: model.safetensors.index.json ----------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "bert", "bert", "encoder")


def _sharded(checkpoint: Path, tmp_path: Path, index: object) -> Path:
    source = Path(shutil.copytree(checkpoint, tmp_path / "src"))
    (source / "model.safetensors").rename(source / "shard-1.safetensors")
    (source / "model.safetensors.index.json").write_text(json.dumps(index))
    return source


def _index_error(source: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(source)
    return str(info.value)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ({"weight_map": ["shard-1.safetensors"]}, "needs a weight_map object naming each weight's file (found a list)"),
        ({"weight_map": {"w": 1}}, "weight_map['w'] must be a file name, not 1"),
        ({"weight_map": {"w": None}}, "weight_map['w'] must be a file name, not null"),
        ({"weight_map": {"w": "a\u0000b"}}, "must be a file name"),
        ({"weight_map": {}}, "found an object"),
        ({"metadata": {}}, "found no weight_map"),
        ([1], "found no weight_map"),
        ({"weight_map": {"w": "missing.safetensors"}}, "names the shard missing.safetensors, which is not in"),
        ({"weight_map": {"w": "."}}, "names a shard outside the folder: ."),
        ({"weight_map": {"w": "../x.safetensors"}}, "names a shard outside the folder"),
    ],
)
def test_malformed_index(checkpoint: Path, tmp_path: Path, index: object, expected: str) -> None:
    message = _index_error(_sharded(checkpoint, tmp_path, index))
    assert "model.safetensors.index.json" in message and expected in message


def test_index_nested_too_deeply(checkpoint: Path, tmp_path: Path) -> None:
    source = _sharded(checkpoint, tmp_path, {})
    (source / "model.safetensors.index.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in _index_error(source)


def test_good_index_still_reads(checkpoint: Path, tmp_path: Path) -> None:
    tensors = read_safetensors(checkpoint / "model.safetensors")
    source = _sharded(checkpoint, tmp_path, {"weight_map": dict.fromkeys(tensors, "shard-1.safetensors")})
    assert read_checkpoint(source).keys() == tensors.keys()


def test_converter_reports_a_bad_header_in_one_line(checkpoint: Path, tmp_path: Path) -> None:
    source = Path(shutil.copytree(checkpoint, tmp_path / "src"))
    _write(source / "model.safetensors", _entry(dtype="F16", shape=[3], data_offsets=[0, 5]))
    with pytest.raises(CheckpointError, match="has 5 bytes; shape \\[3\\] of F16 needs 6"):
        convert_checkpoint(source, tmp_path / "out")


# --- generated headers ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
              st.sampled_from(["F32", "F16", "BF16", "I64", "I32", "F64", "U8"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10,
)
counts = st.one_of(st.integers(0, 40), st.integers(-(2**64), 2**64), json_values)
entries = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.one_of(st.sampled_from(["F32", "F16", "BF16", "I64", "I32", "F64", "BOOL"]), json_values),
        "shape": st.one_of(st.lists(counts, max_size=3), json_values),
        "data_offsets": st.one_of(st.lists(counts, min_size=2, max_size=2), json_values),
    },
)
headers = st.one_of(st.dictionaries(st.text(max_size=6), st.one_of(entries, json_values), max_size=4), json_values)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(header=headers, data_size=st.integers(0, 48))
def test_generated_headers_raise_only_checkpoint_errors(header: object, data_size: int) -> None:
    encoded = json.dumps(header).encode()
    try:
        specs = parse_header(encoded, data_size)
    except CheckpointError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for spec in specs:
        assert 0 <= spec.begin <= spec.end <= data_size


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(header=headers, data=st.binary(max_size=48))
def test_generated_files_read_or_refuse(tmp_path_factory: pytest.TempPathFactory, header: object, data: bytes) -> None:
    path = _write(tmp_path_factory.mktemp("st") / "m.safetensors", header, data)
    try:
        tensors = read_safetensors(path)
    except CheckpointError:
        return
    assert all(isinstance(array, np.ndarray) for array in tensors.values())
