"""Why this label: each word's importance by occlusion — the drop in the label's probability when the word's pieces
are replaced by [MASK]. Every variant of the text goes through the model in one batched run; no gradients needed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bertdesk.core.classify.scoring import Scorer
from bertdesk.core.engine.batching import plan_batches
from bertdesk.core.engine.embed import EncodedBatch
from bertdesk.core.engine.lanes import in_lanes, lane_budget
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle

BATCH_TOKENS = 16384  # tokens in the runs at once: a 512-token text runs 32 variants at a time


@dataclass(frozen=True)
class WordImportance:
    """One word of the input: where it is, and how much masking it lowers the label's probability."""

    word: str
    segment: int  # 0: the text, 1: the pair text
    start: int  # character offsets into its segment
    end: int
    pieces: int  # how many WordPiece pieces were masked
    importance: float  # probability with the word minus probability without it (negative: the word works against)
    masked_probability: float


@dataclass(frozen=True)
class Explanation:
    """The label explained, its probability on the whole text, and every word the model saw."""

    text: str
    pair: str | None
    label: str
    probability: float
    method: str
    words: list[WordImportance]
    truncated: bool  # words beyond the model's length were not seen, and are not scored

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _words(encoding) -> list[tuple[int, int, list[int]]]:
    """(segment, word id, token positions) per word, in order, special tokens left out."""
    words: dict[tuple[int, int], list[int]] = {}
    for position, (segment, word) in enumerate(zip(encoding.sequence_ids, encoding.word_ids, strict=True)):
        if segment is not None and word is not None and not encoding.special_tokens_mask[position]:
            words.setdefault((segment, word), []).append(position)
    return [(segment, word, positions) for (segment, word), positions in words.items()]


def explain(
    scorer: Scorer,
    text: str,
    pair: str | None = None,
    *,
    label: str | None = None,
    batch_tokens: int = BATCH_TOKENS,
    handle: JobHandle | None = None,
) -> Explanation:
    """Per-word importance for `label` (default: the predicted one) by [MASK] occlusion.

    Works with any scorer: a fine-tuned head (the drop in the label's softmax or sigmoid probability) or zero-shot
    classification (the drop in its probability among the labels).
    """
    handle = ensure_handle(handle)
    if not isinstance(text, str) or not text.strip():
        raise BertdeskError("no text to explain")
    bundle = scorer.bundle
    mask_id = bundle.tokenizer.token_to_id("[MASK]")
    if mask_id is None:
        raise BertdeskError(f"{bundle.info.name}'s vocabulary has no [MASK] token to occlude words with")
    if label is not None and label not in scorer.labels:
        raise BertdeskError(f"no label {label!r} (labels: {', '.join(scorer.labels)})")
    encoding = bundle.model_tokenizer.encode_batch([text if pair is None else (text, pair)])[0]
    words = _words(encoding)
    ids = np.asarray(encoding.ids, np.int64)
    variants = np.tile(ids, (len(words) + 1, 1))
    for row, (_, _, positions) in enumerate(words, 1):
        variants[row, positions] = mask_id
    types = np.broadcast_to(np.asarray(encoding.type_ids, np.int64), variants.shape).copy()
    mask = np.ones_like(variants)
    per_run = max(1, lane_budget(batch_tokens, bundle.lanes) // len(ids))
    plan = plan_batches([len(ids)] * len(variants), per_run * len(ids), per_run, bundle.lanes)  # consecutive rows

    def run(rows: list[int]) -> np.ndarray:
        handle.check()
        part = slice(rows[0], rows[-1] + 1)
        return scorer.score(EncodedBatch(variants[part], mask[part], types[part], [], []), handle)[1]

    probabilities = []
    for rows, scored in in_lanes(plan, run, bundle.lanes, handle):
        probabilities.append(scored)
        done = rows[-1] + 1
        handle.progress(done / len(variants), f"occluded {max(done - 1, 0)} of {len(words)} words")
    probabilities = np.concatenate(probabilities)
    index = int(np.argmax(probabilities[0])) if label is None else scorer.labels.index(label)
    base = float(probabilities[0, index])
    segments = [text, pair]
    result = []
    for row, (segment, _, positions) in enumerate(words, 1):
        start, end = encoding.offsets[positions[0]][0], encoding.offsets[positions[-1]][1]
        masked = float(probabilities[row, index])
        result.append(WordImportance(segments[segment][start:end], segment, start, end, len(positions), base - masked,
                                     masked))
    return Explanation(text, pair, scorer.labels[index], base, scorer.method, result, bool(encoding.overflowing))
