"""config.json (and bertdesk.json) values of every wrong type and range: one clear BundleError / CheckpointError.

The parser is checked field by field with the values the issue found, then with hypothesis: generated JSON values
of every type in every field, through the parser, the file reader, the bundle loader and the converter.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bertdesk.core.bundles.bundle import inspect_bundle
from bertdesk.core.bundles.config import ModelConfig, parse_config, read_config, read_pooling
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import BertdeskError, BundleError, CheckpointError
from tests.checkpoints import make_checkpoint

BERT = {
    "model_type": "bert",
    "architectures": ["BertForSequenceClassification"],
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "hidden_size": 32,
    "intermediate_size": 64,
    "vocab_size": 100,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
    "problem_type": "single_label_classification",
}
DISTILBERT = {
    "model_type": "distilbert",
    "architectures": ["DistilBertModel"],
    "n_layers": 2,
    "n_heads": 4,
    "dim": 32,
    "hidden_dim": 64,
    "vocab_size": 100,
    "max_position_embeddings": 64,
    "activation": "gelu",
}
FIELDS = sorted({*BERT, *DISTILBERT, "position_embedding_type", "label2id"})
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
        st.sampled_from([0, 1, -1, 2, 6, 64, 1e20, 1e6, 0.5, "6", "gelu", "bert", "BertModel", [5], {}, [], ""]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
tolerant = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _error(changes: dict, base: dict = BERT) -> str:
    raw = {**base, **changes}
    with pytest.raises(CheckpointError) as info:
        parse_config(raw, error=CheckpointError, where="cfg")
    return str(info.value)


def test_the_base_configs_parse() -> None:
    assert parse_config(BERT).labels == ["NEGATIVE", "POSITIVE"]
    assert parse_config(DISTILBERT).num_layers == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"architectures": [5]}, "architectures must list class names, not 5"),
        ({"architectures": 5}, "architectures must be a list of class names, not 5"),
        ({"architectures": {}}, "architectures must be a list of class names, not an object"),
        ({"architectures": "BertModel"}, "architectures must be a list of class names, not 'BertModel' (text)"),
        ({"id2label": ["NEGATIVE", "POSITIVE"]}, "id2label must be an object mapping ids to label names, not a list"),
        ({"id2label": {"zero": "NEGATIVE"}}, "id2label key 'zero' (text) is not a label id"),
        ({"id2label": {"0": "NEGATIVE", "2": "POSITIVE"}}, "id2label must number its labels 0 to 1"),
        ({"id2label": {"0": 1}}, "id2label[0] must be a label name, not 1"),
        ({"num_hidden_layers": float("inf")}, "num_hidden_layers must be a whole number, not Infinity"),
        ({"num_hidden_layers": float("nan")}, "num_hidden_layers must be a whole number, not nan"),
        ({"num_hidden_layers": 1e20}, "num_hidden_layers must be a whole number, not 1e+20"),
        ({"num_hidden_layers": 10**20}, "num_hidden_layers is 100000000000000000000; it must lie between 1 and"),
        ({"num_hidden_layers": -1}, "num_hidden_layers is -1; it must lie between 1 and"),
        ({"num_hidden_layers": 0}, "num_hidden_layers is 0; it must lie between 1 and"),
        ({"num_hidden_layers": "6"}, "num_hidden_layers must be a whole number, not '6' (text)"),
        ({"num_hidden_layers": True}, "num_hidden_layers must be a whole number, not true"),
        ({"num_hidden_layers": None}, "num_hidden_layers must be a whole number, not null"),
        ({"num_attention_heads": 0}, "num_attention_heads is 0"),
        ({"hidden_size": [32]}, "hidden_size must be a whole number, not a list"),
        ({"intermediate_size": 64.0}, "intermediate_size must be a whole number, not 64.0"),
        ({"vocab_size": False}, "vocab_size must be a whole number, not false"),
        ({"max_position_embeddings": -5}, "max_position_embeddings is -5"),
        ({"max_position_embeddings": 1e20}, "max_position_embeddings must be a whole number, not 1e+20"),
        ({"type_vocab_size": "2"}, "type_vocab_size must be a whole number"),
        ({"layer_norm_eps": "1e-12"}, "layer_norm_eps must be a small positive number, not '1e-12' (text)"),
        ({"layer_norm_eps": float("nan")}, "layer_norm_eps must be a small positive number, not nan"),
        ({"layer_norm_eps": True}, "layer_norm_eps must be a small positive number, not true"),
        ({"hidden_act": 5}, "hidden_act must be a name, not 5"),
        ({"problem_type": ["x"]}, "problem_type must be a name or null, not a list"),
        ({"model_type": ["bert"]}, "unknown architecture model_type=a list"),
        ({"model_type": "x" * 500}, "unknown architecture model_type='xxxx"),
        ({"position_embedding_type": {}}, "position_embedding_type an object is not supported"),
    ],
)
def test_wrong_type_or_range_is_one_clear_error(changes: dict, expected: str) -> None:
    message = _error(changes)
    assert message.startswith("cfg: ") and expected in message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({"n_layers": "2"}, "n_layers must be a whole number"), ({"dim": 1e20}, "dim must be a whole number"),
     ({"activation": None}, "activation must be a name, not null")],
)
def test_distilbert_fields_are_checked_too(changes: dict, expected: str) -> None:
    assert expected in _error(changes, DISTILBERT)


def test_not_an_object() -> None:
    with pytest.raises(BundleError, match=r"cfg does not hold a JSON object \(it holds a list\)"):
        parse_config([1, 2], error=BundleError, where="cfg")  # type: ignore[arg-type]


def _config_file(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(text)
    return folder / "config.json"


def test_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = _config_file(tmp_path, '{"model_type": "bert", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CheckpointError, match="is not usable JSON: it is nested too deeply"):
        read_config(path, CheckpointError)


def test_a_number_longer_than_python_converts_is_a_clear_error(tmp_path: Path) -> None:
    path = _config_file(tmp_path, '{"num_hidden_layers": ' + "9" * 5000 + "}")
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        read_config(path, CheckpointError)


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    path = _config_file(tmp_path, "")
    path.write_bytes(b'{"model_type": "b\xe9rt"}')
    with pytest.raises(BundleError, match="is not valid JSON: it is not UTF-8 text"):
        read_config(path, BundleError)


def test_config_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    with pytest.raises(BundleError, match="config.json is a folder, not a file"):
        read_config(tmp_path / "config.json", BundleError)


def test_a_file_given_as_the_checkpoint_folder(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(CheckpointError) as info:
        convert_checkpoint(tmp_path / "weights.bin", tmp_path / "out")
    assert str(info.value) == f"{tmp_path / 'weights.bin'} is a file, not a checkpoint folder"


def test_permission_denied_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable config.json is "permission denied", not "not valid JSON". Root reads any file, so the refusal
    comes from the file system where it can, from a patched read otherwise."""
    import os

    path = _config_file(tmp_path, json.dumps(BERT))
    path.chmod(0)
    if os.geteuid() == 0:
        real_open = os.open

        def refusing_open(name: object, *args: object, **kwargs: object) -> int:
            if Path(str(name)) == path:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(BundleError) as info:
        read_config(path, BundleError)
    assert str(info.value) == f"cannot read {path}: permission denied"


@tolerant
@given(
    base=st.sampled_from([BERT, DISTILBERT]),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=4),
    removed=st.sets(st.sampled_from(FIELDS), max_size=2),
)
def test_generated_values_in_every_field_raise_only_bertdesk_errors(base: dict, changes: dict, removed: set) -> None:
    raw = {k: v for k, v in {**base, **changes}.items() if k not in removed}
    try:
        config = parse_config(raw, error=BundleError)
    except BundleError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(config, ModelConfig)
    numbers = (config.num_layers, config.num_heads, config.hidden_size, config.vocab_size, config.max_positions)
    assert all(type(n) is int and n > 0 for n in numbers)
    assert config.hidden_size % config.num_heads == 0


@tolerant
@given(document=json_values)
def test_any_json_document_as_config_file(tmp_path_factory: pytest.TempPathFactory, document: object) -> None:
    folder = tmp_path_factory.mktemp("cfg")
    (folder / "config.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError):
        read_config(folder / "config.json", CheckpointError)


@pytest.fixture(scope="module")
def bundle_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cfg-bundle")
    checkpoint = make_checkpoint(root / "checkpoint", "bert", "classification")
    return convert_checkpoint(checkpoint, root / "bundle")


@settings(tolerant, max_examples=max(5, settings.default.max_examples // 2))  # each example converts a model
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_generated_configs_through_the_loader_and_converter(
    bundle_template: Path, tmp_path_factory: pytest.TempPathFactory, field: str, value: object
) -> None:
    """The bundle loader and the converter on a real tiny model whose config has one generated value."""
    folder = Path(shutil.copytree(bundle_template, tmp_path_factory.mktemp("b") / "bundle"))
    config = json.loads((folder / "config.json").read_text())
    config[field] = value
    (folder / "config.json").write_text(json.dumps(config))
    with contextlib.suppress(BundleError):
        inspect_bundle(folder)
    checkpoint = bundle_template.parent / "checkpoint"
    source = Path(shutil.copytree(checkpoint, folder.parent / "src"))
    (source / "config.json").write_text(json.dumps(config))
    with contextlib.suppress(BertdeskError):
        convert_checkpoint(source, folder.parent / "out")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"pooling": "mean", "normalize": "false"}, "normalize must be true or false, not 'false' (text)"),
        ({"pooling": "mean", "normalize": 1}, "normalize must be true or false, not 1"),
        ({"pooling": "max"}, "pooling must be mean or cls, not 'max' (text)"),
        ({"pooling": ["cls"]}, "pooling must be mean or cls, not a list"),
        ([{"pooling": "cls"}], "does not hold a JSON object (it holds a list)"),
    ],
)
def test_bundle_pooling_settings_are_strict(bundle_template: Path, tmp_path: Path, metadata: object, expected: str):
    folder = Path(shutil.copytree(bundle_template, tmp_path / "bundle"))
    (folder / "bertdesk.json").write_text(json.dumps(metadata))
    with pytest.raises(BundleError) as info:
        inspect_bundle(folder)
    assert expected in str(info.value)


def test_bundle_pooling_settings_read_as_written(bundle_template: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(bundle_template, tmp_path / "bundle"))
    (folder / "bertdesk.json").write_text(json.dumps({"pooling": "cls", "normalize": False}))
    info = inspect_bundle(folder)[0]
    assert (info.pooling, info.normalize) == ("cls", False)


# --- sentence-transformers pooling settings (for the converter) --------------------------------------------------


def _pooling_folder(tmp_path: Path, pooling: object = None, modules: object = None) -> Path:
    if pooling is not None:
        (tmp_path / "1_Pooling").mkdir()
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    if modules is not None:
        (tmp_path / "modules.json").write_text(json.dumps(modules))
    return tmp_path


MEAN = {"pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}
NORMALIZED = [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Normalize"}]


def test_pooling_settings_of_a_sentence_transformers_folder(tmp_path: Path) -> None:
    assert read_pooling(tmp_path) == {"pooling": "mean", "normalize": False, "pooling_source": "default"}
    folder = _pooling_folder(tmp_path, {**MEAN, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False},
                             NORMALIZED)
    assert read_pooling(folder) == {"pooling": "cls", "normalize": True, "pooling_source": "sentence-transformers"}


@pytest.mark.parametrize(
    ("pooling", "modules", "expected"),
    [
        (["cls"], None, "does not hold a JSON object (it holds a list)"),
        ({**MEAN, "pooling_mode_cls_token": "false"}, None, "'pooling_mode_cls_token' must be true or false, not "
                                                            "'false' (text)"),
        ({**MEAN, "pooling_mode_max_tokens": True}, None, "pooling mean_tokens + max_tokens is not supported"),
        ({**MEAN, "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}, None, "pooling max_tokens"),
        (MEAN, {"type": "Normalize"}, "modules.json must be a list of module objects"),
        (MEAN, [{"type": 5}], "modules.json must be a list of module objects"),
        (MEAN, ["Normalize"], "modules.json must be a list of module objects"),
    ],
)
def test_bad_pooling_settings(tmp_path: Path, pooling: object, modules: object, expected: str) -> None:
    with pytest.raises(CheckpointError) as info:
        read_pooling(_pooling_folder(tmp_path, pooling, modules))
    assert expected in str(info.value)


def test_pooling_config_nested_too_deeply(tmp_path: Path) -> None:
    folder = _pooling_folder(tmp_path, {})
    (folder / "1_Pooling" / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        read_pooling(folder)
