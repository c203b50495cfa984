"""What one Similarity run computes (on a worker thread): the forward passes and the graph's tables. The views
draw everything else from it on the GUI thread, so moving a slider never runs the model again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles import Bundle
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.similarity import (
    Forward,
    GraphWeights,
    graph_weights,
    run_forward,
    sentence_similarity,
    split_sentences,
)
from bertdesk.ui.error_text import error_text


@dataclass(frozen=True)
class Analysis:
    """An input's forward passes with every layer's vectors and attention: bidirectional, and causal on request."""

    bundle: Bundle
    text: str
    pair: str | None
    forward: Forward
    causal: Forward | None = None
    causal_error: str = ""
    weights: GraphWeights | None = None
    weights_error: str = ""
    #: The text's sentences compared by cosine of their pooled vectors, once the Sentence view asks for them.
    sentences: tuple[str, ...] = ()
    sentence_pooling: str | None = None
    sentence_matrix: np.ndarray | None = None
    sentence_error: str = ""

    def same_input(self, bundle: Bundle, text: str, pair: str | None) -> bool:
        """Whether this analysis was made from this model and input."""
        return self.bundle is bundle and self.text == text and self.pair == pair


def analyse(
    handle: JobHandle,
    bundle: Bundle,
    text: str,
    pair: str | None,
    causal: bool,
    known: Analysis | None,
    pooling: str | None = None,
) -> Analysis:
    """Run what `known` lacks for this input: the bidirectional pass, the causal pass if `causal`, the tables, and
    the sentence matrix pooled by `pooling` ("mean", "cls"; None = not needed)."""
    same = known is not None and known.same_input(bundle, text, pair)
    if same:
        forward, causal_run, causal_error = known.forward, known.causal, known.causal_error
    else:
        handle.progress(0.0, "running the model")
        forward, causal_run, causal_error = run_forward(bundle, text, pair, handle=handle), None, ""
    if causal and causal_run is None and not causal_error:
        handle.progress(0.5, "running again with a causal mask")
        try:
            causal_run = run_forward(bundle, text, pair, causal=True, handle=handle)
        except BertdeskError as exc:
            causal_error = error_text(exc)
    weights, weights_error = (known.weights, known.weights_error) if known is not None and known.bundle is bundle \
        else (None, "")
    if weights is None and not weights_error:
        handle.check()
        handle.progress(0.8, "reading the embedding tables")
        try:
            weights = graph_weights(bundle)
        except BertdeskError as exc:
            weights_error = error_text(exc)
    sentences = {}
    if same and (pooling is None or known.sentence_pooling == pooling):
        sentences = {"sentences": known.sentences, "sentence_pooling": known.sentence_pooling,
                     "sentence_matrix": known.sentence_matrix, "sentence_error": known.sentence_error}
    elif pooling is not None:
        sentences = sentence_analysis(handle, bundle, text, pooling)
    return Analysis(bundle, text, pair, forward, causal_run, causal_error, weights, weights_error, **sentences)


def sentence_analysis(handle: JobHandle, bundle: Bundle, text: str, pooling: str) -> dict:
    """The Analysis fields of the text's sentences compared after `pooling`."""
    sentences = tuple(s.text for s in split_sentences(text))
    if len(sentences) < 2:
        return {"sentences": sentences, "sentence_pooling": pooling,
                "sentence_error": "Type two or more sentences, one per line, to compare them."}
    handle.progress(0.9, f"embedding {len(sentences)} sentences")
    try:
        matrix = sentence_similarity(bundle, list(sentences), pooling=pooling, handle=handle).matrix
    except BertdeskError as exc:
        return {"sentences": sentences, "sentence_pooling": pooling, "sentence_error": error_text(exc)}
    return {"sentences": sentences, "sentence_pooling": pooling, "sentence_matrix": matrix}
