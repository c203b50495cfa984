"""The Ask tab's views of a QA result: a window as the model sees it (checked against the tokenizer's own pair
encoding), the probability curves over several windows, batch widths, and character-to-token lookup."""

from __future__ import annotations

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.qa import answer_question
from bertdesk.core.qa.answer import window_batches
from bertdesk.core.qa.layout import (
    CharToToken,
    answer_tokens,
    batch_widths,
    curve_view,
    window_tokenization,
    windows_around,
    windows_holding,
)
from tests.core.qa.test_answer import SHORT_CONTEXT, _long_context

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_qa_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    from bertdesk.core.conversion.convert import convert_checkpoint
    from tests.checkpoints import make_checkpoint

    root = tmp_path_factory.mktemp("qa-layout")
    return Bundle(convert_checkpoint(make_checkpoint(root / "checkpoint", "bert", "qa", seed=3), root / "bundle"))


def test_one_window_is_the_tokenizers_pair_encoding(tiny_qa_bundle: Bundle) -> None:
    bundle = tiny_qa_bundle
    question = "Where is the bank?"
    result = answer_question(bundle, question, SHORT_CONTEXT, max_seq_len=64)
    assert result.windows_total == 1
    layout = window_tokenization(bundle.tokenizer, question, SHORT_CONTEXT, result.windows[0], result.context_offsets)
    expected = bundle.tokenizer.encode(question, SHORT_CONTEXT)
    assert [t.id for t in layout.tokens] == expected.ids
    assert [t.piece for t in layout.tokens] == expected.tokens
    assert [t.type_id for t in layout.tokens] == expected.type_ids
    assert [t.segment for t in layout.tokens] == expected.sequence_ids
    assert [(t.start, t.end) for t in layout.tokens] == [
        (0, 0) if s is None else o for s, o in zip(expected.sequence_ids, expected.offsets, strict=True)
    ]
    assert [t.attention_mask for t in layout.tokens] == expected.attention_mask
    assert [t.position for t in layout.tokens] == list(range(len(expected.ids)))
    assert layout.text == question and layout.pair == SHORT_CONTEXT
    assert layout.tokens[0].piece == "[CLS]" and layout.tokens[0].special


def test_a_later_window_holds_its_slice_and_pads_with_mask_zero(tiny_qa_bundle: Bundle) -> None:
    bundle = tiny_qa_bundle
    context = _long_context(120)
    result = answer_question(bundle, "who walked?", context, max_seq_len=40, doc_stride=10)
    assert result.windows_total >= 3
    detail = result.windows[-1]
    layout = window_tokenization(
        bundle.tokenizer, "who walked?", context, detail, result.context_offsets, pad_to=len(detail.input_ids) + 5
    )
    sliced = [t for t in layout.tokens if t.segment == 1]
    assert len(sliced) == detail.token_end - detail.token_start
    assert sliced[0].start == detail.char_start and sliced[-1].end == detail.char_end
    assert all(t.type_id == 1 for t in sliced)
    pads = layout.tokens[-5:]
    assert [t.piece for t in pads] == ["[PAD]"] * 5 and all(t.attention_mask == 0 for t in pads)
    assert [t.piece for t in layout.tokens[: len(detail.input_ids)]][-1] == "[SEP]"


@pytest.mark.parametrize("lengths", [[40] * 7 + [23], [40, 40, 31], [12], [40] * 5])
@pytest.mark.parametrize("batch_tokens", [40, 100, 160, 8192])
def test_batch_width_is_the_width_of_the_cores_batch(lengths: list[int], batch_tokens: int) -> None:
    groups = window_batches(lengths, batch_tokens)
    assert [i for group in groups for i in group] == list(range(len(lengths)))  # context order
    assert all(len(group) == 1 or max(lengths[i] for i in group) * len(group) <= batch_tokens for group in groups)
    widths = [max(lengths[i] for i in group) for group in groups for _ in group]
    assert batch_widths(lengths, batch_tokens) == widths


def test_windows_around_stays_inside_and_centres() -> None:
    assert windows_around(3, 2, 4) == range(3)
    assert windows_around(10, 0, 4) == range(0, 4)
    assert windows_around(10, 5, 4) == range(4, 8)
    assert windows_around(10, 9, 4) == range(6, 10)


def test_curves_concatenate_windows_and_shade_the_answer(tiny_qa_bundle: Bundle) -> None:
    bundle = tiny_qa_bundle
    context = _long_context(120)
    result = answer_question(bundle, "who walked?", context, max_seq_len=40, doc_stride=10, top_k=3)
    best = result.best
    assert best is not None
    view = curve_view(bundle.tokenizer, result, range(result.windows_total), (best.window, best.start, best.end))
    sizes = [w.token_end - w.token_start for w in result.windows]
    assert len(view.labels) == len(view.tokens) == len(view.start_probs) == sum(sizes)
    assert view.boundaries == list(np.cumsum(sizes)[:-1])
    assert view.x_of(best.window) == sum(sizes[: best.window])
    first, last = view.span
    covered = view.tokens[first : last + 1]
    offsets = result.context_offsets
    assert offsets[covered[0]][0] <= best.start < offsets[covered[0]][1]
    assert offsets[covered[-1]][0] < best.end <= offsets[covered[-1]][1]
    detail = result.windows[best.window]
    np.testing.assert_array_equal(view.start_probs[view.x_of(best.window) :][: sizes[best.window]], detail.start_probs)
    # the windows overlap: some context tokens are plotted twice, once for each window
    assert len(set(view.tokens.tolist())) < len(view.tokens)
    assert windows_holding(result, int(covered[0]))[0] <= best.window
    # a view without the answer's window shades nothing
    others = [i for i in range(result.windows_total) if i != best.window]
    assert curve_view(bundle.tokenizer, result, range(others[0], others[0] + 1), (best.window, 0, 1)).span is None


def test_char_to_token_and_answer_tokens(tiny_qa_bundle: Bundle) -> None:
    result = answer_question(tiny_qa_bundle, "who sat?", SHORT_CONTEXT, max_seq_len=64)
    lookup = CharToToken(result.context_offsets)
    assert lookup.token_at(0) == 0
    assert lookup.token_at(3) is None  # the space after "The"
    assert lookup.token_at(len(SHORT_CONTEXT)) is None
    cat = SHORT_CONTEXT.index("cat")
    token = lookup.token_at(cat + 1)
    assert tuple(result.context_offsets[token]) == (cat, cat + 3)
    assert answer_tokens(result.windows[0], result.context_offsets, cat, cat + 3) == (token, token)
    assert answer_tokens(result.windows[0], result.context_offsets, 3, 4) is None
