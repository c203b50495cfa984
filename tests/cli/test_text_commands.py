"""The command line as a user scripts it: JSON out, one-line errors with exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.similarity.cosine import cosine_matrix
from tests.cli.cli_child import run_cli as bertdesk


def ok_json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_models_lists_installed_bundles(tiny_bundle: Path, tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_bundle, tmp_path / "tiny")
    shutil.copytree(tiny_classifier_bundle, tmp_path / "clf")
    data = ok_json(bertdesk("models", "--json", models=tmp_path))
    by_name = {m["name"]: m for m in data["models"]}
    assert set(by_name) == {"tiny", "clf"}
    assert by_name["clf"]["task"] == "sequence-classification"
    assert by_name["clf"]["labels"] == ["LABEL_A", "LABEL_B", "LABEL_C"]
    assert by_name["tiny"]["has_internals"] is True
    for field in ("num_layers", "num_heads", "hidden_size", "vocab_size", "max_positions", "size_bytes", "path"):
        assert by_name["tiny"][field]
    human = bertdesk("models", models=tmp_path)
    assert "tiny — encoder, 2 layers, 4 heads, 32 wide" in human.stdout


def test_tokenize_pair_json(default_bundle_dir: Path) -> None:
    data = ok_json(bertdesk("tokenize", "Where is Paris?", "--pair", "Paris is in France.", "--json",
                            "--model", str(default_bundle_dir)))
    pieces = [t["piece"] for t in data["tokens"]]
    assert pieces[0] == "[CLS]" and pieces.count("[SEP]") == 2
    first_sep = pieces.index("[SEP]")
    assert data["type_ids"] == [0] * (first_sep + 1) + [1] * (len(pieces) - first_sep - 1)
    assert data["truncated"] is False and data["attention_mask"] == [1] * len(pieces)


def test_tokenize_reads_stdin_and_reports_truncation(default_bundle_dir: Path) -> None:
    data = ok_json(bertdesk("tokenize", "-", "--json", "--model", str(default_bundle_dir), stdin="word " * 600))
    assert data["truncated"] is True and len(data["input_ids"]) == 512


def test_embed_and_similarity_agree(default_bundle_dir: Path) -> None:
    sentences = ["A cat sat on the mat.", "A dog sat on the rug.", "Stock markets fell sharply."]
    embedded = ok_json(bertdesk("embed", *sentences, "--json", "--model", str(default_bundle_dir)))
    vectors = np.array(embedded["vectors"])
    assert vectors.shape == (3, 384) and embedded["pooling"] == "mean"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    similarity = ok_json(bertdesk("similarity", "--sentences", *sentences, "--json", "--model",
                                  str(default_bundle_dir)))
    matrix = np.array(similarity["matrix"])
    assert np.allclose(matrix, cosine_matrix(vectors), atol=1e-5)
    assert matrix[0, 1] > matrix[0, 2] + 0.2, "the two animal sentences must be closer than the finance one"


def test_token_similarity_per_layer(default_bundle_dir: Path) -> None:
    data = ok_json(bertdesk("similarity", "--tokens", "the bank of the river", "--layer", "0", "--json",
                            "--model", str(default_bundle_dir)))
    assert data["labels"] == ["[CLS]", "the", "bank", "of", "the", "river", "[SEP]"]
    matrix = np.array(data["matrix"])
    assert data["layer"] == 0 and np.allclose(np.diag(matrix), 1, atol=1e-5)
    # At layer 0 a vector is word + position + segment embedding: the two "the" differ only by position.
    assert 0.5 < matrix[1, 4] < 1 - 1e-4


def test_cls_pooling_is_the_first_token(default_bundle_dir: Path) -> None:
    from bertdesk.core.engine.embed import embed_texts, token_vectors

    bundle = Bundle(default_bundle_dir)
    cls = embed_texts(bundle, ["hello world"], pooling="cls", normalize=False)[0]
    assert np.allclose(cls, token_vectors(bundle, "hello world")[1][0], atol=1e-6)


def test_convert_command(tmp_path: Path) -> None:
    from tests.checkpoints import make_checkpoint

    checkpoint = make_checkpoint(tmp_path / "ckpt", "distilbert", "qa")
    data = ok_json(bertdesk("convert", str(checkpoint), str(tmp_path / "out"), "--attentions", "--json"))
    assert data["task"] == "question-answering" and data["model_type"] == "distilbert" and data["has_internals"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tokenize", "x", "--model", "no-such-model"], "no model folder or installed bundle named 'no-such-model'"),
        (["embed", "x", "--layer", "9"], "layer 9 does not exist"),
        (["similarity", "--sentences", "only one"], "at least two sentences"),
        (["convert", "/nonexistent/ckpt", "/tmp/out"], "/nonexistent/ckpt is not a folder"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args: list[str], message: str, tiny_bundle: Path,
                                              tmp_path: Path) -> None:
    shutil.copytree(tiny_bundle, tmp_path / "tiny")
    if "--model" not in args and args[0] != "convert":
        args = [*args, "--model", "tiny"]
    result = bertdesk(*args, models=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
