"""Precision variants as the window shows them (fp32, int8 with its measured agreement), and the user's choice of
precision for each model, kept in a small JSON file of the data folder."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bertdesk.core.bundles import PRECISIONS
from bertdesk.core.errors import BertdeskError
from bertdesk.core.files import data_dir

if TYPE_CHECKING:
    from bertdesk.core.bundles import BundleInfo

logger = logging.getLogger(__name__)

#: The file (in the data folder) that remembers which models the user runs at int8.
CHOICES_NAME = "model-precision.json"
DEFAULT_PRECISION = "fp32"
_ORDER = {"fp32": 0, "fp16": 1, "int8": 2}

#: What the precisions and the agreement figures mean, in the words the window uses.
PRECISION_HELP = (
    "fp32 is the model as trained, 32-bit floating point; int8 is a copy with 8-bit weights, about a third of the "
    "size and faster on a CPU. Agreement is how closely int8 matches fp32 on sample sentences: cosine 1.000 means "
    "the same sentence vectors, “same label” the share of texts given the same label."
)


def precisions(info: BundleInfo) -> list[str]:
    """The precisions a bundle has graphs for, fp32 first ("fp32", "int8"; "fp16" where an export has one)."""
    found = {detail.get("precision", "") for detail in info.variant_details.values()} | {info.precision}
    return sorted((p for p in found if p), key=lambda p: (_ORDER.get(p, len(_ORDER)), p))


def precision_note(info: BundleInfo) -> str:
    """The precision in use and the others available: "fp32", "fp32; int8 available", "int8; fp32 available"."""
    others = [p for p in precisions(info) if p != info.precision]
    return info.precision + (f"; {', '.join(others)} available" if others else "")


def int8_record(info: BundleInfo) -> dict | None:
    """The record bertdesk wrote for the bundle's int8 variant (how it was made, its agreement), if any."""
    for detail in info.variant_details.values():
        if detail.get("precision") == "int8":
            return detail
    return None


def agreement_text(agreement: dict | None, *, short: bool = False) -> str:
    """The measured agreement of a variant with fp32 in words: "cosine 0.994 (min 0.979), same label 100%, largest
    difference in one logits value 4.67 (27 samples)"; `short` gives just the cosine and the label or answer
    agreement."""
    if not isinstance(agreement, dict) or not isinstance(agreement.get("cosine_mean"), (int, float)):
        return "agreement not measured"
    parts = [f"cosine {agreement['cosine_mean']:.3f}"]
    if not short and isinstance(agreement.get("cosine_min"), (int, float)):
        parts[0] += f" (min {agreement['cosine_min']:.3f})"
    for key, words in (("label_agreement", "same label"), ("answer_agreement", "same answer")):
        if isinstance(agreement.get(key), (int, float)):
            parts.append(f"{words} {agreement[key]:.0%}")
    if not short:
        if isinstance(agreement.get("max_abs_diff"), (int, float)):
            output = agreement.get("output") if isinstance(agreement.get("output"), str) else "output"
            parts.append(f"largest difference in one {output} value {agreement['max_abs_diff']:.3g}")
        if isinstance(agreement.get("samples"), int):
            parts[-1] += f" ({agreement['samples']} samples)"
    return ", ".join(parts)


def variants_text(info: BundleInfo, *, short: bool = False) -> str:
    """Every precision of the bundle, int8 with its agreement: "fp32 · int8 (cosine 0.994)"."""
    record = int8_record(info)
    parts = []
    for precision in precisions(info):
        if precision == "int8":
            measured = agreement_text(record.get("agreement") if record else None, short=short)
            parts.append(f"int8 ({measured})")
        else:
            parts.append(precision)
    return " · ".join(parts)


class PrecisionChoices:
    """The precision the user picked for each model (by bundle folder); fp32, the default, is not stored.

    Kept in `data_dir()/model-precision.json` (or `path`), written atomically on every change; a file that cannot
    be read is logged and treated as empty (fp32 everywhere), never written over by accident of a bad read.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._choices: dict[str, str] | None = None
        self._writable = True

    def path(self) -> Path:
        """The JSON file holding the choices."""
        if self._path is None:
            self._path = data_dir() / CHOICES_NAME
        return self._path

    def _load(self) -> dict[str, str]:
        if self._choices is not None:
            return self._choices
        self._choices = {}
        try:
            path = self.path()
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self._choices
        except (OSError, ValueError, BertdeskError) as exc:
            logger.warning("Could not read the models' precision choices: %s", exc)
            self._writable = False
            return self._choices
        if isinstance(data, dict):
            self._choices = {k: v for k, v in data.items() if isinstance(k, str) and v in PRECISIONS}
        return self._choices

    def snapshot(self) -> dict[str, str]:
        """A copy of every choice that is not fp32, by bundle folder."""
        return dict(self._load())

    def get(self, folder: str) -> str:
        """The precision chosen for the bundle at `folder` (fp32 unless int8 was picked)."""
        return self._load().get(folder, DEFAULT_PRECISION)

    def set(self, folder: str, precision: str) -> None:
        """Remember `precision` for the bundle at `folder`; written at once."""
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}")
        choices = self._load()
        if precision == DEFAULT_PRECISION:
            choices.pop(folder, None)
        else:
            choices[folder] = precision
        self._save()

    def move(self, old: str, new: str | None) -> None:
        """The bundle at `old` was renamed to `new` (or removed: None); its choice follows it."""
        choices = self._load()
        if old not in choices:
            return
        precision = choices.pop(old)
        if new is not None:
            choices[new] = precision
        self._save()

    def _save(self) -> None:
        if not self._writable:
            return
        try:
            path = self.path()
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self._load(), indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, path)
        except (OSError, BertdeskError) as exc:
            logger.error("Could not save the models' precision choices: %s", exc)
