"""Find source clips: a folder of videos, the LLaVA-Video-178K layout (tar.gz archives), or a Hub repo.

Archives are only ever streamed: members are read into memory one at a time and never extracted,
so nothing is written outside the output folder. Members with absolute paths, ``..``, links or
devices are refused and reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from videolake import VideolakeError

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mov", ".m4v", ".flv", ".wmv", ".3gp"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
HUB_PREFIX = "hf://"


@dataclass(frozen=True, order=True)
class SourceRef:
    """One clip. ``source_id`` is its path relative to the sources root (inside the layout for archives)."""

    source_id: str
    container: str  # absolute path of the video file, or of the archive holding it
    member: str | None = None  # the tar member's name, for clips inside archives


@dataclass(frozen=True)
class Skipped:
    """A source (or annotation row) a build left out, why, and the planned samples it took along.
    ``source_id`` is empty for a rendered sample that could not be generated."""

    source_id: str
    reason: str
    samples: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"source_id": self.source_id, "reason": self.reason, "samples": list(self.samples)}

    @classmethod
    def from_dict(cls, document, where: str) -> Skipped:
        """An entry of a build report or sidecar; ``where`` names it in the one-line error."""
        samples = document.get("samples", []) if isinstance(document, dict) else None
        if (
            not isinstance(document, dict)
            or not isinstance(document.get("source_id"), str)
            or not isinstance(document.get("reason"), str)
            or not isinstance(samples, list)
            or not all(isinstance(sample, str) for sample in samples)
        ):
            shown = repr(document)
            raise VideolakeError(
                f"{where} must be {{source_id, reason, samples}} with strings, got {shown[:80]}"
                + ("..." if len(shown) > 80 else "")
            )
        return cls(document["source_id"], document["reason"], tuple(samples))


def is_video_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in VIDEO_EXTENSIONS


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def resolve_root(spec: str, cache_dir: Path) -> tuple[Path, str]:
    """(root, subfolder to discover under it): a local folder as is; ``hf://OWNER/NAME[/SUBFOLDER]``
    is downloaded with huggingface_hub first, and ids stay relative to the repository's root."""
    if spec.startswith(HUB_PREFIX):
        parts = spec[len(HUB_PREFIX) :].strip("/").split("/")
        if len(parts) < 2:
            raise VideolakeError(f"expected hf://OWNER/NAME[/SUBFOLDER], got {spec}")
        repo_id, subfolder = "/".join(parts[:2]), "/".join(parts[2:])
        from huggingface_hub import snapshot_download

        try:
            local = snapshot_download(
                repo_id,
                repo_type="dataset",
                cache_dir=str(cache_dir),
                allow_patterns=[f"{subfolder}/**"] if subfolder else None,
            )
        except Exception as err:  # network, auth or missing repo: one line for the user
            raise VideolakeError(
                f"cannot download {repo_id} from the Hub: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
            ) from err
        return Path(local), subfolder
    root = Path(spec).expanduser()
    if not root.is_dir():
        raise VideolakeError(f"sources folder not found: {spec}")
    return root.resolve(), ""


def unsafe_member_reason(member: tarfile.TarInfo) -> str | None:
    path = PurePosixPath(member.name)
    if member.name.startswith("/") or path.is_absolute():
        return "absolute path"
    if ".." in path.parts:
        return "path contains '..'"
    if member.issym() or member.islnk():
        return "link"
    if member.isdev() or member.isfifo():
        return "device or fifo"
    return None


def list_archive(archive: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Stream an archive once: the safe video members, and (member, reason) for refused or unreadable ones."""
    members, refused = [], []
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                reason = unsafe_member_reason(member)
                if reason:
                    refused.append((member.name, f"refused tar member: {reason}"))
                elif member.isfile() and is_video_name(member.name):
                    members.append(member.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        refused.append(("", f"archive unreadable after {len(members)} members: {err or type(err).__name__}"))
    return members, refused


def archive_source_id(root: Path, archive: Path, member: str) -> str:
    """The clip's path inside the LLaVA-Video layout: the subset folder plus the member's name."""
    folder = archive.parent.relative_to(root).as_posix()
    return member if folder == "." else f"{folder}/{member}"


def not_a_file_reason(path: Path) -> str:
    """Why a path named like a clip is not one."""
    if path.is_symlink():
        return (
            "broken or looping symbolic link" if not path.exists() else "symbolic link to something that is not a file"
        )
    if path.is_dir():
        return "a directory, not a video file"
    return "not a regular file (device, pipe or socket)"


def discover(
    root: Path, cache_dir: Path | None = None, list_fn=None, under: str = ""
) -> tuple[list[SourceRef], list[Skipped]]:
    """Every clip under ``root / under``, ids relative to ``root``, sorted by source_id;
    ``list_fn`` maps archives to listings (in parallel)."""
    files, archives = [], []
    skipped: list[Skipped] = []
    for path in sorted((root / under).rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if not (is_archive_name(path.name) or is_video_name(path.name)):
            continue
        if not path.is_file():
            skipped.append(Skipped(path.relative_to(root).as_posix(), not_a_file_reason(path)))
        elif is_archive_name(path.name):
            archives.append(path)
        else:
            files.append(path)
    sources = [SourceRef(p.relative_to(root).as_posix(), str(p)) for p in files]
    listings = _cached_listings(archives, cache_dir, list_fn or (lambda paths: [list_archive(str(p)) for p in paths]))
    for archive, (members, refused) in zip(archives, listings):
        for member in members:
            sources.append(SourceRef(archive_source_id(root, archive, member), str(archive), member))
        rel = archive.relative_to(root).as_posix()
        skipped.extend(Skipped(f"{rel}:{name}" if name else rel, reason) for name, reason in refused)
    unique: dict[str, SourceRef] = {}
    for source in sorted(sources):
        if source.source_id in unique:
            kept = Path(unique[source.source_id].container)
            skipped.append(
                Skipped(
                    source.source_id,
                    f"duplicate source id: kept {kept.relative_to(root).as_posix() if kept.is_relative_to(root) else kept.name}",
                )
            )
        else:
            unique[source.source_id] = source
    return list(unique.values()), skipped


def _cached_listings(archives: list[Path], cache_dir: Path | None, list_fn) -> list:
    """Listing a multi-GB archive means reading it through; a resumed build reuses the listing."""

    def key(p: Path) -> str:
        st = p.stat()
        return hashlib.sha256(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]

    cached, todo = {}, []
    for archive in archives:
        path = cache_dir / f"{key(archive)}.json" if cache_dir else None
        if path and path.exists():
            cached[archive] = tuple(json.loads(path.read_text()))
        else:
            todo.append(archive)
    for archive, listing in zip(todo, list_fn(todo)):
        cached[archive] = listing
        if cache_dir:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_dir / f".{key(archive)}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(listing))
            os.replace(tmp, cache_dir / f"{key(archive)}.json")
    return [cached[a] for a in archives]


def read_archive_members(archive: str, wanted: set[str]) -> Iterator[tuple[str, bytes | None, str | None]]:
    """Stream ``archive`` once, yielding (member, bytes, None) per wanted member, or (member, None, reason)."""
    remaining = set(wanted)
    failure = "member not found in archive"
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                if member.name not in remaining:
                    continue
                if unsafe_member_reason(member) or not member.isfile():
                    remaining.discard(member.name)
                    yield member.name, None, "refused tar member"
                    continue
                data = tar.extractfile(member).read()
                if len(data) != member.size:
                    raise EOFError(f"member {member.name} truncated")
                remaining.discard(member.name)
                yield member.name, data, None
                if not remaining:
                    break
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        failure = f"archive unreadable: {err or type(err).__name__}"
    for name in sorted(remaining):
        yield name, None, failure
