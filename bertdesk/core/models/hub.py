"""Downloading a model from the Hugging Face Hub: verified, resumable, cancellable, then installed as a bundle.

The repository listing is the Hub's model-info answer with file metadata (each file's size, git blob id and, for
LFS files, sha256), requested as `HfApi.model_info` does but parsed here (its ModelInfo fails on a malformed one with
TypeErrors and KeyErrors). The files are fetched with huggingface_hub's URLs, headers and HTTP session, in our
own chunk loop rather than through `hf_hub_download`, because that loop is where the issue's requirements live:
`handle.check()` between chunks cancels at once (hf_hub_download has no cancel hook), a partial file
`<name>.incomplete` in `models_dir()/.downloads/<owner>--<repo>/<commit>/` is resumed with a Range request after a
dropped connection or a restart, and every finished file is checked against the listing's checksum (sha256 for
LFS files, the git blob sha1 for small ones): huggingface_hub over plain HTTP checks sizes only, so a same-size
corrupted file would pass. A file that fails the check is deleted and fetched once more.

Everything the server says is untrusted. The listing is fetched and parsed here, only the fields used, each checked
(a commit id of 40 hexadecimal digits, plain relative file names, bounded sizes, well-formed checksums); paths are
built from checked parts only and never lead through a symbolic link; a body is read no further than the listed size
and within a deadline; a redirect must stay on http(s) and not loop. Only a download folder that holds the marker
file bertdesk wrote when it made it is ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit

from bertdesk.core.bundles.names import TOKENIZER_FILES
from bertdesk.core.errors import BertdeskError, DownloadAgain, ImportFolder, JobCancelled, Remedy
from bertdesk.core.files.folders import models_dir
from bertdesk.core.files.hashing import hex_digest
from bertdesk.core.files.safety import storage_error, target_lock
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.models.catalog import CatalogEntry, find_entry
from bertdesk.core.models.imports import LAYOUT_CHECKPOINT, LAYOUT_ONNX, free_target, install_folder

if TYPE_CHECKING:
    import requests

#: Seconds to wait for a connection: an unreachable Hub fails at once instead of hanging.
CONNECT_TIMEOUT_S = 5.0
#: Seconds to wait for the next bytes of an open transfer.
READ_TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 16
#: Transfers resumed after a dropped connection before the download gives up (it can be run again to resume).
RESUMES = 3
DOWNLOADS = ".downloads"
PARTIAL_SUFFIX = ".incomplete"
#: Written into a download folder when bertdesk makes it: only a folder that holds it is ever deleted.
MARKER = ".bertdesk-download"
#: The largest file size a listing may give (1 TiB): beyond it the listing is malformed.
MAX_FILE_BYTES = 1 << 40
#: The largest listing read (a repository of ~100,000 files); a longer one is refused.
LISTING_MAX_BYTES = 32 << 20
#: Seconds allowed for the whole listing to arrive.
LISTING_DEADLINE_S = 120.0
#: The most of an error or redirect answer's body that is read (for the error message); the rest is dropped.
SMALL_BODY_BYTES = 64 << 10
#: Redirects followed before a request counts as redirected in a loop.
MAX_REDIRECTS = 10
#: Each file's deadline: this many seconds, plus its size at MIN_BYTES_PER_S (a stalled or dripping server fails).
FILE_DEADLINE_FLOOR_S = 300.0
MIN_BYTES_PER_S = 32 << 10
#: Files fetched with a bundle when the repository has them: the tokenizer's side files, sentence-transformers
#: pooling and normalisation.
SIDE_FILES = (*TOKENIZER_FILES, "modules.json", "1_Pooling/config.json")


class ModelDownloadError(BertdeskError):
    """A download failed; `offline` when the Hub could not be reached at all."""

    def __init__(self, message: str, *remedies: Remedy, offline: bool = False) -> None:
        super().__init__(message, *remedies)
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
    return ModelDownloadError(f"cannot reach the Hugging Face Hub at {endpoint} ({reason})", ImportFolder(),
                              offline=True)


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


def _shown(value: object) -> str:
    """`value` as a short repr for an error line: escaped, cut at SHOWN_ID_CHARS characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_ID_CHARS else text[:SHOWN_ID_CHARS] + "…"


def _hex(value: object, digits: int) -> str | None:
    """`value` in lower case if it is a string of exactly `digits` hexadecimal digits, else None."""
    if isinstance(value, str) and re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", value):
        return value.lower()
    return None


def _chunks(reply: requests.Response, deadline: float, too_slow: str) -> Iterator[bytes]:
    """The body of `reply` as it arrives, one socket read at a time, so that a server dripping bytes meets the
    deadline (a ModelDownloadError saying `too_slow`); urllib3's errors become requests' as in `iter_content`."""
    import requests
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

    while True:
        if time.monotonic() > deadline:
            raise ModelDownloadError(too_slow, DownloadAgain(), ImportFolder())
        try:
            chunk = reply.raw.read1(CHUNK_BYTES, decode_content=True)
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except ReadTimeoutError as exc:
            raise requests.ConnectionError(exc) from None
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        if not chunk:
            return
        yield chunk


def _guard(what: str, deadline: float) -> Callable[..., requests.Response]:
    """A requests response hook for fetching `what`: a redirect must lead to an http(s) address and not loop (a
    one-line ModelDownloadError), and the body of a redirect or an error answer is read here, at most
    SMALL_BODY_BYTES of it (requests and huggingface_hub read such bodies whole)."""
    seen: list[str] = []

    def hook(reply: requests.Response, **_: object) -> requests.Response:
        if reply.is_redirect:
            try:
                target = urljoin(reply.url, reply.headers["location"])
                scheme = urlsplit(target).scheme.lower()
            except ValueError:
                target, scheme = reply.headers["location"], ""
            if scheme not in ("http", "https"):
                reply.close()
                raise ModelDownloadError(f"the server redirected {what} to {_shown(target)}, which is not an http(s) "
                                         "address: refused")
            if target in seen or len(seen) >= MAX_REDIRECTS:
                reply.close()
                raise ModelDownloadError(f"the server redirected {what} in a loop ({len(seen) + 1} redirects)")
            seen.append(reply.url)
        if reply.is_redirect or reply.status_code >= 400:
            body = bytearray()
            for chunk in _chunks(reply, deadline, f"the server took too long to answer for {what}"):
                body += chunk[:SMALL_BODY_BYTES - len(body)]
                if len(body) >= SMALL_BODY_BYTES:
                    break
            reply.close()  # before the body counts as read: closing then drops the connection and its unread rest
            reply._content, reply._content_consumed = bytes(body), True  # what `reply.content` gives from now on
        return reply

    return hook


def _get(url: str, what: str, deadline: float, **kwargs: object) -> requests.Response:
    """GET `url` with huggingface_hub's session, streamed, time-outs set and the redirect guard."""
    from huggingface_hub.utils import get_session

    return get_session().get(url, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                             hooks={"response": _guard(what, deadline)}, **kwargs)


def list_remote_files(repo_id: str, revision: str = "main", *,
                      endpoint: str | None = None) -> tuple[str, list[RemoteFile]]:
    """The commit `revision` points to and the repository's files with sizes and checksums.

    The listing (huggingface_hub's `model_info` request) is read here, bounded in size and time, and only the fields
    used are taken from it, each checked: anything malformed is a one-line ModelDownloadError.
    """
    import requests
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

    check_repo_id(repo_id)
    endpoint = _endpoint(endpoint)
    url = f"{endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}"
    what = f"the listing of {repo_id}"
    deadline = time.monotonic() + LISTING_DEADLINE_S
    try:
        with _get(url, what, deadline, headers=build_hf_headers(), params={"blobs": True}) as reply:
            hf_raise_for_status(reply)
            body = bytearray()
            for chunk in _chunks(reply, deadline, f"the Hub took more than {LISTING_DEADLINE_S:.0f} s to send {what}"):
                body += chunk
                if len(body) > LISTING_MAX_BYTES:
                    raise ModelDownloadError(f"the Hub's listing of {repo_id} is longer than {LISTING_MAX_BYTES} "
                                             "bytes: refused")
    except GatedRepoError:
        raise ModelDownloadError(f"{repo_id} is gated: accept its terms on the Hub and log in "
                                 "(`hf auth login`), or import a downloaded copy") from None
    except RepositoryNotFoundError:
        raise ModelDownloadError(f"there is no model repository {repo_id} on {endpoint} (or it is private)") from None
    except RevisionNotFoundError:
        raise ModelDownloadError(f"{repo_id} has no revision {revision!r}") from None
    except HfHubHTTPError as exc:
        raise ModelDownloadError(f"the Hub refused the listing of {repo_id}: {str(exc).splitlines()[0]}") from None
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            ConnectionError) as exc:
        raise _offline(endpoint, exc) from None
    except requests.RequestException as exc:
        raise ModelDownloadError(f"cannot fetch {what} from {endpoint}: {_reason(exc)}") from None
    try:
        data = json.loads(bytes(body))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelDownloadError(f"the Hub's listing of {repo_id} is not valid JSON: the server at {endpoint} does "
                                 "not answer as the Hub does") from None
    return parse_listing(repo_id, data)


def _malformed(repo_id: str, what: str) -> ModelDownloadError:
    return ModelDownloadError(f"the Hub's listing of {repo_id} is malformed: {what}")


def parse_listing(repo_id: str, data: object) -> tuple[str, list[RemoteFile]]:
    """The commit id and the files of a listing's JSON `data`, every value used checked; a one-line
    ModelDownloadError names the first thing wrong. Fields bertdesk does not use are not looked at."""
    if not isinstance(data, dict):
        raise _malformed(repo_id, f"it is a JSON {type(data).__name__}, not an object")
    commit = _hex(data.get("sha"), 40)
    if commit is None:
        raise _malformed(repo_id, f"its commit id (sha) {_shown(data.get('sha'))} is not 40 hexadecimal digits")
    siblings = data.get("siblings")
    if not isinstance(siblings, list):
        raise _malformed(repo_id, f"its file list (siblings) is {_shown(siblings)}, not a list")
    return commit, [_remote_file(repo_id, sibling) for sibling in siblings]


def _remote_file(repo_id: str, sibling: object) -> RemoteFile:
    """One entry of a listing's file list, checked: a file name, a size from 0 to MAX_FILE_BYTES (the LFS object's
    for an LFS file), its LFS sha256 (64 hexadecimal digits) or git blob id (40)."""
    if not isinstance(sibling, dict) or not isinstance(sibling.get("rfilename"), str):
        raise _malformed(repo_id, f"an entry of its file list has no file name (rfilename): {_shown(sibling)}")
    path = sibling["rfilename"]
    lfs = sibling.get("lfs")
    if lfs is not None and not isinstance(lfs, dict):
        raise _malformed(repo_id, f"{_shown(path)} has LFS details {_shown(lfs)}, not an object")
    size = (lfs or sibling).get("size")
    if type(size) is not int or not 0 <= size <= MAX_FILE_BYTES:  # not a bool, not a float
        raise _malformed(repo_id, f"{_shown(path)} has the size {_shown(size)}, not a whole number of bytes from 0 "
                                  f"to {MAX_FILE_BYTES}")
    sha256 = _hex(lfs.get("sha256"), 64) if lfs else None
    if lfs and sha256 is None:
        raise _malformed(repo_id, f"{_shown(path)} has the sha256 {_shown(lfs.get('sha256'))}, not 64 hexadecimal "
                                  "digits")
    blob_id = _hex(sibling.get("blobId"), 40)
    if sibling.get("blobId") is not None and blob_id is None:
        raise _malformed(repo_id, f"{_shown(path)} has the git blob id {_shown(sibling.get('blobId'))}, not 40 "
                                  "hexadecimal digits")
    if sha256 is None and blob_id is None:
        raise _malformed(repo_id, f"{_shown(path)} has no checksum (neither an LFS sha256 nor a git blob id)")
    return RemoteFile(path, size, sha256, blob_id)


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
    needed += [p for p in SIDE_FILES if p in by_path and p not in needed]
    _check_plain_paths(repo_id, needed)
    return layout, [by_path[p] for p in needed]


def _check_plain_paths(repo_id: str, paths: Iterable[str]) -> None:
    """A one-line ModelDownloadError naming the first of the listed `paths` that is not a plain path (`_plain_path`):
    a file of `repo_id` may only be written inside its download folder."""
    unsafe = [p for p in paths if not _plain_path(p)]
    if unsafe:
        raise ModelDownloadError(f"{repo_id} lists a file path that would be written outside its folder: "
                                 f"{_shown(unsafe[0])}")


def _plain_path(path: str) -> bool:
    """Whether a repository path stays inside the download folder: relative, no "..", ".", empty or hidden parts,
    no "\\" or NUL, and not a partial file's name."""
    parts = path.split("/")
    return (not path.startswith("/") and "\\" not in path and "\0" not in path and not path.endswith(PARTIAL_SUFFIX)
            and all(p and not p.startswith(".") for p in parts))


def download_folder(repo_id: str, commit: str) -> Path:
    """Where the files of `repo_id` at `commit` are downloaded (and partial ones kept for resuming); both are
    checked first (a Hub model id, a commit id of 40 hexadecimal digits), so the path stays in the models folder."""
    check_repo_id(repo_id)
    checked = _hex(commit, 40)
    if checked is None:
        raise ModelDownloadError(f"the commit id {_shown(commit)} of {repo_id} is not 40 hexadecimal digits: refused")
    return models_dir() / DOWNLOADS / repo_id.replace("/", "--") / checked


def _through_link(path: Path) -> ModelDownloadError:
    return ModelDownloadError(f"{path} is a symbolic link: bertdesk does not download through one; remove it and "
                              "download again")


def _folders(real: Path, parts: Iterable[str]) -> Path:
    """`real` (resolved) joined with the folders `parts`, each made if missing and, before anything is made inside
    it, checked to be no symbolic link (resolved, it is the same path)."""
    path = real
    for part in parts:
        path = path / part
        path.mkdir(exist_ok=True)
        if path.resolve() != path:
            raise _through_link(path)
    return path


def _own_download_folder(repo_id: str, commit: str) -> Path:
    """The download folder made (with its MARKER) or, if bertdesk made it before, found, with no symbolic link on
    the way from the models folder. A folder bertdesk did not make is refused, unless it is empty (a run killed
    between making it and writing the marker)."""
    folder = download_folder(repo_id, commit)
    try:
        models_dir().mkdir(parents=True, exist_ok=True)
        folder = _folders(models_dir().resolve(), folder.relative_to(models_dir()).parts)
        marker = folder / MARKER
        if not _is_ours(folder):
            if os.path.lexists(marker) or any(folder.iterdir()):
                raise ModelDownloadError(f"{folder} holds files that bertdesk did not download (it has no {MARKER}): "
                                         "move them away and download again")
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(f"bertdesk downloads {repo_id} at {commit} here; it deletes this folder when done\n")
    except OSError as exc:
        raise storage_error(f"cannot create the download folder {folder}", exc) from exc
    return folder


def _is_ours(folder: Path) -> bool:
    """Whether `folder` is a download folder bertdesk made: a real folder (not a link) holding its MARKER file."""
    marker = folder / MARKER
    return folder.is_dir() and not folder.is_symlink() and marker.is_file() and not marker.is_symlink()


def _file_paths(folder: Path, remote: RemoteFile) -> tuple[Path, Path]:
    """The file and its partial file for `remote` in the download folder `folder` (resolved), their parent folders
    made; refused if a symbolic link is on the way or is either file."""
    *parents, name = remote.path.split("/")
    parent = _folders(folder, parents)
    final, partial = parent / name, parent / (name + PARTIAL_SUFFIX)
    for path in (final, partial):
        if path.is_symlink():
            raise _through_link(path)
    return final, partial


def verify_file(path: Path, remote: RemoteFile, known_sha256: str | None = None) -> str | None:
    """Why the downloaded file does not match the listing (size, then checksum: sha256 for LFS files, the git blob
    id for others) or the catalogue's sha256, or None when it matches."""
    size = path.stat().st_size
    if size != remote.size:
        return f"{remote.path} has {size} bytes, the repository lists {remote.size}"
    if remote.sha256:
        sha256 = hex_digest(path, hashlib.sha256())
        if sha256 != remote.sha256.lower():
            return f"{remote.path} does not match the repository's sha256 checksum"
    elif remote.blob_id:
        if hex_digest(path, hashlib.sha1(b"blob %d\0" % size)) != remote.blob_id.lower():
            return f"{remote.path} does not match the repository's git blob checksum"
        sha256 = hex_digest(path, hashlib.sha256()) if known_sha256 else None
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


def file_deadline_s(size: int) -> float:
    """Seconds allowed for downloading a file of `size` bytes: FILE_DEADLINE_FLOOR_S plus its size at
    MIN_BYTES_PER_S."""
    return FILE_DEADLINE_FLOOR_S + size / MIN_BYTES_PER_S


def _content_length(reply: requests.Response) -> int | None:
    """The body's announced length, when it is the file's own bytes (not compressed) and a number."""
    if reply.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    text = reply.headers.get("Content-Length", "")
    return int(text) if text.isdigit() else None


def _transfer(url: str, partial: Path, remote: RemoteFile, progress: _Progress, handle: JobHandle,
              deadline: float, too_slow: str) -> None:
    """Fetch the rest of `remote` into `partial` (resuming from its size); the caller checks the result. A body
    announced or sent longer than the rest of the listed size is refused (a sent one deletes the partial file)."""
    from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

    start = partial.stat().st_size if partial.is_file() else 0
    if start > remote.size:
        partial.unlink()
        start = 0
    if start == remote.size:
        return
    headers = {**build_hf_headers(), "Accept-Encoding": "identity"}  # Content-Length is then the file's size
    if start:
        headers["Range"] = f"bytes={start}-"
    with _get(url, remote.path, deadline, headers=headers) as reply:
        hf_raise_for_status(reply)
        if start and reply.status_code != 206:  # the server sent the whole file: start again
            progress.add(-start, remote.path)
            start = 0
        rest = remote.size - start
        offered = _content_length(reply)
        if offered is not None and offered > rest:
            raise ModelDownloadError(f"the server offered {offered} bytes of {remote.path} where the listing leaves "
                                     f"{rest} to fetch: refused")
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if start else os.O_TRUNC)
        received = 0
        with os.fdopen(os.open(partial, flags, 0o666), "ab" if start else "wb") as out:
            for chunk in _chunks(reply, deadline, too_slow):
                handle.check()
                received += len(chunk)
                if received > rest:
                    break
                out.write(chunk)
                progress.add(len(chunk), remote.path)
    if received > rest:
        progress.add(-partial.stat().st_size, remote.path)
        partial.unlink()
        raise ModelDownloadError(f"the server sent more than the {remote.size} bytes the listing gives for "
                                 f"{remote.path}: the download was stopped and its partial file deleted")


def _fetch(url: str, folder: Path, remote: RemoteFile, progress: _Progress, handle: JobHandle, endpoint: str,
           known_sha256: str | None) -> None:
    """Download one file into `folder`, verified; a mismatch is deleted and fetched once more. Each attempt has
    `file_deadline_s` of the file's size."""
    import requests
    from huggingface_hub.errors import HfHubHTTPError

    final, partial = _file_paths(folder, remote)
    if final.is_file():
        if verify_file(final, remote, known_sha256) is None:
            progress.add(remote.size, remote.path, force=True)
            return
        final.unlink()
    if partial.is_file():
        progress.add(min(partial.stat().st_size, remote.size), remote.path)
    for attempt in range(2):
        allowed = file_deadline_s(remote.size)
        deadline = time.monotonic() + allowed
        too_slow = (f"the download of {remote.path} from {endpoint} did not finish in {allowed:.0f} s, the time "
                    f"allowed for {remote.size} bytes (the server stalls or is too slow)")
        for resume in range(RESUMES + 1):
            try:
                _transfer(url, partial, remote, progress, handle, deadline, too_slow)
            except HfHubHTTPError as exc:
                raise ModelDownloadError(f"the Hub refused {remote.path}: {str(exc).splitlines()[0]}") from None
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    ConnectionError) as exc:
                if resume == RESUMES:
                    raise ModelDownloadError(f"the download of {remote.path} from {endpoint} keeps failing "
                                             f"({_reason(exc)})", DownloadAgain(), ImportFolder(),
                                             offline=True) from None
                continue
            except requests.RequestException as exc:  # an OSError, but not the disk's
                raise ModelDownloadError(f"the download of {remote.path} from {endpoint} failed: "
                                         f"{_reason(exc)}") from None
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
            raise ModelDownloadError(f"{problem} after a second download: the file was deleted",
                                     DownloadAgain(resume=False), ImportFolder())


def download_files(repo_id: str, commit: str, files: Iterable[RemoteFile], *, endpoint: str | None = None,
                   handle: JobHandle | None = None, known_sha256: dict[str, str] | None = None) -> Path:
    """Download `files` of `repo_id` at `commit` into its download folder, each verified; returns the folder.

    Cancelling `handle` stops between chunks (JobCancelled) and keeps the partial file for the next attempt.
    """
    from huggingface_hub import hf_hub_url

    handle = ensure_handle(handle)
    endpoint = _endpoint(endpoint)
    files = list(files)
    _check_plain_paths(repo_id, (f.path for f in files))
    folder = _own_download_folder(repo_id, commit)
    progress = _Progress(handle, sum(f.size for f in files))
    with target_lock(folder):
        for remote in files:
            handle.check()
            url = hf_hub_url(repo_id, remote.path, revision=commit.lower(), endpoint=endpoint)
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
    """Delete a finished download folder if bertdesk made it (`_is_ours`), and the repository's and the downloads'
    folders once they are empty."""
    if not _is_ours(folder):
        return
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()
        folder.parent.parent.rmdir()
