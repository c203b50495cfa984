"""Classification throughput: bertdesk's streaming batch vs transformers' text-classification pipeline, on the
SST-2 sentiment fixture (../shared/fixtures/minilm-l6-sst2) over SST-2 dev (872 rows), in the same process.

    python bench/classify_throughput.py [--threads N] [--batch 32] [--repeat 3] [--rows 872]

bertdesk converts the fixture with its own converter and classifies the rows as `classify --file` does (chunks of
256 rows cut into length buckets under core.batching's token budget, the last layer run for the [CLS] row alone);
it is also timed with every token of the last layer computed (the lean session), to show what the [CLS]-only
session saves. The pipeline runs `batch_size=--batch`, every label (`top_k=None`). The sides are timed in turn,
round after round, so load changes on a shared machine hit them alike. Prints rows/s, the ratios, each side's
accuracy against the gold labels and the largest probability difference. transformers and torch are test-only
extras.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
SHARED = ROOT.parent / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=32, help="the pipeline's batch size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=872)
    args = parser.parse_args()

    import numpy as np
    import torch
    import transformers
    from embedding_throughput import interleaved, sst2_dev

    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.classify.batch import classify_stream
    from bertdesk.core.classify.heads import HeadClassifier, apply_function
    from bertdesk.core.conversion.convert import convert_checkpoint

    class AllTokensClassifier(HeadClassifier):
        """The same head fed by the lean session: the last layer over every token, as before the [CLS]-only one."""

        def score(self, batch, handle=None):
            logits = self.run(batch, handle, ("logits", "last_hidden_state"))["logits"]
            return logits, apply_function(logits, self.method)

    checkpoint = SHARED / "fixtures" / "minilm-l6-sst2"
    if not checkpoint.is_dir():
        sys.exit(f"{checkpoint} is absent: the benchmark needs the SST-2 fixture")
    torch.set_num_threads(args.threads)
    os.environ["BERTDESK_THREADS"] = str(args.threads)  # the thread budget, as the CLI sets it
    texts, gold = (part[:args.rows] for part in sst2_dev())
    labels = ["NEGATIVE", "POSITIVE"]

    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        checkpoint, local_files_only=True, dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Bundle(convert_checkpoint(checkpoint, Path(tmp) / "sst2"), threads=args.threads)
        scorer, all_tokens = HeadClassifier(bundle), AllTokensClassifier(bundle)
        results = interleaved({
            "bertdesk stream, [CLS]-only last layer": lambda: list(classify_stream(scorer, texts)),
            "bertdesk stream, lean (all tokens)": lambda: list(classify_stream(all_tokens, texts)),
            "transformers pipeline": lambda: pipe(texts, batch_size=args.batch, top_k=None),
        }, args.repeat)

    ours, lean, reference = (result for _, result in results.values())
    ours_probs = np.array([[{s.label: s.probability for s in row.scores}[label] for label in labels] for row in ours])
    lean_probs = np.array([[{s.label: s.probability for s in row.scores}[label] for label in labels] for row in lean])
    ref_probs = np.array([[{d["label"]: d["score"] for d in row}[label] for label in labels] for row in reference])
    accuracy = {"bertdesk stream, [CLS]-only last layer": ours_probs, "transformers pipeline": ref_probs}
    ref_time = results["transformers pipeline"][0]
    print(f"bertdesk classify benchmark — minilm-l6-sst2 (fp16 weights run in fp32), SST-2 dev {len(texts)} rows, "
          f"pipeline batch {args.batch}, {args.threads} thread(s), best of {args.repeat} interleaved rounds")
    print(f"max probability difference vs the pipeline: {np.abs(ours_probs - ref_probs).max():.2e}; "
          f"[CLS]-only vs all tokens: {np.abs(ours_probs - lean_probs).max():.2e}")
    print(f"{'':40}{'rows/s':>10}{'vs pipeline':>13}{'accuracy':>10}")
    for name, (seconds, _) in results.items():
        correct = f"{(accuracy[name].argmax(1) == np.array(gold)).mean():10.4f}" if name in accuracy else ""
        print(f"{name:40}{len(texts) / seconds:10.1f}{ref_time / seconds:12.2f}x{correct}")


if __name__ == "__main__":
    main()
