"""The catalogue of recommended public models (models/catalog.toml): what each is for, where it is on the Hub."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bertdesk.core.bundles.config import TASK_CLASSIFICATION, TASK_ENCODER, TASK_QA
from bertdesk.core.errors import BertdeskError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has the tomli backport (a dependency there)
    import tomli as tomllib


def _catalogue_file() -> Path:
    """models/catalog.toml of a checkout; in an installed wheel, the copy shipped as bertdesk/catalog/catalog.toml."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "models" / "catalog.toml"
    return checkout if checkout.is_file() else here.parents[2] / "catalog" / "catalog.toml"


#: The catalogue of recommended models.
CATALOG_PATH = _catalogue_file()
LAYOUTS = ("checkpoint", "onnx")
TASKS = (TASK_QA, TASK_CLASSIFICATION, TASK_ENCODER)
_TEXT_FIELDS = ("name", "repo_id", "revision", "task", "layout", "licence", "purpose")


@dataclass(frozen=True)
class CatalogEntry:
    """One recommended model: where it is on the Hub, what it is, and which files make its bundle."""

    name: str
    repo_id: str
    revision: str
    task: str
    layout: str
    licence: str
    size_mb: int
    purpose: str
    files: tuple[str, ...]
    #: Known sha256 of some files by path; every file is also checked against the repository listing.
    sha256: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        data = asdict(self)
        data["files"] = list(self.files)
        return data


def _entry(raw: object, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise BertdeskError(f"{where} is not a table")
    missing = [name for name in (*_TEXT_FIELDS, "size_mb", "files") if name not in raw]
    if missing:
        raise BertdeskError(f"{where} lacks {', '.join(missing)}")
    bad = [name for name in _TEXT_FIELDS if not isinstance(raw[name], str) or not raw[name].strip()]
    if bad:
        raise BertdeskError(f"{where}: {', '.join(bad)} must be non-empty text")
    if raw["task"] not in TASKS or raw["layout"] not in LAYOUTS:
        raise BertdeskError(f"{where}: task must be one of {', '.join(TASKS)} and layout one of {', '.join(LAYOUTS)}")
    files, sha256 = raw["files"], raw.get("sha256", {})
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        raise BertdeskError(f"{where}: files must be a list of file paths")
    if not isinstance(sha256, dict) or not all(isinstance(v, str) for v in sha256.values()):
        raise BertdeskError(f"{where}: sha256 must map file paths to hex digests")
    if not isinstance(raw["size_mb"], int) or isinstance(raw["size_mb"], bool):
        raise BertdeskError(f"{where}: size_mb must be a whole number")
    return CatalogEntry(**{name: raw[name] for name in _TEXT_FIELDS}, size_mb=raw["size_mb"], files=tuple(files),
                        sha256={k: v.lower() for k, v in sha256.items()})


def read_catalog(path: Path = CATALOG_PATH) -> list[CatalogEntry]:
    """The entries of a catalogue file, in its order; BertdeskError in one line if it is missing or malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BertdeskError(f"cannot read the model catalogue {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BertdeskError(f"the model catalogue {path} is not valid TOML: {exc}") from exc
    models = data.get("model", [])
    if not isinstance(models, list):
        raise BertdeskError(f"the model catalogue {path}: [[model]] entries expected")
    entries = [_entry(raw, f"{path} entry {i + 1}") for i, raw in enumerate(models)]
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BertdeskError(f"the model catalogue {path} names {', '.join(duplicates)} more than once")
    return entries


def catalog_entries() -> list[CatalogEntry]:
    """The recommended models of the shipped catalogue (models/catalog.toml)."""
    return read_catalog(CATALOG_PATH)


def find_entry(repo_id: str, entries: list[CatalogEntry] | None = None) -> CatalogEntry | None:
    """The catalogue entry for a Hub repository id (case-insensitive), or None."""
    wanted = repo_id.lower()
    return next((e for e in (entries if entries is not None else catalog_entries()) if e.repo_id.lower() == wanted),
                None)
