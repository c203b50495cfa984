"""Where the time goes: onnxruntime's profiler over the fp32 and int8 lean graphs of all-MiniLM-L6-v2, SST-2 dev.

Both graphs embed the 872 sentences of ../shared/data/sst2-dev.tsv in the same length buckets the app uses, one after
the other in the same process and at the same thread count, with `SessionOptions.enable_profiling`; printed per graph:
the wall time, the summed kernel time and each operator type's share of it (operator types as onnxruntime runs them,
after its fusions: MatMulIntegerToFloat, DynamicQuantizeLinear, FusedMatMul, …), largest first.

    .venv/bin/python bench/int8_profile.py --threads 1 [--int8-graph PATH]
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "all-MiniLM-L6-v2"
DATA = ROOT.parent / "shared" / "data" / "sst2-dev.tsv"


def sentences() -> list[str]:
    """The SST-2 dev sentences."""
    with DATA.open(encoding="utf-8", newline="") as f:
        return [row["content"] for row in csv.DictReader(f, delimiter="\t")]


def profile(graph: Path, buckets: list, threads: int, folder: Path) -> tuple[float, dict[str, float]]:
    """Run every bucket through `graph`'s lean session with the profiler on: wall seconds and kernel µs by op type."""
    import onnxruntime as ort

    from bertdesk.core.bundles.graph import lean_session

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.enable_profiling = True
    options.profile_file_prefix = str(folder / graph.stem)
    session = lean_session(graph, options)
    inputs = {i.name for i in session.get_inputs()}
    start = time.perf_counter()
    for bucket in buckets:
        feed = {"input_ids": bucket.input_ids, "attention_mask": bucket.attention_mask,
                "token_type_ids": bucket.token_type_ids}
        session.run(["last_hidden_state"], {k: v for k, v in feed.items() if k in inputs})
    wall = time.perf_counter() - start
    events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    kernels: dict[str, float] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time"):
            kernels[event["args"]["op_name"]] += event["dur"]
    return wall, dict(kernels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--int8-graph", type=Path, default=MODEL / "onnx" / "model_quantized.onnx",
                        help="the int8 graph to profile (default: the bundle's own variant)")
    parser.add_argument("--top", type=int, default=10, help="operator types listed per graph")
    args = parser.parse_args()

    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.engine.batching import bucket_texts

    if not args.int8_graph.is_file():
        print(f"{args.int8_graph} does not exist: make it with `python -m bertdesk quantize {MODEL}`", file=sys.stderr)
        return 2
    bundle = Bundle(MODEL, threads=args.threads)
    buckets = list(bucket_texts(bundle.model_tokenizer, sentences(), token_budget=1024, max_rows=16))
    tokens = sum(int(b.attention_mask.size) for b in buckets)
    print(f"{len(sentences())} SST-2 dev sentences in {len(buckets)} buckets ({tokens} padded tokens), "
          f"{args.threads} thread(s)")
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, graph in (("fp32", MODEL / "model.onnx"), ("int8", args.int8_graph)):
            wall, kernels = profile(graph, buckets, args.threads, Path(tmp))
            walls[name] = wall
            total = sum(kernels.values())
            print(f"\n{name} ({graph.relative_to(ROOT) if graph.is_relative_to(ROOT) else graph}): wall {wall:.2f} s, "
                  f"kernel time {total / 1e6:.2f} s")
            for op, micros in sorted(kernels.items(), key=lambda kv: -kv[1])[:args.top]:
                print(f"  {op:28s} {micros / 1e6:7.2f} s  {100 * micros / total:5.1f}%")
    print(f"\nint8 speed-up over fp32 (wall, same run): {walls['fp32'] / walls['int8']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
