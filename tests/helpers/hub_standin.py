"""A stand-in of the Hugging Face Hub's HTTP API on loopback, for testing ``videolake publish``
without the network: point ``HF_ENDPOINT`` at ``Hub().url``.

It serves what huggingface_hub 2.4's ``create_repo``, ``list_repo_tree``, ``upload_folder`` and
``create_commit`` call when Xet is disabled (``HF_HUB_DISABLE_XET=1``): repository creation, the
card's YAML validation, pre-upload (which file is a regular blob, which an LFS object), the LFS
batch API with its basic transfer (one PUT per object, then verify) and the ndjson commit. With
``hf_xet`` installed and Xet enabled the client sends LFS content to a Xet CAS server instead,
a protocol of its own that this stand-in does not speak. Every request is logged, and
``fail_when`` makes chosen requests fail, to interrupt an upload halfway.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_SUFFIXES = (".parquet", ".png", ".mp4", ".arrow")  # what a new dataset repository's .gitattributes tracks
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores larger files as LFS whatever their name


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)  # the head commit's tree
    lfs: set[str] = field(default_factory=set)  # paths stored as LFS objects
    commits: list[dict] = field(default_factory=list)  # each: summary, added, deleted


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int


class Hub:
    """``with Hub() as hub:`` serves on ``hub.url`` until the block ends."""

    def __init__(self):
        self.repos: dict[str, Repo] = {}
        self.objects: dict[str, bytes] = {}  # LFS storage: sha256 -> content, kept across commits
        self.log: list[Request] = []
        self.fail_when: Callable[[str, str], bool] = lambda method, path: False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Hub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self, method: str, pattern: str, since: int = 0) -> list[Request]:
        """Logged requests of ``method`` whose path matches the regular expression ``pattern``,
        from the ``since``-th request on."""
        return [r for r in self.log[since:] if r.method == method and re.search(pattern, r.path)]

    def objects_sent(self, since: int = 0) -> set[str]:
        """The sha256 of every LFS object PUT from the ``since``-th request on."""
        return {r.path.rsplit("/", 1)[1] for r in self.requests("PUT", "^/lfs-storage/", since)}

    def handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: the log is hub.log
                pass

            def body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return data
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def answer(self, status: int, payload=None, headers: dict | None = None) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                hub.log.append(Request(self.command, self.path, status))

            def route(self) -> None:
                data = self.body()
                path = unquote(urlsplit(self.path).path)
                if hub.fail_when(self.command, path):
                    return self.answer(400, {"error": "the stand-in was told to fail this request"})
                presigned = path.startswith("/lfs-storage/")  # like S3's pre-signed URLs: no token sent
                if not presigned and not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self.answer(401, {"error": "Invalid credentials in Authorization header"})
                with hub.lock:
                    for method, pattern, serve in ROUTES:
                        match = re.fullmatch(pattern, path)
                        if method == self.command and match:
                            return serve(hub, self, data, **match.groupdict())
                return self.answer(404, {"error": f"the stand-in does not serve {self.command} {path}"})

            do_GET = do_POST = do_PUT = route

        return Handler


def repo_or_404(hub: Hub, handler, repo_id: str) -> Repo | None:
    repo = hub.repos.get(repo_id)
    if repo is None:
        handler.answer(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
    return repo


def create_repo(hub: Hub, handler, data: bytes) -> None:
    request = json.loads(data)
    repo_id = f"{request['organization']}/{request['name']}" if request.get("organization") else request["name"]
    if request.get("type") != "dataset":
        return handler.answer(400, {"error": "the stand-in holds dataset repositories only"})
    if repo_id in hub.repos:
        return handler.answer(
            409, {"error": "You already created this dataset repo", "url": f"{hub.url}/datasets/{repo_id}"}
        )
    hub.repos[repo_id] = Repo(private=request.get("visibility") == "private")
    handler.answer(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})


def validate_yaml(hub: Hub, handler, data: bytes) -> None:
    """What the Hub checks before a card is committed: front matter that is a YAML mapping."""
    content = json.loads(data)["content"]
    match = re.match(r"---\n(.*?)\n---\n", content, re.S)
    try:
        metadata = yaml.safe_load(match.group(1)) if match else {}
    except yaml.YAMLError as err:
        return handler.answer(400, {"errors": [{"message": f"invalid YAML: {err}"}]})
    if not isinstance(metadata, dict):
        return handler.answer(400, {"errors": [{"message": "the metadata must be a mapping"}]})
    handler.answer(200, {"errors": [], "warnings": []})


def tree(hub: Hub, handler, data: bytes, repo_id: str, revision: str, folder: str | None = None) -> None:
    repo = repo_or_404(hub, handler, repo_id)
    if repo is None:
        return
    query = parse_qs(urlsplit(handler.path).query)
    recursive = query.get("recursive", ["False"])[0].lower() == "true"
    prefix = f"{folder.strip('/')}/" if folder else ""
    entries = []
    for path, content in sorted(repo.files.items()):
        rest = path[len(prefix) :] if path.startswith(prefix) else None
        if rest is None or (not recursive and "/" in rest):
            continue
        sha256 = hashlib.sha256(content).hexdigest()
        entry = {"type": "file", "path": path, "size": len(content)}
        if path in repo.lfs:
            entry["oid"] = git_blob_sha1(lfs_pointer(sha256, len(content)))
            entry["lfs"] = {"oid": sha256, "size": len(content), "pointerSize": len(lfs_pointer(sha256, len(content)))}
        else:
            entry["oid"] = git_blob_sha1(content)
        entries.append(entry)
    handler.answer(200, entries)


def preupload(hub: Hub, handler, data: bytes, repo_id: str, revision: str) -> None:
    repo = repo_or_404(hub, handler, repo_id)
    if repo is None:
        return
    answers = []
    for file in json.loads(data)["files"]:
        sample = base64.b64decode(file["sample"])
        lfs = file["path"].endswith(LFS_SUFFIXES) or file["size"] >= LFS_THRESHOLD or b"\0" in sample
        held = repo.files.get(file["path"])
        oid = None
        if held is not None:
            oid = hashlib.sha256(held).hexdigest() if file["path"] in repo.lfs else git_blob_sha1(held)
        answers.append(
            {"path": file["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
        )
    handler.answer(200, {"files": answers, "commitOid": "0" * 40})


def lfs_batch(hub: Hub, handler, data: bytes, repo_id: str) -> None:
    if repo_or_404(hub, handler, repo_id) is None:
        return
    request = json.loads(data)
    if request.get("operation") != "upload" or "basic" not in request.get("transfers", ["basic"]):
        return handler.answer(400, {"message": "the stand-in serves basic LFS uploads only"})
    objects = []
    for item in request["objects"]:
        answer = {"oid": item["oid"], "size": item["size"]}
        if item["oid"] not in hub.objects:  # no actions: the object is already stored
            answer["actions"] = {
                "upload": {"href": f"{hub.url}/lfs-storage/{item['oid']}"},
                "verify": {"href": f"{hub.url}/lfs-verify"},
            }
        objects.append(answer)
    handler.answer(200, {"transfer": "basic", "objects": objects})


def lfs_put(hub: Hub, handler, data: bytes, oid: str) -> None:
    if hashlib.sha256(data).hexdigest() != oid:
        return handler.answer(400, {"error": "the content does not match its sha256"})
    hub.objects[oid] = data
    handler.answer(200)


def lfs_verify(hub: Hub, handler, data: bytes) -> None:
    request = json.loads(data)
    stored = hub.objects.get(request["oid"])
    handler.answer(200 if stored is not None and len(stored) == request["size"] else 404, {})


def commit(hub: Hub, handler, data: bytes, repo_id: str, revision: str) -> None:
    repo = repo_or_404(hub, handler, repo_id)
    if repo is None:
        return
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    files, lfs = dict(repo.files), set(repo.lfs)
    added, deleted = [], []
    for line in lines[1:]:
        value = line["value"]
        path = str(PurePosixPath(value["path"]))
        if line["key"] == "file":
            files[path] = base64.b64decode(value["content"])
            lfs.discard(path)
        elif line["key"] == "lfsFile":
            if value["oid"] not in hub.objects:
                return handler.answer(422, {"error": f"LFS object of {path} was never uploaded"})
            files[path] = hub.objects[value["oid"]]
            lfs.add(path)
        elif line["key"] == "deletedFile":
            if path not in files:
                return handler.answer(404, {"error": f"{path} is not in the repository"})
            del files[path]
            lfs.discard(path)
            deleted.append(path)
            continue
        else:
            return handler.answer(400, {"error": f"the stand-in does not commit {line['key']}"})
        added.append(path)
    repo.files, repo.lfs = files, lfs  # a commit applies whole or not at all
    repo.commits.append({"summary": lines[0]["value"]["summary"], "added": added, "deleted": deleted})
    oid = hashlib.sha1(json.dumps(repo.commits).encode()).hexdigest()
    handler.answer(200, {"commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid})


REPO = r"(?P<repo_id>[^/]+/[^/]+)"
ROUTES = [
    ("POST", r"/api/repos/create", create_repo),
    ("POST", r"/api/validate-yaml", validate_yaml),
    ("GET", rf"/api/datasets/{REPO}/tree/(?P<revision>[^/]+)(?:/(?P<folder>.+))?", tree),
    ("POST", rf"/api/datasets/{REPO}/preupload/(?P<revision>[^/]+)", preupload),
    ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", lfs_batch),
    ("PUT", r"/lfs-storage/(?P<oid>[0-9a-f]{64})", lfs_put),
    ("POST", r"/lfs-verify", lfs_verify),
    ("POST", rf"/api/datasets/{REPO}/commit/(?P<revision>[^/]+)", commit),
]
