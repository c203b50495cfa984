"""Classification throughput: bertdesk's streaming batch vs transformers' text-classification pipeline, on the
SST-2 sentiment fixture (../shared/fixtures/minilm-l6-sst2) over SST-2 dev (872 rows), in the same process.

    python bench/classify_throughput.py [--threads N] [--batch 32] [--repeat 2]

bertdesk converts the fixture with its own converter and classifies the rows as `classify --file` does (chunks of
256 rows sorted by length, batches of at most 32); it is also timed with plain in-order batches of 32, the way the
pipeline batches them (`batch_size=32`, every label, `top_k=None`). Prints rows/s, the ratio, each side's accuracy
against the gold labels and the largest probability difference. transformers and torch are test-only extras.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
SHARED = ROOT.parent / "shared"


def sst2_dev() -> tuple[list[str], list[int]]:
    """SST-2 dev sentences and gold labels (0 negative, 1 positive)."""
    with (SHARED / "data" / "sst2-dev.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row["content"] for row in rows], [int(row["label"]) for row in rows]


def best_time(fn, repeat: int):
    """(best wall time of `repeat` runs after one warm-up, the last result)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import numpy as np
    import torch
    import transformers

    from bertdesk.core.bundle import Bundle
    from bertdesk.core.classify.batch import classify_stream
    from bertdesk.core.classify.heads import HeadClassifier, classify
    from bertdesk.core.convert import convert_checkpoint

    checkpoint = SHARED / "fixtures" / "minilm-l6-sst2"
    if not checkpoint.is_dir():
        sys.exit(f"{checkpoint} is absent: the benchmark needs the SST-2 fixture")
    torch.set_num_threads(args.threads)
    texts, gold = sst2_dev()
    labels = ["NEGATIVE", "POSITIVE"]

    with tempfile.TemporaryDirectory() as tmp:
        bundle = Bundle(convert_checkpoint(checkpoint, Path(tmp) / "sst2"), threads=args.threads)
        scorer = HeadClassifier(bundle)
        stream_time, ours = best_time(lambda: list(classify_stream(scorer, texts, batch_rows=args.batch)), args.repeat)
        plain_time, _ = best_time(lambda: classify(bundle, texts, batch_size=args.batch).rows, args.repeat)

    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        checkpoint, local_files_only=True, dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    ref_time, reference = best_time(lambda: pipe(texts, batch_size=args.batch, top_k=None), args.repeat)

    ours_probs = np.array([[{s.label: s.probability for s in row.scores}[label] for label in labels] for row in ours])
    ref_probs = np.array([[{d["label"]: d["score"] for d in row}[label] for label in labels] for row in reference])
    gold = np.array(gold)
    print(f"bertdesk classify benchmark — minilm-l6-sst2 (fp16 weights run in fp32), SST-2 dev {len(texts)} rows, "
          f"batch {args.batch}, {args.threads} thread(s)")
    print(f"max probability difference vs the pipeline: {np.abs(ours_probs - ref_probs).max():.2e}")
    print(f"{'':34}{'rows/s':>10}{'accuracy':>10}")
    print(f"{'bertdesk stream (length-sorted)':34}{len(texts) / stream_time:10.1f}"
          f"{(ours_probs.argmax(1) == gold).mean():10.4f}")
    print(f"{'bertdesk classify (in order)':34}{len(texts) / plain_time:10.1f}")
    print(f"{'transformers pipeline':34}{len(texts) / ref_time:10.1f}{(ref_probs.argmax(1) == gold).mean():10.4f}")
    print(f"throughput ratio bertdesk stream / pipeline: {ref_time / stream_time:.2f}x; "
          f"in-order batches / pipeline: {ref_time / plain_time:.2f}x")


if __name__ == "__main__":
    main()
