"""Texts → vectors: batched encoding, per-layer token vectors, pooled sentence vectors, long texts in windows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import POOLINGS, Bundle
from bertdesk.core.bundles.tokenizer import encode_one
from bertdesk.core.engine.batching import (
    DEFAULT_CHUNK,
    DEFAULT_TOKEN_BUDGET,
    Bucket,
    bucket_texts,
    pad,
    run_in_order,
    stream_buckets,
)
from bertdesk.core.engine.lanes import in_lanes
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle


@dataclass(frozen=True)
class EncodedBatch:
    """Padded model inputs for a batch, with each row's pieces."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    pieces: list[list[str]]
    truncated: list[bool]


def encode(bundle: Bundle, texts: list[str], pairs: list[str] | None = None) -> EncodedBatch:
    """Tokenize `texts` (with `pairs` as segment B) as the model needs them: truncated and padded to the longest."""
    if not texts:
        raise BertdeskError("no text given")
    if any(not isinstance(t, str) for t in texts):
        raise BertdeskError("every input must be text")
    tokenizer = bundle.model_tokenizer
    inputs = list(zip(texts, pairs, strict=True)) if pairs is not None else texts
    encodings = tokenizer.encode_batch(inputs)
    ids, mask, types = pad(encodings)
    return EncodedBatch(ids, mask, types, [e.tokens for e in encodings], [bool(e.overflowing) for e in encodings])


def resolve_layer(bundle: Bundle, layer: int | None) -> int:
    """A hidden-state index in 0..L (0 = the embeddings' output); None and -1 mean the last layer."""
    count = bundle.info.num_layers
    if layer is None:
        return count
    index = layer + count + 1 if layer < 0 else layer
    if not 0 <= index <= count:
        raise BertdeskError(f"layer {layer} does not exist: this model has layers 0 (embeddings) to {count}")
    return index


def hidden_states(bundle: Bundle, batch: EncodedBatch, layer: int, handle: JobHandle | None = None) -> np.ndarray:
    """(batch, seq, hidden) vectors after `layer` (a resolved index)."""
    return _layer_output(bundle, batch.input_ids, batch.attention_mask, batch.token_type_ids, layer, handle)


def _layer_output(bundle: Bundle, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray,
                  layer: int, handle: JobHandle | None) -> np.ndarray:
    # Only a layer before the last needs the per-layer outputs; the last comes from the lean session.
    internals = layer != bundle.info.num_layers
    out = bundle.run(input_ids, attention_mask, token_type_ids, internals=internals, handle=handle)
    return out["hidden_states"][layer] if internals else out["last_hidden_state"]


def pool(vectors: np.ndarray, attention_mask: np.ndarray, how: str) -> np.ndarray:
    """Sentence vectors from token vectors: the mean over real tokens, or the [CLS] vector."""
    if how == "cls":
        return vectors[:, 0, :]
    if how == "mean":
        weights = attention_mask[..., None].astype(vectors.dtype)
        return (vectors * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    raise BertdeskError(f"unknown pooling {how!r} (choose {' or '.join(POOLINGS)})")


def _lanes(bundle: Bundle, layer: int) -> int:
    """Runs at once for vectors after `layer`: an earlier layer's come from the full session, which has the
    threads itself."""
    return bundle.lanes if layer == bundle.info.num_layers else 1


def _bucket_runner(bundle: Bundle, layer: int, pooling: str, handle: JobHandle) -> Callable[[Bucket], np.ndarray]:
    """Sentence vectors of a bucket's rows."""
    if pooling not in POOLINGS:
        raise BertdeskError(f"unknown pooling {pooling!r} (choose {' or '.join(POOLINGS)})")

    def run(bucket: Bucket) -> np.ndarray:
        handle.check()
        vectors = _layer_output(bundle, bucket.input_ids, bucket.attention_mask, bucket.token_type_ids, layer, handle)
        return pool(vectors, bucket.attention_mask, pooling)

    return run


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def embed_texts(
    bundle: Bundle,
    texts: list[str],
    *,
    layer: int | None = None,
    pooling: str | None = None,
    normalize: bool | None = None,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    handle: JobHandle | None = None,
) -> np.ndarray:
    """One vector per text, (n, hidden), in the order of `texts`. Pooling and normalisation default to the bundle's
    native ones. Texts are run in length-bucketed batches of at most `token_budget` padded tokens."""
    handle = ensure_handle(handle)
    if any(not isinstance(t, str) for t in texts):
        raise BertdeskError("every input must be text")
    pooling = pooling or bundle.info.pooling
    normalize = bundle.info.normalize if normalize is None else normalize
    index = resolve_layer(bundle, layer)
    if not texts:
        return np.zeros((0, bundle.info.hidden_size), np.float32)
    finished = 0

    def done(rows: int) -> None:
        nonlocal finished
        finished += rows
        handle.progress(finished / len(texts), f"embedded {finished} of {len(texts)}")

    run = _bucket_runner(bundle, index, pooling, handle)
    lanes = _lanes(bundle, index)
    buckets = bucket_texts(bundle.model_tokenizer, texts, token_budget=token_budget, lanes=lanes)
    result = run_in_order(buckets, len(texts), run, lanes=lanes, done=done, handle=handle)
    return _unit_rows(result) if normalize else result


def embed_stream(
    bundle: Bundle,
    texts: Iterable[str],
    *,
    layer: int | None = None,
    pooling: str | None = None,
    normalize: bool | None = None,
    chunk: int = DEFAULT_CHUNK,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    handle: JobHandle | None = None,
) -> Iterator[np.ndarray]:
    """`embed_texts` over an iterator of any length: one vector per text in input order, yielded `chunk` texts at a
    time, so neither the texts nor their vectors are ever held whole."""
    handle = ensure_handle(handle)
    pooling = pooling or bundle.info.pooling
    normalize = bundle.info.normalize if normalize is None else normalize
    index = resolve_layer(bundle, layer)
    finished = 0

    def done(rows: int) -> None:
        nonlocal finished
        finished += rows
        handle.progress(0.0, f"embedded {finished}")

    run = _bucket_runner(bundle, index, pooling, handle)
    lanes = _lanes(bundle, index)
    for start, count, buckets in stream_buckets(bundle.model_tokenizer, texts, chunk=chunk,
                                                token_budget=token_budget, lanes=lanes):
        vectors = run_in_order(buckets, count, run, start, lanes=lanes, done=done, handle=handle)
        yield from _unit_rows(vectors) if normalize else vectors


def token_vectors(
    bundle: Bundle, text: str, *, layer: int | None = None, handle: JobHandle | None = None
) -> tuple[list[str], np.ndarray]:
    """The model-visible pieces of `text` and their (seq, hidden) vectors after `layer`."""
    batch = encode(bundle, [text])
    return batch.pieces[0], hidden_states(bundle, batch, resolve_layer(bundle, layer), handle)[0]


@dataclass(frozen=True)
class LongTextEmbedding:
    """A text longer than the model's window, embedded window by window."""

    num_tokens: int
    window_vectors: np.ndarray  # (windows, hidden), mean-pooled
    window_token_counts: np.ndarray
    vector: np.ndarray  # token-weighted mean of the windows

    @property
    def num_windows(self) -> int:
        """How many windows the text was cut into."""
        return len(self.window_vectors)


def embed_long_text(
    bundle: Bundle, text: str, *, batch_size: int = 8, handle: JobHandle | None = None
) -> LongTextEmbedding:
    """Tokenize a text of any length and embed it in consecutive windows of the model's maximum length."""
    handle = ensure_handle(handle)
    handle.progress(0.0, "tokenizing")
    encoding = encode_one(bundle.tokenizer, text, add_special_tokens=False)
    handle.check()
    ids = np.asarray(encoding.ids, dtype=np.int64)
    cls_id, sep_id = _special_id(bundle, "[CLS]"), _special_id(bundle, "[SEP]")
    span = bundle.info.max_positions - 2
    windows = [ids[i : i + span] for i in range(0, len(ids), span)] or [ids]
    groups = [windows[start:start + batch_size] for start in range(0, len(windows), batch_size)]

    def run(group: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        handle.check()
        width = max(len(w) for w in group) + 2
        input_ids = np.zeros((len(group), width), np.int64)
        mask = np.zeros_like(input_ids)
        for row, window in enumerate(group):
            input_ids[row, : len(window) + 2] = [cls_id, *window, sep_id]
            mask[row, : len(window) + 2] = 1
        return pool(bundle.run(input_ids, mask, handle=handle)["last_hidden_state"], mask, "mean"), mask

    vectors, counts = [], []
    for _, (pooled, mask) in in_lanes(groups, run, bundle.lanes, handle):
        vectors.append(pooled)
        counts.extend(int(m.sum()) for m in mask)
        handle.progress(len(counts) / len(windows), f"embedded window {len(counts)} of {len(windows)}")
    window_vectors = np.concatenate(vectors)
    weights = np.asarray(counts, np.float32)
    return LongTextEmbedding(
        num_tokens=len(ids),
        window_vectors=window_vectors,
        window_token_counts=np.asarray(counts),
        vector=(window_vectors * weights[:, None]).sum(axis=0) / weights.sum(),
    )


def _special_id(bundle: Bundle, token: str) -> int:
    token_id = bundle.tokenizer.token_to_id(token)
    if token_id is None:
        raise BertdeskError(f"{bundle.info.name}'s vocabulary has no {token} token")
    return token_id
