"""Question answering over one long document: bertdesk vs transformers' QA pipeline, same model, same run.

The SQuAD articles of ../shared/data joined into one context of at least --words words; several questions about it.
Both sides load the fine-tuned fixture (bertdesk converts it once with its own converter), answer every question over
the whole document (max_seq_len 384, doc_stride 128), and must give the same answers. Printed: words, tokens,
windows, each side's load and answering time, the whole-process ratio, and with --int8 the bundle's own int8 variant
(made by `bertdesk.core.conversion.quantize.quantize_bundle`, as `bertdesk quantize` does, and opened with
`open_model(..., precision="int8")`, as `qa --precision int8` does) with its speed and its agreement with fp32.

    .venv/bin/python bench/qa_long_document.py --threads 2 [--int8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURE = SHARED / "fixtures" / "minilm-l6-squad"
DATA = SHARED / "data" / "squad-v1.1-dev-half-a.json"
QUESTIONS_PER_ARTICLE = 2


def long_document(min_words: int) -> tuple[str, list[str]]:
    """Whole articles joined until the text has `min_words` words, and the first questions of each article."""
    articles = json.loads(DATA.read_text(encoding="utf-8"))["data"]
    paragraphs: list[str] = []
    questions: list[str] = []
    for article in articles:
        paragraphs += [p["context"] for p in article["paragraphs"]]
        questions += [qa["question"] for qa in article["paragraphs"][0]["qas"][:QUESTIONS_PER_ARTICLE]]
        if sum(len(p.split()) for p in paragraphs) >= min_words:
            break
    return "\n\n".join(paragraphs), questions


def run_bertdesk(folder: Path, precision: str, context: str, questions: list[str]) -> tuple[float, float, list, int,
                                                                                        float]:
    """Open the bundle's `precision` graph as the CLI does and answer every question over the whole document: load
    and answer wall times, answers, windows per question, and the process CPU time of load and answer."""
    from bertdesk.core.bundles.bundle import open_model
    from bertdesk.core.qa import answer_question

    start, cpu = time.perf_counter(), time.process_time()
    bundle = open_model(folder, precision=precision)
    bundle.session()
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    results = [answer_question(bundle, q, context) for q in questions]
    answers = [[(a.text, a.start, a.end, a.score) for a in r.answers] for r in results]
    return loaded, time.perf_counter() - start, answers, results[0].windows_total, time.process_time() - cpu


def run_pipeline(context: str, questions: list[str], threads: int) -> tuple[float, float, list, float]:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

    torch.set_num_threads(threads)
    start, cpu = time.perf_counter(), time.process_time()
    model = AutoModelForQuestionAnswering.from_pretrained(FIXTURE, dtype=torch.float32, local_files_only=True)
    pipe = pipeline("question-answering", model=model.eval(), tokenizer=AutoTokenizer.from_pretrained(FIXTURE))
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    answers = []
    for question in questions:
        out = pipe(question=question, context=context)
        answers.append([(out["answer"], out["start"], out["end"], out["score"])])
    return loaded, time.perf_counter() - start, answers, time.process_time() - cpu


def same(ours: list, reference: list, tolerance: float = 1e-4) -> bool:
    return [a[:3] for a in ours] == [r[:3] for r in reference] and all(
        abs(a[3] - r[3]) <= tolerance for a, r in zip(ours, reference, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=15_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--questions", type=int, help="only the first N questions (the pipeline takes minutes each)")
    parser.add_argument("--int8", action="store_true",
                        help="also time the bundle's int8 variant and its agreement with fp32")
    args = parser.parse_args()
    os.environ["BERTDESK_THREADS"] = str(args.threads)  # read by the thread budget when the first bundle runs
    if not FIXTURE.is_dir():
        print(f"{FIXTURE} is absent", file=sys.stderr)
        return 2
    context, questions = long_document(args.words)
    questions = questions[: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        from bertdesk.core.conversion.convert import convert_checkpoint

        folder = convert_checkpoint(FIXTURE, Path(tmp) / "minilm-l6-squad")
        ours_load, ours_time, ours, windows, ours_cpu = run_bertdesk(folder, "fp32", context, questions)
        ref_load, ref_time, reference, ref_cpu = run_pipeline(context, questions, args.threads)
        agree = sum(same(o[:1], r) for o, r in zip(ours, reference, strict=True))
        from bertdesk.core.bundles.tokenizer import load_tokenizer  # the file's own truncation (at 128) switched off

        tokens = len(load_tokenizer(folder / "tokenizer.json").encode(context, add_special_tokens=False))
        print(f"document: {len(context.split())} words, {tokens} tokens, {windows} windows per question; "
              f"{len(questions)} questions; {args.threads} threads")
        print(f"bertdesk fp32:  load {ours_load:6.2f} s, answer {ours_time:7.2f} s ({ours_time / len(questions):.2f} s "
              "per question)")
        print(f"transformers:   load {ref_load:6.2f} s, answer {ref_time:7.2f} s ({ref_time / len(questions):.2f} s "
              "per question)")
        print(f"same answers (text, start, end; score within 1e-4): {agree} of {len(questions)}")
        print(f"ratio (load + answer): {(ref_load + ref_time) / (ours_load + ours_time):.2f}x; "
              f"answering only: {ref_time / ours_time:.2f}x; process CPU time (robust to other load on the machine): "
              f"{ref_cpu:.0f} s vs {ours_cpu:.0f} s = {ref_cpu / ours_cpu:.2f}x")
        if args.int8:
            from bertdesk.core.conversion.quantize import quantize_bundle

            record = quantize_bundle(folder)
            q_load, q_time, quantized, _, q_cpu = run_bertdesk(folder, "int8", context, questions)
            top1 = sum(q[0][:3] == o[0][:3] for q, o in zip(quantized, ours, strict=True))
            print(f"int8 variant: sample answer agreement {record['agreement'].get('answer_agreement')}")
            print(f"bertdesk int8:  load {q_load:6.2f} s, answer {q_time:7.2f} s; ratio to transformers "
                  f"{(ref_load + ref_time) / (q_load + q_time):.2f}x, answering only {ref_time / q_time:.2f}x, "
                  f"CPU time {ref_cpu / q_cpu:.2f}x; "
                  f"same top answer (text, start, end) as fp32: {top1} of {len(questions)}")
    return 0 if agree == len(questions) else 1


if __name__ == "__main__":
    sys.exit(main())
