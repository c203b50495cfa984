"""Small random-weight Hugging Face checkpoints for tests, saved as safetensors with a tiny WordPiece tokenizer.

transformers and torch are test-only: they make the checkpoints and are the reference every parity test compares with.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

WORDS = (
    "the a an of to and in is was it for on with as at by bank river money cat dog sat mat play paris france "
    "capital city question answer good bad movie great terrible what where who when how why hello world"
).split()
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789.,?!'"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

ARCHITECTURES = {
    ("bert", "encoder"): "BertModel",
    ("bert", "qa"): "BertForQuestionAnswering",
    ("bert", "classification"): "BertForSequenceClassification",
    ("distilbert", "encoder"): "DistilBertModel",
    ("distilbert", "qa"): "DistilBertForQuestionAnswering",
    ("distilbert", "classification"): "DistilBertForSequenceClassification",
}


def tiny_vocab() -> list[str]:
    """Specials, whole words, single characters and ## continuations."""
    tokens = SPECIALS + WORDS + list(LETTERS) + [f"##{c}" for c in LETTERS] + ["##ing", "##ed"]
    return list(dict.fromkeys(tokens))


def save_tokenizer(folder: Path, size: int | None = None) -> None:
    """A lower-casing BERT WordPiece tokenizer over `tiny_vocab()` (its first `size` tokens) as tokenizer.json +
    vocab.txt."""
    from tokenizers.implementations import BertWordPieceTokenizer

    vocab = {token: i for i, token in enumerate(tiny_vocab()[:size])}
    tokenizer = BertWordPieceTokenizer(vocab, lowercase=True)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")


def make_checkpoint(
    folder: Path,
    model_type: str = "bert",
    head: str = "encoder",
    *,
    dtype: str = "float32",
    num_labels: int = 3,
    hidden_act: str = "gelu",
    seed: int = 0,
) -> Path:
    """Save a random-weight `model_type` model with `head` ("encoder", "qa", "classification") to `folder`."""
    import torch
    import transformers

    torch.manual_seed(seed)
    vocab_size = len(tiny_vocab())
    if model_type == "bert":
        config = transformers.BertConfig(
            vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=64, type_vocab_size=2, hidden_act=hidden_act,
        )
    else:
        config = transformers.DistilBertConfig(
            vocab_size=vocab_size, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64,
            activation=hidden_act,
        )
    if head == "classification":
        config.num_labels = num_labels
        config.id2label = {i: f"LABEL_{chr(65 + i)}" for i in range(num_labels)}
        config.label2id = {v: k for k, v in config.id2label.items()}
    model_class = getattr(transformers, ARCHITECTURES[(model_type, head)])
    model = model_class(config).eval()
    with torch.no_grad():  # random LayerNorm and bias values, so a swapped weight cannot go unnoticed
        for name, param in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or name.endswith("bias"):
                param.add_(torch.randn_like(param) * 0.1)
    model = model.to(getattr(torch, dtype))
    model.save_pretrained(folder, safe_serialization=True)
    save_tokenizer(folder)
    return folder


def reference_model(folder: Path, attn_implementation: str = "eager"):
    """The transformers model for a checkpoint folder, in float32 on the CPU."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
    model_class = getattr(transformers, config.architectures[0])
    return model_class.from_pretrained(
        folder, torch_dtype=torch.float32, attn_implementation=attn_implementation, local_files_only=True
    ).eval()
