"""Exports that trainers load unchanged: ``videolake export verl|trl|llamafactory DIR --out EXPORT``.

Every format shares one thing: the MP4s, written once as files under ``EXPORT/videos/`` with
content-addressed names (the sha256 of their bytes), so several formats and re-runs share them and
nothing is written twice. Paths in the exported files are absolute. Each format module turns a
record plus the paths of its videos into the rows its trainer reads, and writes them.

Several exports share one folder safely: an export holds the folder's lock from start to end (two
at once would lose each other's ``dataset_info.json`` entries), first sweeps the half-written files
a killed export left, and records in ``EXPORT/.videolake-exports.json`` which dataset wrote each
file, so a different dataset of the same name is refused instead of written over. A reused MP4 is
checked (size and sha256) first; one that was truncated or altered is written again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.dataset import open_dataset, read_json, reading_record, record_meta, refuse_output_inside
from videolake.pipeline.shards import atomic_write_bytes, sha256_file
from videolake.rewards import ideal_completion

VIDEO_DIR = "videos"


def video_path(export_dir: Path, data: bytes) -> Path:
    """Write ``data`` once at its content address (``export_dir`` absolute); return the path."""
    digest = hashlib.sha256(data).hexdigest()
    path = export_dir / VIDEO_DIR / digest[:2] / f"{digest}.mp4"
    if not holds_video(path, len(data), digest):
        atomic_write_bytes(path, data)
    return path


def holds_video(path: Path, size: int, digest: str) -> bool:
    """Whether the file at a content address is that video: a truncated or altered one (a killed
    copy, a disk error) must be written again, never handed to a trainer."""
    try:
        if os.stat(path).st_size != size:
            return False
        return sha256_file(path) == digest
    except FileNotFoundError:
        return False
    except OSError as err:  # a symlink loop, a file where a folder should be, no permission
        raise VideolakeError(f"{path}: {err.strerror or err}: remove it and export again") from err


LOCK = ".videolake-export.lock"
CLAIMS = ".videolake-exports.json"
HALF_WRITTEN = re.compile(r"^\..+\.\d+\.tmp$")  # what atomic_write_bytes leaves when killed mid-write


def absolute_folder(folder: Path) -> Path:
    try:
        return Path(folder).resolve()
    except (RuntimeError, OSError) as err:  # Python 3.11 reports a symlink loop as RuntimeError
        raise VideolakeError(f"{folder}: cannot resolve the path ({err})") from err


def sweep_half_written(root: Path) -> None:
    """Remove a killed export's temporary files from the folders exports write (links not followed)."""
    for area in (VIDEO_DIR, *FORMATS):
        for folder, _, files in os.walk(root / area):
            for name in files:
                if HALF_WRITTEN.match(name):
                    Path(folder, name).unlink(missing_ok=True)


class Export:
    """One export into a folder: the files it claims for its dataset, and which dataset owns each.

    A claim is refused when another dataset owns the file, or when the file is there and no export
    wrote it. Two owners are the same dataset when they are the same folder (a rebuild replaces its
    own export) or have byte-identical manifests (a copy)."""

    def __init__(self, root: Path, dataset_dir: Path, splits: list[str], manifest_sha256: str):
        self.root, self.dataset_dir, self.splits = root, dataset_dir, splits
        self.owner = {"dataset": str(absolute_folder(dataset_dir)), "manifest_sha256": manifest_sha256}
        self.claims = read_claims(root / CLAIMS)
        self.claimed: list[str] = []

    def is_ours(self, owner: dict) -> bool:
        return owner["dataset"] == self.owner["dataset"] or owner["manifest_sha256"] == self.owner["manifest_sha256"]

    def claim(self, relative: str, present: bool | None = None) -> Path:
        """``root/relative`` for this dataset to write. ``present``: whether the thing is there, for
        claims that are not files (a ``dataset_info.json`` entry); files are looked at."""
        path = self.root / relative
        owner = self.claims.get(relative)
        if owner is None and (present if present is not None else os.path.lexists(path)):
            raise VideolakeError(
                f"{path} is there and no videolake export of {self.dataset_dir} wrote it: remove it or export to another --out"
            )
        if owner is not None and not self.is_ours(owner):
            raise VideolakeError(
                f"{path} belongs to {owner['dataset']}, a different dataset of the same name as {self.dataset_dir}: export to another --out, or rename one of them"
            )
        self.claimed.append(relative)
        return path

    def stale(self) -> list[str]:
        """What an earlier build of this same folder exported that this export does not write."""
        return sorted(
            relative
            for relative, owner in self.claims.items()
            if owner["dataset"] == self.owner["dataset"]
            and owner["manifest_sha256"] != self.owner["manifest_sha256"]
            and relative not in self.claimed
        )

    def finish(self) -> None:
        """Remove stale files, record the claims (only after everything was written)."""
        for relative in self.stale():
            if "#" not in relative:  # entries inside a file are the format's to drop
                (self.root / relative).unlink(missing_ok=True)
            del self.claims[relative]
        self.claims.update(dict.fromkeys(self.claimed, self.owner))
        atomic_write_bytes(self.root / CLAIMS, (json.dumps(self.claims, indent=1, sort_keys=True) + "\n").encode())


def read_claims(path: Path) -> dict[str, dict]:
    if not os.path.lexists(path):
        return {}
    claims = read_json(path)
    fields = {"dataset", "manifest_sha256"}
    if not isinstance(claims, dict) or not all(
        isinstance(owner, dict) and set(owner) == fields and all(isinstance(owner[f], str) for f in fields)
        for owner in claims.values()
    ):
        raise VideolakeError(
            f"{path}: not the record of a videolake export (file -> dataset): remove it and export again"
        )
    return claims


@contextmanager
def exporting(dataset_dir: Path, export_dir: Path, folder: str, split: str | None) -> Iterator[Export]:
    """Hold ``export_dir``'s lock for one export of ``dataset_dir`` into ``export_dir/folder``.
    The lock is an flock: the kernel releases it when the process ends, however it ends."""
    dataset_dir, root = Path(dataset_dir), absolute_folder(export_dir)
    source = absolute_folder(dataset_dir)
    if root.is_relative_to(source):
        refuse_output_inside(root, source)
    for area in (VIDEO_DIR, folder):  # the dataset may lie in EXPORT, not in what the export writes
        refuse_output_inside(absolute_folder(root / area), source)
    dataset = open_dataset(dataset_dir, verify=False)
    splits = sorted({shard.split for shard in dataset.split_shards(split) if shard.rows})
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sweep_half_written(root)
        session = Export(root, dataset_dir, splits, dataset.manifest_sha256)
        yield session
        session.finish()


PROGRESS_FROM = 500  # records: a smaller export takes seconds and shows no progress bar


def records(dataset_dir: Path, split: str | None = None) -> Iterator[tuple[str, dict]]:
    """(split, record) for every record of a verified build, shard by shard (one in memory at a time),
    counted on a progress bar when the export is large and stderr is a terminal."""
    from tqdm import tqdm

    dataset = open_dataset(dataset_dir)
    total = sum(shard.rows for shard in dataset.split_shards(split))
    quiet = True if total < PROGRESS_FROM else None  # None: tqdm draws only on a terminal
    with tqdm(dataset.records(split), total=total, desc=f"export {dataset.name}", unit="record", disable=quiet) as bar:
        yield from bar


def chat_prompt(record: dict) -> list[dict]:
    """The prompt as chat messages: the task's system prompt, then the question with its ``<video>``
    placeholders (one per video, in order)."""
    return [{"role": "system", "content": record["system"]}, {"role": "user", "content": record["question"]}]


def sft_target(record: dict) -> str:
    """The assistant turn for supervised fine-tuning: the true answer in the format the record's prompt
    asks for (``ideal_completion``: bare, or in think/answer blocks), thinking with the record's
    reasoning trace or, without one, the task's short account of its answer from meta."""
    from videolake.generators import TASKS

    reasoning, explain = record["reasoning"], TASKS[record["task"]].explain
    if reasoning is None and explain is not None:
        with reading_record(record):
            reasoning = explain(record_meta(record))
    return ideal_completion(record["task"], record["answer"], reasoning or "")


def frame_counts(record: dict) -> list[int]:
    """Frames of each video as written, from meta (the generator's own account and the builder's
    padding to even counts, checked by validate)."""
    from videolake.pipeline.records import written_lengths

    with reading_record(record):
        lengths = written_lengths(record["task"], record_meta(record))
        if len(lengths) != len(record["videos"]) or not all(isinstance(n, int) and 0 < n < 2**31 for n in lengths):
            raise ValueError(f"frame counts {str(lengths)[:80]} do not fit {len(record['videos'])} video(s)")
    return lengths


def write_json(path: Path, document) -> None:
    atomic_write_bytes(path, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode())


def write_parquet(path: Path, rows: list[dict]) -> Path:
    """One parquet file, written whole or not at all."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path


FORMATS = ("verl", "trl", "llamafactory")  # one module each in this package


def exporter(name: str):
    """export(dataset_dir, export_dir, split) -> written files, for format ``name``."""
    import importlib

    return importlib.import_module(f"videolake.commands.exports.{name}").export
