"""A model's `config.json`, read into the numbers bertdesk needs for BERT and DistilBERT alike.

Every field is checked for its type and range, so a hand-edited or hostile config gets one clear sentence: JSON
`true` is not a number, `"6"` is not a layer count, and `1e20` positions are not a model.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bertdesk.core.errors import BertdeskError, BundleError, CheckpointError

SUPPORTED_MODEL_TYPES = ("bert", "distilbert")
TASK_ENCODER = "encoder"
TASK_QA = "question-answering"
TASK_CLASSIFICATION = "sequence-classification"

_TASK_BY_ARCHITECTURE_SUFFIX = {
    "Model": TASK_ENCODER,
    "ForQuestionAnswering": TASK_QA,
    "ForSequenceClassification": TASK_CLASSIFICATION,
}
# Inclusive bounds of the whole-number fields: far beyond any real BERT, small enough to never overflow.
_LIMITS = {
    "layers": (1, 1024),
    "heads": (1, 4096),
    "width": (1, 1 << 20),
    "vocab": (1, (1 << 31) - 1),
    "positions": (1, 1 << 24),
    "segments": (1, 1024),
}
_FOLDER_NOUNS = {CheckpointError: "checkpoint folder", BundleError: "model bundle folder"}


@dataclass(frozen=True)
class ModelConfig:
    """The architecture numbers of a BERT-family encoder, whatever the config's own field names."""

    model_type: str
    architecture: str
    task: str
    num_layers: int
    num_heads: int
    hidden_size: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    hidden_act: str
    layer_norm_eps: float
    labels: list[str] = field(default_factory=list)
    problem_type: str | None = None

    @property
    def head_size(self) -> int:
        """Width of one attention head."""
        return self.hidden_size // self.num_heads

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)


def describe_value(value: object) -> str:
    """A short description of a JSON value for an error message: `"6" (text)`, `true`, `a list`, `Infinity`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"{shown!r} (text)"
    if isinstance(value, float):
        return "Infinity" if value == math.inf else "-Infinity" if value == -math.inf else repr(value)
    if isinstance(value, int):
        digits = str(value) if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
        return digits
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _name(value: object) -> str:
    """A name from a config as Python shows it ('gpt2'), or what the value is when it is no short name."""
    return repr(value) if isinstance(value, str) and len(value) <= 60 else describe_value(value)


#: Largest JSON file bertdesk reads from a model folder (config.json, bertdesk.json, a safetensors index, the
#: pooling files): a config with 20,000 labels is about 1 MB.
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Largest tokenizer file (tokenizer.json, vocab.txt): multilingual ones reach 10-20 MB (xlm-roberta's is 9 MB,
#: mT5's 16 MB).
MAX_TOKENIZER_BYTES = 64 * 1024 * 1024


def folder_root(folder: Path) -> Path:
    """The folder whose files the files of `folder` may link to: `folder` itself, or for a Hugging Face cache
    snapshot (`models--org--name/snapshots/<commit>`, its files links into `../../blobs`) the repository's folder."""
    folder = Path(os.path.realpath(folder))
    repo = folder.parent.parent
    if folder.parent.name == "snapshots" and (repo / "blobs").is_dir():
        return repo
    return folder


def check_inside(path: Path, folder: Path, error: type[BertdeskError] = BertdeskError) -> Path:
    """Where `path` leads once its links are followed; `error` when that is outside `folder` (see `folder_root`):
    a model folder's `vocab.txt` linked to a file elsewhere is not read, nor copied into a bundle."""
    real = Path(os.path.realpath(path))
    root = folder_root(folder)
    if real != root and root not in real.parents:
        raise error(f"{path} is a link to {str(real)[:200]}, outside {folder}: bertdesk does not follow links out "
                    "of a model folder")
    return real


def read_failure(path: Path, exc: OSError, error: type[BertdeskError] = BertdeskError,
                 kind: str = "file") -> BertdeskError:
    """`error` saying in one sentence why the `kind` of file at `path` of a model folder could not be opened or
    read (`exc`)."""
    if isinstance(exc, FileNotFoundError):
        return error(f"{path.parent} has no {path.name}")
    if isinstance(exc, PermissionError):
        return error(f"cannot read {path}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return error(f"{path} is a folder, not a {kind}")
    return error(f"cannot read {path}: {exc.strerror or exc}")


def read_small_file(path: Path, folder: Path, limit: int, error: type[BertdeskError] = BertdeskError) -> bytes:
    """The bytes of the file at `path` in the untrusted `folder`: a regular file inside it (see `check_inside`) of
    at most `limit` bytes; `error` in one sentence otherwise. A pipe or device is refused unread (opening one
    for reading waits for a writer; /dev/zero never ends)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise read_failure(path, exc, error) from exc
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{path} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise error(f"{path} is not a regular file (a pipe or a device?): bertdesk reads only files")
        check_inside(path, folder, error)
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise read_failure(path, exc, error) from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{path} is larger than {limit // (1024 * 1024)} MB, more than any real {path.name}")
    return data


def read_json(path: Path, error: type[BertdeskError] = BertdeskError, folder: Path | None = None) -> object:
    """The JSON value in the file at `path` (a small file of the model folder `folder`, by default the file's own);
    raise `error` saying what is wrong: missing, unreadable, no regular file, too large, not JSON."""
    data = read_small_file(path, path.parent if folder is None else folder, MAX_JSON_BYTES, error)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not valid JSON: it is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise error(f"{path} is not usable JSON: it is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, and numbers with more digits than Python converts
        raise error(f"{path} is not valid JSON: {exc}") from exc


def read_config(path: Path, error: type[BertdeskError] = BertdeskError) -> ModelConfig:
    """Parse `config.json` at `path`; raise `error` with a clear sentence when it is missing or unusable."""
    if path.parent.is_file():
        raise error(f"{path.parent} is a file, not a {_FOLDER_NOUNS.get(error, 'model folder')}")
    if not path.parent.is_dir():
        raise error(f"{path.parent} is not a folder")
    return parse_config(read_json(path, error), error=error, where=str(path))


def parse_config(raw: dict, *, error: type[BertdeskError] = BertdeskError, where: str = "config.json") -> ModelConfig:
    """Turn a Hugging Face config dict into a `ModelConfig`; any field of the wrong type or range raises `error`."""
    if not isinstance(raw, dict):
        raise error(f"{where} does not hold a JSON object (it holds {describe_value(raw)})")
    model_type = raw.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        supported = ", ".join(SUPPORTED_MODEL_TYPES)
        raise error(f"{where}: unknown architecture model_type={_name(model_type)}; bertdesk supports {supported}")
    architecture = _architecture(raw, model_type, error, where)
    prefix = "Bert" if model_type == "bert" else "DistilBert"
    suffix = architecture[len(prefix):] if architecture.startswith(prefix) else None
    task = _TASK_BY_ARCHITECTURE_SUFFIX.get(suffix or "")
    if task is None:
        raise error(f"{where}: unknown architecture {_name(architecture)} for model_type {model_type!r}")

    def whole(*names: str, limits: str, default: int | None = None) -> int:
        name, value = _field(raw, names, default, error, where)
        low, high = _LIMITS[limits]
        if isinstance(value, bool) or not isinstance(value, int):
            raise error(f"{where}: {name} must be a whole number, not {describe_value(value)}")
        if not low <= value <= high:
            raise error(f"{where}: {name} is {describe_value(value)}; it must lie between {low} and {high}")
        return value

    def text(*names: str, default: str) -> str:
        name, value = _field(raw, names, default, error, where)
        if not isinstance(value, str) or not value:
            raise error(f"{where}: {name} must be a name, not {describe_value(value)}")
        return value

    if model_type == "bert":
        position_type = raw.get("position_embedding_type")
        if position_type not in (None, "absolute"):
            raise error(f"{where}: position_embedding_type {_name(position_type)} is not supported")
        names = {"layers": ("num_hidden_layers",), "heads": ("num_attention_heads",), "width": ("hidden_size",),
                 "inner": ("intermediate_size",), "act": ("hidden_act",)}
        type_vocab_size = whole("type_vocab_size", limits="segments", default=2)
        layer_norm_eps = _epsilon(raw, error, where)
    else:
        names = {"layers": ("n_layers", "num_hidden_layers"), "heads": ("n_heads", "num_attention_heads"),
                 "width": ("dim", "hidden_size"), "inner": ("hidden_dim", "intermediate_size"),
                 "act": ("activation", "hidden_act")}
        type_vocab_size, layer_norm_eps = 0, 1e-12
    config = ModelConfig(
        model_type=model_type,
        architecture=architecture,
        task=task,
        num_layers=whole(*names["layers"], limits="layers"),
        num_heads=whole(*names["heads"], limits="heads"),
        hidden_size=whole(*names["width"], limits="width"),
        intermediate_size=whole(*names["inner"], limits="width"),
        vocab_size=whole("vocab_size", limits="vocab"),
        max_positions=whole("max_position_embeddings", limits="positions", default=512),
        type_vocab_size=type_vocab_size,
        hidden_act=text(*names["act"], default="gelu"),
        layer_norm_eps=layer_norm_eps,
        labels=_labels(raw, error, where) if task == TASK_CLASSIFICATION else [],
        problem_type=_problem_type(raw, error, where),
    )
    if config.hidden_size % config.num_heads:
        raise error(f"{where}: hidden size {config.hidden_size} is not divisible by {config.num_heads} heads")
    return config


def _field(
    raw: dict, names: tuple[str, ...], default: object, error: type[BertdeskError], where: str
) -> tuple[str, object]:
    """(name, value) of the first of `names` in `raw`; the first name and `default` when none is there."""
    for name in names:
        if name in raw:
            return name, raw[name]
    if default is None:
        raise error(f"{where}: missing {' / '.join(names)}")
    return names[0], default


def _architecture(raw: dict, model_type: str, error: type[BertdeskError], where: str) -> str:
    architectures = raw.get("architectures")
    if architectures is None or architectures == []:
        return "BertModel" if model_type == "bert" else "DistilBertModel"
    if not isinstance(architectures, list):
        raise error(f"{where}: architectures must be a list of class names, not {describe_value(architectures)}")
    if not isinstance(architectures[0], str):
        raise error(f"{where}: architectures must list class names, not {describe_value(architectures[0])}")
    return architectures[0]


def _epsilon(raw: dict, error: type[BertdeskError], where: str) -> float:
    value = raw.get("layer_norm_eps", 1e-12)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise error(f"{where}: layer_norm_eps must be a small positive number, not {describe_value(value)}")
    return float(value)


def _problem_type(raw: dict, error: type[BertdeskError], where: str) -> str | None:
    value = raw.get("problem_type")
    if value is not None and not isinstance(value, str):
        raise error(f"{where}: problem_type must be a name or null, not {describe_value(value)}")
    return value


def _labels(raw: dict, error: type[BertdeskError], where: str) -> list[str]:
    """The class names of `id2label` in id order; none when the config names none."""
    id2label = raw.get("id2label")
    if id2label is None:
        return []
    if not isinstance(id2label, dict):
        raise error(f"{where}: id2label must be an object mapping ids to label names, not {describe_value(id2label)}")
    labels: dict[int, str] = {}
    for key, value in id2label.items():
        digits = str(key) if type(key) is int else key  # JSON keys are text; a dict built in Python may use ints
        if not (isinstance(digits, str) and digits.isascii() and digits.isdigit() and len(digits) <= 9):
            raise error(f"{where}: id2label key {describe_value(key)} is not a label id (0, 1, 2 …)")
        if not isinstance(value, str):
            raise error(f"{where}: id2label[{digits}] must be a label name, not {describe_value(value)}")
        labels[int(digits)] = value
    if sorted(labels) != list(range(len(labels))):
        raise error(f"{where}: id2label must number its labels 0 to {len(labels) - 1}, without gaps or repeats")
    return [labels[i] for i in range(len(labels))]


def read_pooling(folder: Path, error: type[BertdeskError] = CheckpointError) -> dict:
    """Sentence-embedding settings of a sentence-transformers folder: {"pooling", "normalize", "pooling_source"}.

    Reads `1_Pooling/config.json` (its `pooling_mode_*` flags must be JSON true/false: "false" is not false) and
    `modules.json` (a Normalize module means unit-length vectors); mean pooling, unnormalised, when neither is there.
    """
    settings: dict = {"pooling": "mean", "normalize": False, "pooling_source": "default"}
    path = folder / "1_Pooling" / "config.json"
    if path.is_file():
        raw = read_json(path, error, folder)
        if not isinstance(raw, dict):
            raise error(f"{path} does not hold a JSON object (it holds {describe_value(raw)})")
        modes = {name: value for name, value in raw.items() if name.startswith("pooling_mode_")}
        for name, value in modes.items():
            if not isinstance(value, bool):
                raise error(f"{path}: {_name(name)} must be true or false, not {describe_value(value)}")
        chosen = [name.removeprefix("pooling_mode_") for name, value in modes.items() if value]
        if len(chosen) > 1 or (chosen and chosen[0] not in ("cls_token", "mean_tokens")):
            raise error(f"{path}: pooling {' + '.join(chosen)} is not supported; bertdesk pools by cls_token or "
                        "mean_tokens")
        settings["pooling"] = "cls" if chosen == ["cls_token"] else "mean"
        settings["pooling_source"] = "sentence-transformers"
    path = folder / "modules.json"
    if path.is_file():
        modules = read_json(path, error, folder)
        if not isinstance(modules, list) or not all(
            isinstance(m, dict) and isinstance(m.get("type", ""), str) for m in modules
        ):
            raise error(f"{path} must be a list of module objects, each with a type name")
        settings["normalize"] = any(m.get("type", "").endswith("Normalize") for m in modules)
    return settings
