"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub for one model repository (tests only).

It serves the files of a local folder as the repository `repo_id` at one commit, through the endpoints
huggingface_hub's client uses: the model listing with file metadata (`/api/models/{repo}/revision/{rev}`, sizes,
git blob ids, LFS sha256) and `/{repo}/resolve/{rev}/{path}` (HEAD and GET, with X-Repo-Commit, ETag, X-Linked-Etag
and X-Linked-Size for LFS files, Accept-Ranges, and 206 answers to Range requests). Faults can be planted: a transfer
dropped after N bytes, a same-size corrupted copy served, and every request is recorded. A hostile Hub can be played
too: another commit id (`commit`), a listing of any JSON value or any bytes, bytes sent past a file's end, a lying
Content-Length, a drip of one byte at a time, and redirects. Every answer is bounded and a drip stops with the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
#: The most bytes sent past a file's end (`extra`): an "endless" body, bounded.
MAX_EXTRA_BYTES = 64 << 20
#: Files at least this large, or of these kinds, are listed as LFS files (as the Hub's .gitattributes make them).
LFS_BYTES = 10_000
LFS_SUFFIXES = (".safetensors", ".onnx", ".onnx_data", ".bin")


@dataclass
class Request:
    """One request the server answered."""

    method: str
    path: str
    range: str | None


def git_blob_id(data: bytes) -> str:
    """The git blob id of `data`: sha1 of "blob <size>\\0" + data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer:
    """Serves `folder` as the Hub model repository `repo_id` at commit COMMIT; use as a context manager."""

    def __init__(self, folder: Path, repo_id: str = "tests/tiny-model") -> None:
        self.repo_id = repo_id
        self.files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                      if p.is_file()}
        self.requests: list[Request] = []
        #: path -> byte counts: each GET of that file takes the first one and drops the connection after as many
        #: bytes of the answer.
        self.drop_after: dict[str, list[int]] = {}
        #: path -> how many more GETs of that file get a same-size corrupted copy.
        self.corrupt: dict[str, int] = {}
        #: False: Range headers are ignored and the whole file is sent (200), as some servers and proxies do.
        self.ranges = True
        #: The commit id the listing gives (its "sha", any JSON value) and file URLs accept besides "main".
        self.commit: object = COMMIT
        #: Not None: the listing's JSON value instead of `listing()`; `listing_bytes` its raw body instead.
        self.listing_json: object = None
        self.listing_bytes: bytes | None = None
        #: path -> bytes sent after the file's own (zeros, at most MAX_EXTRA_BYTES), with no Content-Length.
        self.extra: dict[str, int] = {}
        #: path -> the Content-Length announced for that file, whatever is sent.
        self.content_length: dict[str, int] = {}
        #: path -> seconds between the bytes of that file, sent one at a time; `listing_drip` the same for the listing.
        self.drip: dict[str, float] = {}
        self.listing_drip: float | None = None
        #: request path (as `file_url_path` gives it, or the listing's) -> the Location of a 302 answer.
        self.redirect: dict[str, str] = {}
        #: Bytes of body sent with each 302 answer (zeros, at most MAX_EXTRA_BYTES, with no Content-Length), and
        #: how many of them all such answers got out before the client stopped reading.
        self.redirect_body = 0
        self.redirect_body_sent = 0
        #: request path -> the status, X-Error-Code and body of an error answer given instead.
        self.errors: dict[str, tuple[int, str, bytes]] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hub-server", daemon=True)

    @property
    def endpoint(self) -> str:
        """The server's address, for HF_ENDPOINT or `endpoint=`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def is_lfs(self, path: str) -> bool:
        """Whether the listing marks `path` as an LFS file."""
        return path.endswith(LFS_SUFFIXES) or len(self.files[path]) >= LFS_BYTES

    def listing(self) -> dict:
        """The JSON of `/api/models/{repo}/revision/{rev}?blobs=true`."""
        siblings = []
        for path, data in self.files.items():
            sibling = {"rfilename": path, "size": len(data), "blobId": git_blob_id(data)}
            if self.is_lfs(path):
                sibling["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(sibling)
        return {"_id": "0" * 24, "id": self.repo_id, "modelId": self.repo_id, "sha": self.commit, "private": False,
                "tags": [], "siblings": siblings}

    def gets(self, path: str) -> list[Request]:
        """The GET requests of one file of the repository."""
        return [r for r in self.requests if r.method == "GET" and r.path == self.file_url_path(path)]

    def file_url_path(self, path: str, revision: str | None = None) -> str:
        """The request path of a file of the repository at `revision` (the commit), its parts unquoted."""
        return f"/{self.repo_id}/resolve/{revision or self.commit}/{path}"

    def listing_url_path(self, revision: str = "main") -> str:
        """The request path of the listing at `revision`."""
        return f"/api/models/{self.repo_id}/revision/{revision}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # `format`: the base class's name
                pass

            def do_HEAD(self) -> None:  # http.server's naming
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _error(self, status: int, code: str, data: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # a client that stops reading a long one
                    self.wfile.write(data)

            def _answer(self, body: bool) -> None:
                # Each part unquoted on its own: a commit id holding "/" stays one part.
                path = "/".join(unquote(part) for part in urlsplit(self.path).path.split("/"))
                with hub._lock:
                    hub.requests.append(Request(self.command, path, self.headers.get("Range")))
                if path in hub.redirect:
                    return self._redirect(hub.redirect[path])
                if path in hub.errors:
                    return self._error(*hub.errors[path])
                revisions = ("main", COMMIT, hub.commit)
                api = f"/api/models/{hub.repo_id}/revision/"
                if path.startswith(api):
                    if path[len(api):] not in revisions:
                        return self._error(404, "RevisionNotFound")
                    listing = hub.listing() if hub.listing_json is None else hub.listing_json
                    data = json.dumps(listing).encode() if hub.listing_bytes is None else hub.listing_bytes
                    return self._send(data, "application/json", body)
                prefix = f"/{hub.repo_id}/resolve/"
                if not path.startswith(prefix) and not path.startswith(f"/api/models/{hub.repo_id}"):
                    return self._error(404, "RepoNotFound")
                rest = path[len(prefix):]
                revision = next((r for r in revisions if isinstance(r, str) and rest.startswith(r + "/")), "")
                name = rest[len(revision) + 1:]
                if revision not in revisions:
                    return self._error(404, "RevisionNotFound")
                if name not in hub.files:
                    return self._error(404, "EntryNotFound")
                self._send_file(name, body)

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                if not hub.redirect_body:
                    self.send_header("Content-Length", "0")
                self.end_headers()
                zeros = bytes(1 << 16)
                with contextlib.suppress(OSError):
                    while hub.redirect_body_sent < min(hub.redirect_body, MAX_EXTRA_BYTES):
                        self.wfile.write(zeros)
                        with hub._lock:
                            hub.redirect_body_sent += len(zeros)
                self.close_connection = True

            def _send(self, data: bytes, kind: str, body: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body and hub.listing_drip is not None:
                    with contextlib.suppress(OSError):
                        self._drip(data, hub.listing_drip)
                elif body:
                    self.wfile.write(data)

            def _send_file(self, name: str, body: bool) -> None:
                data = hub.files[name]
                with hub._lock:
                    if body and hub.corrupt.get(name, 0) > 0:
                        hub.corrupt[name] -= 1
                        data = bytes([data[0] ^ 0xFF]) + data[1:]
                    drops = hub.drop_after.get(name) if body else None
                    drop = drops.pop(0) if drops else None
                etag = hashlib.sha256(data).hexdigest() if hub.is_lfs(name) else git_blob_id(data)
                start = 0
                ranged = self.headers.get("Range", "")
                if hub.ranges and ranged.startswith("bytes=") and ranged.endswith("-"):
                    start = int(ranged[len("bytes="):-1])
                if start >= len(data) and start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{etag}"')
                if hub.is_lfs(name):
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                if name not in hub.extra:  # else the body ends when the connection closes
                    self.send_header("Content-Length", str(hub.content_length.get(name, len(data) - start)))
                self.end_headers()
                if not body:
                    return
                if drop is not None:
                    self.wfile.write(data[start:start + drop])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                with contextlib.suppress(OSError):  # the client went away: a refused body, a deadline met
                    self._write_body(name, data[start:])
                self.close_connection = True

            def _drip(self, data: bytes, interval: float) -> None:
                for i in range(len(data)):
                    if hub._stopping.wait(interval):
                        return
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()

            def _write_body(self, name: str, data: bytes) -> None:
                if name in hub.drip:
                    return self._drip(data, hub.drip[name])
                self.wfile.write(data)
                extra = min(hub.extra.get(name, 0), MAX_EXTRA_BYTES)
                zeros = bytes(1 << 16)
                while extra > 0 and not hub._stopping.is_set():
                    self.wfile.write(zeros[:extra])
                    extra -= len(zeros)

        return Handler
