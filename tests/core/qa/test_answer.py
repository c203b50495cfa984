"""Extractive QA against transformers 4.57.6 `pipeline("question-answering")` on random-weight BERT and DistilBERT QA
models: the same windows, answers, offsets and scores; the per-window data; batching, partial results, errors.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bertdesk.core.bundles.bundle import Bundle  # noqa: E402
from bertdesk.core.conversion.convert import convert_checkpoint  # noqa: E402
from bertdesk.core.errors import BertdeskError, JobCancelled  # noqa: E402
from bertdesk.core.jobs import JobHandle  # noqa: E402
from bertdesk.core.qa import (  # noqa: E402
    QAOptions,
    QAResult,
    answer_question,
    answer_questions,
    iter_answer_question,
    iter_answer_questions,
    retrieve_sentences,
)
from bertdesk.core.qa import answer as answer_module  # noqa: E402
from tests.checkpoints import WORDS, make_checkpoint, reference_model  # noqa: E402

SCORE_TOLERANCE = 1e-4
SHORT_CONTEXT = "The cat sat on the mat. Paris is the capital city of France, and the bank of the river is good."
QUESTIONS = ["who sat on the mat?", "what is the capital of france?", "where is the bank?", "what was playing?"]


def _long_context(words: int, seed: int = 0) -> str:
    """Tiny-vocabulary words with punctuation, capitals, ## pieces ("playing", "walked") and unknown words."""
    rng = random.Random(seed)
    pool = [*WORDS, "playing", "walked", "Paris", "France", "xyzzy", "café", "42"]
    out = []
    for i in range(words):
        out.append(rng.choice(pool))
        if i % 9 == 8:
            out[-1] += rng.choice([".", ",", "?", "!"])
    return " ".join(out)


def assert_same_answers(ours: QAResult, reference: Any, what: str) -> float:
    """Text, start and end exactly, scores within SCORE_TOLERANCE; returns the largest score difference."""
    reference = reference if isinstance(reference, list) else [reference]
    got = [(a.text, a.start, a.end) for a in ours.answers]
    expected = [(r["answer"], r["start"], r["end"]) for r in reference]
    assert got == expected, f"{what}: {got} != {expected}"
    diff = max((abs(a.score - r["score"]) for a, r in zip(ours.answers, reference, strict=True)), default=0.0)
    assert diff <= SCORE_TOLERANCE, f"{what}: score differs by {diff:.2e}"
    return diff


def reference_pipeline(checkpoint: Path):
    """transformers' QA pipeline on the checkpoint's weights in float32."""
    from transformers import AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    return pipeline("question-answering", model=reference_model(checkpoint), tokenizer=tokenizer, device="cpu")


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The reference on one thread: on a busy 2-core machine torch's spinning worker threads make it 20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=["bert", "distilbert"])
def tiny_qa(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Any, Path]:
    """A random-weight QA model of each kind: our bundle, the reference pipeline, the checkpoint."""
    root = tmp_path_factory.mktemp(f"qa-{request.param}")
    checkpoint = make_checkpoint(root / "checkpoint", request.param, "qa", seed=3)
    bundle = Bundle(convert_checkpoint(checkpoint, root / "bundle"))
    return bundle, reference_pipeline(checkpoint), checkpoint


SETTINGS = [
    {"top_k": 1, "max_seq_len": 64, "doc_stride": 16},
    {"top_k": 3, "max_seq_len": 40, "doc_stride": 10, "max_answer_len": 4},
    {"top_k": 5, "max_seq_len": 32, "doc_stride": 6, "handle_impossible_answer": True},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["top1", "top3-short-answers", "top5-null"])
def test_random_model_answers_match_the_pipeline(tiny_qa: tuple[Bundle, Any, Path], settings: dict) -> None:
    bundle, pipe, _ = tiny_qa
    for context in (SHORT_CONTEXT, _long_context(150)):
        for question in QUESTIONS:
            ours = answer_question(bundle, question, context, **settings)
            assert_same_answers(ours, pipe(question=question, context=context, **settings), f"{question} {settings}")
            if context != SHORT_CONTEXT:
                assert ours.windows_total > 4, "the long context must need many windows"


def test_windows_are_the_tokenizers_overflowing_windows(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    """The windows we cut are input for input what the fast tokenizer's only_second truncation with stride gives."""
    bundle, pipe, _ = tiny_qa
    context = _long_context(120, seed=1)
    for max_seq_len, stride in ((40, 10), (33, 0), (64, 30)):
        result = answer_question(bundle, "what is the capital?", context, max_seq_len=max_seq_len, doc_stride=stride)
        encoded = pipe.tokenizer(
            text="what is the capital?", text_pair=context, truncation="only_second", max_length=max_seq_len,
            stride=stride, return_overflowing_tokens=True, return_token_type_ids=True,
        )
        assert [w.input_ids.tolist() for w in result.windows] == encoded["input_ids"]
        assert [w.token_type_ids.tolist() for w in result.windows] == encoded["token_type_ids"]


def test_window_probabilities_are_the_reference_softmax(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    """The "why this answer" curves: the reference model's softmax over each window (question masked), on the
    window's context tokens, and the null score P(start=[CLS]) * P(end=[CLS])."""
    bundle, _, checkpoint = tiny_qa
    model = reference_model(checkpoint)
    result = answer_question(bundle, "who sat?", _long_context(80), max_seq_len=40, doc_stride=10)
    for window in result.windows:
        ids = torch.tensor([window.input_ids.tolist()])
        inputs = {"input_ids": ids}
        if bundle.info.model_type == "bert":
            inputs["token_type_ids"] = torch.tensor([window.token_type_ids.tolist()])
        with torch.no_grad():
            out = model(**inputs)
        allowed = torch.zeros(len(window.input_ids), dtype=torch.bool)
        allowed[0] = True
        allowed[window.context_position : window.context_position + window.token_end - window.token_start] = True
        start = torch.softmax(out.start_logits[0].masked_fill(~allowed, -10000.0), -1)
        end = torch.softmax(out.end_logits[0].masked_fill(~allowed, -10000.0), -1)
        np.testing.assert_allclose(window.start_probs, start[allowed][1:].numpy(), atol=1e-5)
        np.testing.assert_allclose(window.end_probs, end[allowed][1:].numpy(), atol=1e-5)
        assert window.null_score == pytest.approx(float(start[0] * end[0]), abs=1e-6)
        assert window.char_start == result.context_offsets[window.token_start][0]
        assert window.char_end == result.context_offsets[window.token_end - 1][1]


def test_partial_results_come_window_by_window(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, _, _ = tiny_qa
    context = _long_context(150)
    progress: list[float] = []
    handle = JobHandle(lambda fraction, _text: progress.append(fraction))
    partials = list(iter_answer_question(
        bundle, "what is the capital?", context, top_k=3, max_seq_len=40, doc_stride=10, batch_tokens=80,
        handle=handle,
    ))
    total = partials[-1].windows_total
    per = max(1, 80 // bundle.lanes // 40)  # windows of 40 tokens; the lanes at once share the 80 tokens
    assert [p.windows_done for p in partials] == list(range(per, total + 1, per)) + ([total] if total % per else [])
    assert [p.complete for p in partials] == [False] * (len(partials) - 1) + [True]
    for partial in partials:
        assert all(a.window < partial.windows_done for a in partial.answers)
        assert len(partial.windows) == partial.windows_done
    final = answer_question(bundle, "what is the capital?", context, top_k=3, max_seq_len=40, doc_stride=10)
    assert [(a.text, a.start) for a in partials[-1].answers] == [(a.text, a.start) for a in final.answers]
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_batch_answers_equal_single_answers(tiny_qa: tuple[Bundle, Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows batched across questions (padded, reordered by length, in chunks) give each question's answers."""
    bundle, _, _ = tiny_qa
    monkeypatch.setattr(answer_module, "QUESTIONS_PER_CHUNK", 3)
    pairs = [(q, c) for c in (SHORT_CONTEXT, _long_context(60, 2), _long_context(200, 3)) for q in QUESTIONS[:3]]
    settings = {"top_k": 2, "max_seq_len": 48, "doc_stride": 12, "handle_impossible_answer": True}
    widths: list[list[int]] = []
    run = answer_module._run
    monkeypatch.setattr(answer_module, "_run", lambda b, group, h: widths.append([len(w) for w in group]) or run(
        b, group, h))
    batched = list(iter_answer_questions(bundle, pairs, QAOptions(**settings), batch_tokens=200))
    monkeypatch.setattr(answer_module, "_run", run)
    assert len(batched) == len(pairs)
    # the shared length bucketing: rows of a batch nearly equally long, never over the padded-token budget
    assert all(max(group) * len(group) <= 200 for group in widths)
    assert all(group == sorted(group) for group in widths)  # shortest first within each chunk of questions
    for (question, context), result in zip(pairs, batched, strict=True):
        single = answer_question(bundle, question, context, **settings)
        assert result.question == question and result.complete
        assert [(a.text, a.start, a.end) for a in result.answers] == [(a.text, a.start, a.end) for a in single.answers]
        np.testing.assert_allclose([a.score for a in result.answers], [a.score for a in single.answers], atol=1e-5)


def test_options_or_keywords_not_both(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, _, _ = tiny_qa
    options = QAOptions(top_k=2, max_seq_len=40, doc_stride=10)
    by_options = answer_question(bundle, "who sat?", _long_context(60), options)
    by_keywords = answer_question(bundle, "who sat?", _long_context(60), top_k=2, max_seq_len=40, doc_stride=10)
    assert by_options.answers == by_keywords.answers and len(by_options.answers) == 2
    batched = answer_questions(bundle, [("who sat?", _long_context(60))], top_k=2, max_seq_len=40, doc_stride=10)
    assert [(a.text, a.start) for a in batched[0].answers] == [(a.text, a.start) for a in by_options.answers]
    with pytest.raises(TypeError, match="not both"):
        answer_question(bundle, "who sat?", SHORT_CONTEXT, options, top_k=3)


def test_null_threshold_moves_the_null_answer(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, pipe, _ = tiny_qa
    question, settings = "who sat?", {"top_k": 3, "max_seq_len": 40, "doc_stride": 10}
    context = _long_context(60)
    at_zero = answer_question(bundle, question, context, null_threshold=0.0, **settings)
    assert_same_answers(at_zero, pipe(question=question, context=context, handle_impossible_answer=True, **settings),
                        "threshold 0 is the pipeline's null handling")
    null = answer_question(bundle, question, context, null_threshold=-10.0, **settings).answers[0]
    assert null.is_null and (null.text, null.start, null.end) == ("", 0, 0)
    above = answer_question(bundle, question, context, null_threshold=10.0, **settings)
    assert not any(a.is_null for a in above.answers)
    assert null.score == min(w.null_score for w in at_zero.windows)


def test_results_serialise_to_json(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, _, _ = tiny_qa
    context = _long_context(80)
    result = answer_question(bundle, "who sat?", context, top_k=2, max_seq_len=40, doc_stride=10,
                             handle_impossible_answer=True)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "span_qa" and data["windows_total"] == result.windows_total and "windows" not in data
    for answer in data["answers"]:
        assert context[answer["start"] : answer["end"]] == answer["text"]
        assert set(answer) == {"text", "start", "end", "score", "window", "is_null"}
    detailed = json.loads(json.dumps(result.to_dict(details=True)))
    window = detailed["windows"][0]
    assert len(window["start_probs"]) == window["token_end"] - window["token_start"]
    assert window["attention_mask"] == [1] * len(window["input_ids"])
    assert len(detailed["context_offsets"]) == result.windows[-1].token_end
    assert detailed["windows"][0]["input_ids"] == result.windows[0].input_ids.tolist()
    # per-token data as compact arrays, not Python lists (thousands of windows on a long context)
    first = result.windows[0]
    assert (first.input_ids.dtype, first.token_type_ids.dtype) == (np.int32, np.int8)
    assert first.start_probs.dtype == first.end_probs.dtype == np.float32
    assert isinstance(result.context_offsets, np.ndarray) and result.context_offsets.shape[1:] == (2,)


def test_long_question_is_cut_to_max_question_len(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, _, _ = tiny_qa
    question = "what is the capital city of france and where is the bank of the river " * 6
    result = answer_question(bundle, question, SHORT_CONTEXT, max_seq_len=64, doc_stride=8, max_question_len=20)
    window = result.windows[0]
    assert window.context_position == 1 + 20 + 1
    assert result.answers and SHORT_CONTEXT[result.answers[0].start : result.answers[0].end] == result.answers[0].text


@pytest.mark.parametrize(
    ("question", "context", "settings", "message"),
    [
        ("", SHORT_CONTEXT, {}, "question is empty"),
        ("who?", " \n\t", {}, "context is empty"),
        ("who?", None, {}, "context must be text"),
        ("who?", SHORT_CONTEXT, {"top_k": 0}, "top_k"),
        ("who?", SHORT_CONTEXT, {"doc_stride": -1}, "doc_stride"),
        ("who?", SHORT_CONTEXT, {"max_answer_len": 0}, "max_answer_len"),
        ("who?", SHORT_CONTEXT, {"null_threshold": float("nan")}, "null_threshold"),
        ("who?", SHORT_CONTEXT, {"max_seq_len": 20, "doc_stride": 16}, "doc_stride 16 must be smaller"),
        ("what is the capital city?", SHORT_CONTEXT, {"max_seq_len": 8}, "leaves no room"),
    ],
)
def test_bad_settings_are_one_clear_error(
    tiny_qa: tuple[Bundle, Any, Path], question: str, context: str, settings: dict, message: str
) -> None:
    bundle, _, _ = tiny_qa
    with pytest.raises(BertdeskError, match=message):
        answer_question(bundle, question, context, **settings)


def test_max_seq_len_is_capped_at_the_models_positions(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, pipe, _ = tiny_qa
    context = _long_context(100)
    ours = answer_question(bundle, "who sat?", context, max_seq_len=384, doc_stride=16)
    assert max(len(w.input_ids) for w in ours.windows) == bundle.info.max_positions == 64
    assert_same_answers(ours, pipe(question="who sat?", context=context, max_seq_len=64, doc_stride=16), "capped")


def test_cancelled_job_stops(tiny_qa: tuple[Bundle, Any, Path]) -> None:
    bundle, _, _ = tiny_qa
    handle = JobHandle()
    results = iter_answer_question(bundle, "who?", _long_context(200), max_seq_len=40, doc_stride=10,
                                   batch_tokens=40, handle=handle)
    assert not next(results).complete
    handle.cancel()
    with pytest.raises(JobCancelled):
        next(results)


def test_an_encoder_is_not_a_qa_model(tiny_bundle: Path) -> None:
    with pytest.raises(BertdeskError, match="not a question-answering one"):
        answer_question(Bundle(tiny_bundle), "who?", SHORT_CONTEXT)


def test_sentence_retrieval_ranks_by_cosine(default_bundle_dir: Path) -> None:
    from bertdesk.core.engine.embed import embed_texts

    bundle = Bundle(default_bundle_dir)
    context = (
        "The stock market fell sharply on Monday. My cat sleeps on the warm windowsill all afternoon.\n"
        "Paris is the capital of France. Rain is expected tomorrow."
    )
    result = retrieve_sentences(bundle, "Which city is the French capital?", context, top_k=2)
    assert result.kind == "sentence_retrieval" and "not span QA" in result.note
    assert result.num_sentences == 4 and len(result.sentences) == 2
    best = result.sentences[0]
    assert best.text == "Paris is the capital of France." and context[best.start : best.end] == best.text
    assert best.index == 2
    vectors = embed_texts(bundle, ["Which city is the French capital?", best.text])
    assert best.score == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-5)
    assert result.sentences[0].score > result.sentences[1].score
    assert json.loads(json.dumps(result.to_dict()))["sentences"][0]["text"] == best.text
    with pytest.raises(BertdeskError, match="question is empty"):
        retrieve_sentences(bundle, " ", context)
    with pytest.raises(BertdeskError, match="^top_k must be a whole number of at least 1, got 0$"):
        retrieve_sentences(bundle, "Which city?", context, top_k=0)
