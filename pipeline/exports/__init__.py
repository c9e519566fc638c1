"""Exports that trainers load unchanged: ``videolake export verl|trl|llamafactory DIR --out EXPORT``.

Every format shares one thing: the MP4s, written once as files under ``EXPORT/videos/`` with
content-addressed names (the sha256 of their bytes), so several formats and re-runs share them and
nothing is written twice. Paths in the exported files are absolute. Each format module turns a
record plus the paths of its videos into the rows its trainer reads, and writes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.shards import atomic_write_bytes, read_shard
from videolake.pipeline.validate import load_manifest

VIDEO_DIR = "videos"


def video_path(export_dir: Path, data: bytes) -> Path:
    """Write ``data`` once at its content address; return the absolute path."""
    digest = hashlib.sha256(data).hexdigest()
    path = (export_dir / VIDEO_DIR / digest[:2] / f"{digest}.mp4").resolve()
    if not path.exists():
        atomic_write_bytes(path, data)
    return path


def records(dataset_dir: Path, split: str | None = None) -> Iterator[tuple[str, dict]]:
    """(split, record) for every record of a complete build, shard by shard (one in memory at a time)."""
    manifest = load_manifest(dataset_dir)
    splits = sorted({key.split("/")[0] for key in manifest["shards"]})
    if split is not None and split not in splits:
        raise VideolakeError(f"{dataset_dir} has no split {split!r} (it has: {', '.join(splits)})")
    for key in sorted(manifest["shards"]):
        name = key.split("/")[0]
        if split is None or name == split:
            for record in read_shard(Path(dataset_dir) / key).to_pylist():
                yield name, record


def chat_prompt(record: dict) -> list[dict]:
    """The prompt as chat messages: the task's system prompt, then the question with its ``<video>``
    placeholders (one per video, in order)."""
    return [{"role": "system", "content": record["system"]}, {"role": "user", "content": record["question"]}]


def sft_target(record: dict) -> str | None:
    """The assistant turn for supervised fine-tuning, in the format the record's prompt asks for:
    the reasoning in <think> and the answer in <answer> when the record has a reasoning trace."""
    if record["reasoning"] is None:
        return None
    return f"<think>\n{record['reasoning']}\n</think>\n<answer>{record['answer']}</answer>"


def frame_counts(record: dict) -> list[int]:
    """Frames of each video, from meta (the generator's own account, checked by validate)."""
    from videolake.generators import TASKS

    return TASKS[record["task"]].video_lengths(json.loads(record["meta"]))


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

    return importlib.import_module(f"videolake.pipeline.exports.{name}").export
