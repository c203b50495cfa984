"""One input through the model with its internals (every layer's vectors and attention), and the attention views
drawn from it: a layer/head's probabilities, their mean over heads, segment-pair filters, and the scores before the
softmax with the mask added (bidirectional: padding only; causal: every later token)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import BertdeskError, IntrospectionError
from bertdesk.core.jobs import JobHandle, ensure_handle

#: What the model adds to a masked score: float32's most negative value. Its exp underflows to exactly 0, so it
#: acts as −∞; transformers builds its 4-D masks from the same value.
MASKED = float(np.finfo(np.float32).min)
#: Segment-pair filters of the attention map: (rows' segment, columns' segment); None = every token.
PAIR_FILTERS = {"A→A": (0, 0), "A→B": (0, 1), "B→A": (1, 0), "B→B": (1, 1)}


@dataclass(frozen=True)
class Forward:
    """An input run once through the model: its pieces and every layer's vectors and attention probabilities.

    Without internals (a fused graph) `hidden_states` holds the last layer alone and `attentions` is None;
    `missing` says why.
    """

    pieces: list[str]
    segments: np.ndarray  # (seq,) type ids: 0 = segment A, 1 = segment B
    special: np.ndarray  # (seq,) True for [CLS], [SEP] and the like
    hidden_states: np.ndarray  # (layers + 1, seq, hidden), or (1, seq, hidden) without internals
    attentions: np.ndarray | None  # (layers, heads, seq, seq)
    causal: bool
    missing: str = ""

    @property
    def has_internals(self) -> bool:
        """Whether every layer's vectors and attention are here."""
        return self.attentions is not None

    @property
    def num_layers(self) -> int:
        """The model's layers (hidden states 0..num_layers)."""
        return self.hidden_states.shape[0] - 1 if self.has_internals else -1

    def vectors(self, layer: int) -> np.ndarray:
        """(seq, hidden) vectors after `layer` (0 = embeddings); without internals only the last layer (-1)."""
        if not self.has_internals:
            if layer != -1:
                raise BertdeskError(f"layer {layer} is not available: {self.missing}")
            return self.hidden_states[0]
        return self.hidden_states[layer]


def causal_bias(seq: int) -> np.ndarray:
    """(1, 1, seq, seq) bias adding MASKED above the diagonal: token i sees tokens 0..i only."""
    return np.triu(np.full((seq, seq), MASKED, np.float32), 1)[None, None]


def run_forward(
    bundle: Bundle, text: str, pair: str | None = None, *, causal: bool = False, handle: JobHandle | None = None
) -> Forward:
    """Run `text` (and `pair` as segment B) once, with every layer's vectors and attention where the graph has them.

    `causal` runs the same weights with a causal mask (bertdesk-converted graphs only). A graph whose internals
    cannot be exposed gives the last layer alone, with the reason in `missing`.
    """
    handle = ensure_handle(handle)
    if not isinstance(text, str) or (pair is not None and not isinstance(pair, str)):
        raise BertdeskError("the input must be text")
    encoding = bundle.model_tokenizer.encode(text, pair) if pair is not None else bundle.model_tokenizer.encode(text)
    ids = np.array([encoding.ids], np.int64)
    types = np.array([encoding.type_ids], np.int64)
    bias = causal_bias(ids.shape[1]) if causal else None
    common = {"pieces": list(encoding.tokens), "segments": types[0], "causal": causal,
              "special": np.array(encoding.special_tokens_mask, bool)}
    handle.check()
    try:
        out = bundle.run(ids, None, types, internals=True, attention_bias=bias, handle=handle)
    except IntrospectionError as exc:
        out = bundle.run(ids, None, types, attention_bias=bias, handle=handle)
        # The batch axis of one input stands in for the layer axis: the last layer is all there is.
        return Forward(hidden_states=out["last_hidden_state"], attentions=None, missing=str(exc), **common)
    return Forward(hidden_states=out["hidden_states"][:, 0], attentions=out["attentions"][:, 0], **common)


def check_layer(forward: Forward, layer: int) -> None:
    """Raise unless `layer` is an attention layer 1..N of `forward`."""
    if not forward.has_internals:
        raise BertdeskError(f"this model's attention cannot be shown: {forward.missing}")
    if not 1 <= layer <= forward.num_layers:
        raise BertdeskError(f"attention layer {layer} does not exist: this model has layers 1 to {forward.num_layers}")


def attention_map(forward: Forward, layer: int, head: int | None = None, pair_filter: str | None = None) -> tuple[
    np.ndarray, np.ndarray, np.ndarray
]:
    """(row indices, column indices, probabilities) of attention layer `layer` (1..N, the layer whose output is
    hidden state `layer`), head `head` (0-based; None = mean over heads), rows/columns kept by `pair_filter`."""
    check_layer(forward, layer)
    heads = forward.attentions.shape[1]
    if head is not None and not 0 <= head < heads:
        raise BertdeskError(f"head {head} does not exist: each layer has heads 0 to {heads - 1}")
    probs = forward.attentions[layer - 1]
    matrix = probs.mean(axis=0) if head is None else probs[head]
    rows = cols = np.arange(len(forward.pieces))
    if pair_filter is not None:
        if pair_filter not in PAIR_FILTERS:
            raise BertdeskError(f"unknown pair filter {pair_filter!r} (choose {', '.join(PAIR_FILTERS)})")
        row_segment, col_segment = PAIR_FILTERS[pair_filter]
        rows = np.flatnonzero(forward.segments == row_segment)
        cols = np.flatnonzero(forward.segments == col_segment)
    return rows, cols, matrix[np.ix_(rows, cols)]


def mask_bias(seq: int, causal: bool) -> np.ndarray:
    """(seq, seq) what the mask adds to the scores: 0 where a token may look, −∞ where it may not.

    A single input has no padding, so the bidirectional mask adds nothing; the causal one hides later tokens.
    """
    bias = np.zeros((seq, seq), np.float32)
    if causal:
        bias[np.triu_indices(seq, 1)] = -np.inf
    return bias


def attention_scores(bundle: Bundle, forward: Forward, layer: int, head: int) -> np.ndarray:
    """(seq, seq) scores of attention layer `layer` (1..N), head `head`, before the softmax, with the mask added:
    q·k / √d from the hidden state entering the layer and the layer's query/key weights, −∞ at masked cells.

    softmax of each row gives the model's attention probabilities for that head.
    """
    from bertdesk.core.similarity.graph_weights import graph_weights

    check_layer(forward, layer)
    weights = graph_weights(bundle)
    if weights.queries is None or weights.keys is None:
        raise BertdeskError("this graph's query and key weights cannot be found, so its scores cannot be shown")
    heads = forward.attentions.shape[1]
    if not 0 <= head < heads:
        raise BertdeskError(f"head {head} does not exist: each layer has heads 0 to {heads - 1}")
    entering = forward.hidden_states[layer - 1]
    size = entering.shape[1] // heads
    part = slice(head * size, (head + 1) * size)
    query = entering @ weights.queries[layer - 1].weight[:, part] + weights.queries[layer - 1].bias[part]
    key = entering @ weights.keys[layer - 1].weight[:, part] + weights.keys[layer - 1].bias[part]
    scores = (query @ key.T) / np.float32(math.sqrt(size))
    return scores + mask_bias(len(forward.pieces), forward.causal)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax; −∞ cells come out exactly 0."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def attention_grid(forward: Forward, gap: int = 1) -> np.ndarray:
    """Every layer's and head's attention probabilities as one image: layer L's head H in grid row L-1, column H,
    each (seq, seq), `gap` cells of NaN between them (the overview of all heads at a glance)."""
    if not forward.has_internals:
        raise BertdeskError(f"this model's attention cannot be shown: {forward.missing}")
    layers, heads, seq, _ = forward.attentions.shape
    pitch = seq + gap
    grid = np.full((layers * pitch - gap, heads * pitch - gap), np.nan, np.float32)
    for layer in range(layers):
        for head in range(heads):
            grid[layer * pitch:layer * pitch + seq, head * pitch:head * pitch + seq] = forward.attentions[layer, head]
    return grid


def grid_cell(forward: Forward, row: float, col: float, gap: int = 1) -> tuple[int, int] | None:
    """(layer 1..N, head) of the thumbnail at grid position (`row`, `col`), or None in a gap or outside."""
    if not forward.has_internals:
        return None
    layers, heads, seq, _ = forward.attentions.shape
    pitch = seq + gap
    r, c = int(math.floor(row)), int(math.floor(col))
    if r < 0 or c < 0 or r % pitch >= seq or c % pitch >= seq or r // pitch >= layers or c // pitch >= heads:
        return None
    return r // pitch + 1, c // pitch
