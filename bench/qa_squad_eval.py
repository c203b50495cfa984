"""SQuAD v1.1 exact match and F1: bertdesk's extractive QA vs transformers' QA pipeline, same model, same run.

The first --questions questions of ../shared/data/squad-v1.1-dev-half-a.json, each over its own paragraph, answered
by the fine-tuned fixture (converted by bertdesk) through bertdesk's batched `answer_questions` and through
`pipeline("question-answering")`; scored with the official SQuAD v1.1 normalisation against every gold answer.

    .venv/bin/python bench/qa_squad_eval.py --questions 300 --threads 2
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURE = SHARED / "fixtures" / "minilm-l6-squad"
DATA = SHARED / "data" / "squad-v1.1-dev-half-a.json"


def normalize(text: str) -> str:
    """The official SQuAD v1.1 answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize(prediction).split(), normalize(gold).split()
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def score(predictions: list[str], golds: list[list[str]]) -> tuple[float, float]:
    """Exact match and F1 in percent, each the best over the gold answers."""
    em = sum(max(float(normalize(p) == normalize(g)) for g in gs) for p, gs in zip(predictions, golds, strict=True))
    f = sum(max(f1(p, g) for g in gs) for p, gs in zip(predictions, golds, strict=True))
    return 100 * em / len(predictions), 100 * f / len(predictions)


def load_cases(count: int) -> list[tuple[str, str, list[str]]]:
    articles = json.loads(DATA.read_text(encoding="utf-8"))["data"]
    cases = [
        (qa["question"], paragraph["context"], [a["text"] for a in qa["answers"]])
        for article in articles for paragraph in article["paragraphs"] for qa in paragraph["qas"]
    ]
    return cases[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cases = load_cases(args.questions)
    golds = [g for _, _, g in cases]

    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.conversion.convert import convert_checkpoint
    from bertdesk.core.qa import answer_questions

    torch.set_num_threads(args.threads)
    os.environ["BERTDESK_THREADS"] = str(args.threads)  # the thread budget, as the CLI sets it
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Bundle(convert_checkpoint(FIXTURE, Path(tmp) / "minilm-l6-squad"), threads=args.threads)
        start = time.perf_counter()
        results = answer_questions(bundle, [(q, c) for q, c, _ in cases])
        ours_time = time.perf_counter() - start
    ours = [(r.answers[0].text, r.answers[0].start, r.answers[0].end, r.answers[0].score) for r in results]

    model = AutoModelForQuestionAnswering.from_pretrained(FIXTURE, dtype=torch.float32, local_files_only=True)
    pipe = pipeline("question-answering", model=model.eval(), tokenizer=AutoTokenizer.from_pretrained(FIXTURE))
    start = time.perf_counter()
    reference = []
    for question, context, _ in cases:
        out = pipe(question=question, context=context)
        reference.append((out["answer"], out["start"], out["end"], out["score"]))
    ref_time = time.perf_counter() - start

    same = sum(o[:3] == r[:3] and abs(o[3] - r[3]) <= 1e-4 for o, r in zip(ours, reference, strict=True))
    max_diff = max(abs(o[3] - r[3]) for o, r in zip(ours, reference, strict=True) if o[:3] == r[:3])
    ours_em, ours_f1 = score([o[0] for o in ours], golds)
    ref_em, ref_f1 = score([r[0] for r in reference], golds)
    print(f"{len(cases)} SQuAD v1.1 dev questions, {args.threads} threads")
    print(f"bertdesk:     EM {ours_em:.2f}  F1 {ours_f1:.2f}  ({ours_time:.1f} s, batched)")
    print(f"transformers: EM {ref_em:.2f}  F1 {ref_f1:.2f}  ({ref_time:.1f} s)")
    print(f"same answer (text, start, end; score within 1e-4): {same} of {len(cases)}; "
          f"largest score difference {max_diff:.1e}")
    return 0 if same == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
