"""Downloading a model from the Hugging Face Hub: verified, resumable, cancellable, then installed as a bundle.

The repository listing comes from huggingface_hub (`HfApi.model_info` with file metadata: each file's size, git blob
id and, for LFS files, sha256). The files are fetched with huggingface_hub's URLs, headers and HTTP session, in our
own chunk loop rather than through `hf_hub_download`, because that loop is where the issue's requirements live:
`handle.check()` between chunks cancels at once (hf_hub_download has no cancel hook), a partial file
`<name>.incomplete` in `models_dir()/.downloads/<owner>--<repo>/<commit>/` is resumed with a Range request after a
dropped connection or a restart, and every finished file is checked against the listing's checksum (sha256 for
LFS files, the git blob sha1 for small ones): huggingface_hub over plain HTTP checks sizes only, so a same-size
corrupted file would pass. A file that fails the check is deleted and fetched once more.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bertdesk.core.convert import TOKENIZER_FILES
from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.filesafety import storage_error, target_lock
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.models.catalog import CatalogEntry, find_entry
from bertdesk.core.models.imports import BY_HAND, LAYOUT_CHECKPOINT, LAYOUT_ONNX, free_target, install_folder
from bertdesk.core.paths import models_dir

#: Seconds to wait for a connection: an unreachable Hub fails at once instead of hanging.
CONNECT_TIMEOUT_S = 5.0
#: Seconds to wait for the next bytes of an open transfer.
READ_TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 16
#: Transfers resumed after a dropped connection before the download gives up (it can be run again to resume).
RESUMES = 3
DOWNLOADS = ".downloads"
PARTIAL_SUFFIX = ".incomplete"
#: Files fetched with a bundle when the repository has them: the tokenizer's side files, sentence-transformers
#: pooling and normalisation.
SIDE_FILES = (*TOKENIZER_FILES, "modules.json", "1_Pooling/config.json")


class ModelDownloadError(BertdeskError):
    """A download failed; `offline` when the Hub could not be reached at all."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


def is_offline_error(exc: BaseException) -> bool:
    """Whether `exc` says the Hub could not be reached (the window then offers Import folder…)."""
    return isinstance(exc, ModelDownloadError) and exc.offline


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository as its listing describes it."""

    path: str
    size: int
    #: The LFS object's sha256 (large files), else None.
    sha256: str | None
    #: The git blob id: the sha1 of "blob <size>\\0" + content (the check for small, non-LFS files).
    blob_id: str | None


_NAME_FAILURES = ("NameResolution", "Failed to resolve", "not known", "name resolution", "nodename nor servname")


def _reason(exc: BaseException) -> str:
    """A short cause of a failed connection: refused, a name that does not resolve, a time-out, offline mode."""
    import requests
    from huggingface_hub.errors import OfflineModeIsEnabled

    if isinstance(exc, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    inner = getattr(inner, "reason", None) or inner  # urllib3's MaxRetryError holds the cause
    text = str(inner)
    # Not a bare "resolve": every file URL holds /resolve/, so a refused transfer would pass for a DNS failure.
    if any(mark in type(inner).__name__ + text for mark in _NAME_FAILURES):
        return "the name cannot be resolved"
    if "refused" in text.lower():
        return "connection refused"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the connection broke off"
    return (text.splitlines() or [type(inner).__name__])[0][-120:]


def _offline(endpoint: str, exc: BaseException) -> ModelDownloadError:
    reason = _reason(exc)
    return ModelDownloadError(f"cannot reach the Hugging Face Hub at {endpoint} ({reason}). Without a connection, "
                              f"{BY_HAND}", offline=True)


def _endpoint(endpoint: str | None) -> str:
    """The Hub's address: `endpoint`, else HF_ENDPOINT as it is now (huggingface_hub reads it once, on import)."""
    from huggingface_hub import constants

    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


#: What a valid id looks like, said after what is wrong with an invalid one.
VALID_REPO_ID = "a valid one looks like BAAI/bge-small-en-v1.5 (owner/name)"
#: The longest part of an id shown in an error: the line stays short however long the id.
SHOWN_ID_CHARS = 40


def repo_id_problem(repo_id: str) -> str | None:
    """What is wrong with `repo_id` as a Hub model id, in a few words (huggingface_hub's rules), or None if it is
    valid."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        pass
    else:
        return None
    parts = repo_id.split("/")
    odd = sorted({c for c in repo_id if not (c.isalnum() or c in "-_./")})
    if not repo_id.strip():
        return "it is empty"
    if len(parts) > 2:
        return f"it has {len(parts) - 1} '/', one at most"
    if not all(parts):
        return "its owner or its name is empty"
    if odd:
        return f"it holds {', '.join(repr(c) for c in odd[:5])}: only letters, digits, '-', '_' and '.' may be used"
    if len(parts[-1]) > 96:
        return f"its name has {len(parts[-1])} characters, 96 at most"
    if any(p[0] in "-." or p[-1] in "-." for p in parts):
        return "its owner or name starts or ends with '-' or '.'"
    if "--" in repo_id or ".." in repo_id:
        return f"it holds {'--' if '--' in repo_id else '..'!r}"
    if repo_id.endswith(".git"):
        return "it ends with '.git'"
    return "huggingface_hub refuses it"


def check_repo_id(repo_id: str) -> None:
    """Raise a one-line ModelDownloadError (what is wrong, what a valid id looks like) unless `repo_id` is a valid
    Hub model id."""
    problem = repo_id_problem(repo_id)
    if problem is not None:
        shown = repo_id if len(repo_id) <= SHOWN_ID_CHARS else repo_id[:SHOWN_ID_CHARS] + "…"
        raise ModelDownloadError(f"{shown!r} is not a Hub model id ({problem}): {VALID_REPO_ID}")


def list_remote_files(repo_id: str, revision: str = "main", *,
                      endpoint: str | None = None) -> tuple[str, list[RemoteFile]]:
    """The commit `revision` points to and the repository's files with sizes and checksums."""
    import requests
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    check_repo_id(repo_id)
    endpoint = _endpoint(endpoint)
    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, revision=revision, files_metadata=True,
                                                   timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    except GatedRepoError:
        raise ModelDownloadError(f"{repo_id} is gated: accept its terms on the Hub and log in "
                                 "(`hf auth login`), or import a downloaded copy") from None
    except RepositoryNotFoundError:
        raise ModelDownloadError(f"there is no model repository {repo_id} on {endpoint} (or it is private)") from None
    except RevisionNotFoundError:
        raise ModelDownloadError(f"{repo_id} has no revision {revision!r}") from None
    except HfHubHTTPError as exc:
        raise ModelDownloadError(f"the Hub refused the listing of {repo_id}: {str(exc).splitlines()[0]}") from None
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
        raise _offline(endpoint, exc) from None
    files = [
        RemoteFile(s.rfilename, s.lfs.size if s.lfs else (s.size or 0), s.lfs.sha256 if s.lfs else None, s.blob_id)
        for s in info.siblings or []
    ]
    return info.sha or revision, files


def choose_files(repo_id: str, files: list[RemoteFile],
                 entry: CatalogEntry | None = None) -> tuple[str, list[RemoteFile]]:
    """The layout ("checkpoint" or "onnx") and the files to fetch: the catalogue's list, or, for another repository,
    a safetensors checkpoint if it has one (converted with per-layer internals), else its ONNX export; with the
    tokenizer's side files and pooling set-up that the repository has."""
    by_path = {f.path: f for f in files}
    if entry is not None:
        layout, needed = entry.layout, list(entry.files)
    elif "model.safetensors" in by_path or "model.safetensors.index.json" in by_path:
        layout = LAYOUT_CHECKPOINT
        index = "model.safetensors.index.json"
        shards = [p for p in by_path if p.startswith("model-") and p.endswith(".safetensors")]
        needed = ["config.json", "tokenizer.json", *(["model.safetensors"] if "model.safetensors" in by_path
                                                    else [index, *sorted(shards)])]
    else:
        graph = next((p for p in ("onnx/model.onnx", "model.onnx") if p in by_path), None)
        if graph is None:
            raise ModelDownloadError(f"{repo_id} has neither a safetensors checkpoint (model.safetensors) nor an ONNX "
                                     "export (onnx/model.onnx): bertdesk cannot run it")
        layout = LAYOUT_ONNX
        needed = ["config.json", "tokenizer.json", graph,
                  *(p for p in (graph + "_data", graph + ".data") if p in by_path)]
    missing = [p for p in needed if p not in by_path]
    if missing:
        raise ModelDownloadError(f"{repo_id} has no {', '.join(missing)}, which bertdesk needs")
    unsafe = [p for p in needed if not _plain_path(p)]
    if unsafe:
        raise ModelDownloadError(f"{repo_id} lists a file path that would be written outside its folder: {unsafe[0]!r}")
    needed += [p for p in SIDE_FILES if p in by_path and p not in needed]
    return layout, [by_path[p] for p in needed]


def _plain_path(path: str) -> bool:
    """Whether a repository path stays inside the download folder: relative, no "..", ".", empty parts or "\\"."""
    parts = path.split("/")
    return not path.startswith("/") and "\\" not in path and all(p not in ("", ".", "..") for p in parts)


def download_folder(repo_id: str, commit: str) -> Path:
    """Where the files of `repo_id` at `commit` are downloaded (and partial ones kept for resuming)."""
    return models_dir() / DOWNLOADS / repo_id.replace("/", "--") / commit


def _hex_digest(path: Path, digest: hashlib._Hash) -> str:
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, remote: RemoteFile, known_sha256: str | None = None) -> str | None:
    """Why the downloaded file does not match the listing (size, then checksum: sha256 for LFS files, the git blob
    id for others) or the catalogue's sha256, or None when it matches."""
    size = path.stat().st_size
    if size != remote.size:
        return f"{remote.path} has {size} bytes, the repository lists {remote.size}"
    if remote.sha256:
        sha256 = _hex_digest(path, hashlib.sha256())
        if sha256 != remote.sha256.lower():
            return f"{remote.path} does not match the repository's sha256 checksum"
    elif remote.blob_id:
        if _hex_digest(path, hashlib.sha1(b"blob %d\0" % size)) != remote.blob_id.lower():
            return f"{remote.path} does not match the repository's git blob checksum"
        sha256 = _hex_digest(path, hashlib.sha256()) if known_sha256 else None
    else:
        return f"the repository listing gives no checksum for {remote.path}"
    if known_sha256 and sha256 != known_sha256:
        return f"{remote.path} does not match the catalogue's sha256"
    return None


class _Progress:
    """Bytes done of all files, reported to the handle at most once per 0.5 % (and at each file's end, unless
    nothing changed)."""

    def __init__(self, handle: JobHandle, total: int) -> None:
        self.handle, self.total, self.done, self._shown = handle, max(total, 1), 0, -1.0

    def add(self, count: int, path: str, force: bool = False) -> None:
        self.done += count
        fraction = self.done / self.total
        if fraction - self._shown >= 0.005 or (force and fraction != self._shown):
            self._shown = fraction
            self.handle.progress(fraction, f"downloading {path} ({self.done / 1e6:.1f} of {self.total / 1e6:.1f} MB)")


def _transfer(url: str, partial: Path, remote: RemoteFile, progress: _Progress, handle: JobHandle) -> None:
    """Fetch the rest of `remote` into `partial` (resuming from its size); the caller checks the result."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    start = partial.stat().st_size if partial.is_file() else 0
    if start > remote.size:
        partial.unlink()
        start = 0
    if start == remote.size:
        return
    headers = build_hf_headers()
    if start:
        headers["Range"] = f"bytes={start}-"
    with get_session().get(url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) as reply:
        hf_raise_for_status(reply)
        if start and reply.status_code != 206:  # the server sent the whole file: start again
            progress.add(-start, remote.path)
            start = 0
        with partial.open("ab" if start else "wb") as out:
            for chunk in reply.iter_content(CHUNK_BYTES):
                handle.check()
                out.write(chunk)
                progress.add(len(chunk), remote.path)


def _fetch(url: str, folder: Path, remote: RemoteFile, progress: _Progress, handle: JobHandle, endpoint: str,
           known_sha256: str | None) -> None:
    """Download one file into `folder`, verified; a mismatch is deleted and fetched once more."""
    import requests
    from huggingface_hub.errors import HfHubHTTPError

    final = folder / remote.path
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    if final.is_file():
        if verify_file(final, remote, known_sha256) is None:
            progress.add(remote.size, remote.path, force=True)
            return
        final.unlink()
    final.parent.mkdir(parents=True, exist_ok=True)
    if partial.is_file():
        progress.add(min(partial.stat().st_size, remote.size), remote.path)
    for attempt in range(2):
        for resume in range(RESUMES + 1):
            try:
                _transfer(url, partial, remote, progress, handle)
            except HfHubHTTPError as exc:
                raise ModelDownloadError(f"the Hub refused {remote.path}: {str(exc).splitlines()[0]}") from None
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    ConnectionError) as exc:
                if resume == RESUMES:
                    raise ModelDownloadError(f"the download of {remote.path} from {endpoint} keeps failing "
                                             f"({_reason(exc)}): run the same download again to resume it, or "
                                             f"{BY_HAND}", offline=True) from None
                continue
            if partial.stat().st_size >= remote.size:
                break
        problem = verify_file(partial, remote, known_sha256)
        if problem is None:
            partial.rename(final)
            progress.add(0, remote.path, force=True)
            return
        progress.add(-partial.stat().st_size, remote.path)
        partial.unlink()
        if attempt == 1:
            raise ModelDownloadError(f"{problem} after a second download: the file was deleted; try again later, or "
                                     f"{BY_HAND}")


def download_files(repo_id: str, commit: str, files: Iterable[RemoteFile], *, endpoint: str | None = None,
                   handle: JobHandle | None = None, known_sha256: dict[str, str] | None = None) -> Path:
    """Download `files` of `repo_id` at `commit` into its download folder, each verified; returns the folder.

    Cancelling `handle` stops between chunks (JobCancelled) and keeps the partial file for the next attempt.
    """
    from huggingface_hub import hf_hub_url

    handle = ensure_handle(handle)
    endpoint = _endpoint(endpoint)
    files = list(files)
    folder = download_folder(repo_id, commit)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(f"cannot create the download folder {folder}", exc) from exc
    progress = _Progress(handle, sum(f.size for f in files))
    with target_lock(folder):
        for remote in files:
            handle.check()
            url = hf_hub_url(repo_id, remote.path, revision=commit, endpoint=endpoint)
            try:
                _fetch(url, folder, remote, progress, handle, endpoint, (known_sha256 or {}).get(remote.path))
            except OSError as exc:
                raise storage_error(f"cannot write {remote.path} into {folder}", exc) from exc
    return folder


def pull(repo_id: str, *, revision: str = "main", name: str | None = None, handle: JobHandle | None = None,
         endpoint: str | None = None) -> Path:
    """Download a model from the Hub and install it as `models_dir()/name`; returns the installed bundle folder.

    `name` defaults to the catalogue's name for the repository, else its last part. The repository is listed first
    (an unreachable Hub fails at once with a ModelDownloadError whose `offline` is set), then the files are
    downloaded with progress, cancel and resume (see the module's docstring), then installed: an ONNX export as it
    is, a safetensors checkpoint converted. The download folder is removed once the model is installed, or once it
    turns out not to be a model bertdesk can run; an interrupted or cancelled download is kept to be resumed.
    """
    handle = ensure_handle(handle)
    check_repo_id(repo_id)  # before the name made from it is checked
    try:
        entry = find_entry(repo_id)
    except BertdeskError:  # no readable catalogue: any repository can still be pulled by its id
        entry = None
    if name is None:
        name = entry.name if entry else repo_id.rstrip("/").split("/")[-1]
    free_target(name)  # refused before anything is downloaded
    handle.progress(0.0, f"listing {repo_id}")
    commit, remote = list_remote_files(repo_id, revision, endpoint=endpoint)
    layout, files = choose_files(repo_id, remote, entry)
    folder = download_files(repo_id, commit, files, endpoint=endpoint, handle=handle.sub(0.0, 0.8),
                            known_sha256=entry.sha256 if entry else None)
    origin = {"kind": "hub", "repo_id": repo_id, "revision": revision, "commit": commit,
              "endpoint": _endpoint(endpoint)}
    try:
        target = install_folder(folder, name, origin=origin, handle=handle.sub(0.8, 1.0), layout=layout)
    except JobCancelled:
        raise
    except BertdeskError:
        _remove_download(folder)
        raise
    _remove_download(folder)
    return target


def _remove_download(folder: Path) -> None:
    """Delete a finished download folder, and the repository's and the downloads' folders once they are empty."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()
        folder.parent.parent.rmdir()
