"""A model's `config.json`, read into the numbers bertdesk needs for BERT and DistilBERT alike."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bertdesk.core.errors import BertdeskError

SUPPORTED_MODEL_TYPES = ("bert", "distilbert")
TASK_ENCODER = "encoder"
TASK_QA = "question-answering"
TASK_CLASSIFICATION = "sequence-classification"

_TASK_BY_ARCHITECTURE_SUFFIX = {
    "Model": TASK_ENCODER,
    "ForQuestionAnswering": TASK_QA,
    "ForSequenceClassification": TASK_CLASSIFICATION,
}


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


def read_config(path: Path, error: type[BertdeskError] = BertdeskError) -> ModelConfig:
    """Parse `config.json` at `path`; raise `error` with a clear sentence when it is missing or unusable."""
    if not path.is_file():
        raise error(f"{path.parent} has no config.json")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{path} does not hold a JSON object")
    return parse_config(raw, error=error, where=str(path))


def parse_config(raw: dict, *, error: type[BertdeskError] = BertdeskError, where: str = "config.json") -> ModelConfig:
    """Turn a Hugging Face config dict into a `ModelConfig`."""
    model_type = raw.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise error(
            f"{where}: unknown architecture model_type={model_type!r}; bertdesk supports "
            + ", ".join(SUPPORTED_MODEL_TYPES)
        )
    architectures = raw.get("architectures") or []
    architecture = architectures[0] if architectures else ("BertModel" if model_type == "bert" else "DistilBertModel")
    prefix = "Bert" if model_type == "bert" else "DistilBert"
    suffix = architecture[len(prefix):] if architecture.startswith(prefix) else None
    task = _TASK_BY_ARCHITECTURE_SUFFIX.get(suffix or "")
    if task is None:
        raise error(f"{where}: unknown architecture {architecture!r} for model_type {model_type!r}")

    def number(*names: str, default: object = None) -> object:
        for name in names:
            if name in raw:
                return raw[name]
        if default is None:
            raise error(f"{where}: missing {' / '.join(names)}")
        return default

    try:
        if model_type == "bert":
            if raw.get("position_embedding_type", "absolute") != "absolute":
                raise error(f"{where}: position_embedding_type {raw['position_embedding_type']!r} is not supported")
            config = ModelConfig(
                model_type=model_type,
                architecture=architecture,
                task=task,
                num_layers=int(number("num_hidden_layers")),
                num_heads=int(number("num_attention_heads")),
                hidden_size=int(number("hidden_size")),
                intermediate_size=int(number("intermediate_size")),
                vocab_size=int(number("vocab_size")),
                max_positions=int(number("max_position_embeddings", default=512)),
                type_vocab_size=int(number("type_vocab_size", default=2)),
                hidden_act=str(number("hidden_act", default="gelu")),
                layer_norm_eps=float(number("layer_norm_eps", default=1e-12)),
                labels=_labels(raw, task),
                problem_type=raw.get("problem_type"),
            )
        else:
            config = ModelConfig(
                model_type=model_type,
                architecture=architecture,
                task=task,
                num_layers=int(number("n_layers", "num_hidden_layers")),
                num_heads=int(number("n_heads", "num_attention_heads")),
                hidden_size=int(number("dim", "hidden_size")),
                intermediate_size=int(number("hidden_dim", "intermediate_size")),
                vocab_size=int(number("vocab_size")),
                max_positions=int(number("max_position_embeddings", default=512)),
                type_vocab_size=0,
                hidden_act=str(number("activation", "hidden_act", default="gelu")),
                layer_norm_eps=1e-12,
                labels=_labels(raw, task),
                problem_type=raw.get("problem_type"),
            )
    except (TypeError, ValueError) as exc:
        raise error(f"{where}: a size field is not a number ({exc})") from exc
    if config.num_heads <= 0 or config.hidden_size % config.num_heads:
        raise error(f"{where}: hidden size {config.hidden_size} is not divisible by {config.num_heads} heads")
    return config


def _labels(raw: dict, task: str) -> list[str]:
    if task != TASK_CLASSIFICATION:
        return []
    id2label = raw.get("id2label") or {}
    try:
        ordered = sorted(((int(k), str(v)) for k, v in id2label.items()))
    except (TypeError, ValueError):
        return []
    if [i for i, _ in ordered] != list(range(len(ordered))):
        return []
    return [label for _, label in ordered]
