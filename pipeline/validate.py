"""Check a built dataset: exactly the manifest's files, checksums, schema, every video decoded
against its metadata, and every answer re-derived from ``meta``.

A folder that merely looks consistent is not enough: ``datasets.load_from_disk`` reads the files
that ``<split>/state.json`` lists and ``load_dataset(dir)`` reads every ``*.arrow`` it finds, so
both must be exactly the manifest's shards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import av

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.generators.base import VIDEO_PLACEHOLDER, fps_from_str
from videolake.pipeline.shards import STATE_DIR, read_shard, sha256_file
from videolake.schemas import RECORD_SCHEMA, composition_key

MAX_REPORTED = 50


def load_manifest(dataset_dir: Path) -> dict:
    path = Path(dataset_dir) / "manifest.json"
    if not path.exists():
        raise VideolakeError(f"{dataset_dir} is not a complete videolake build (no manifest.json)")
    return read_json(path)


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise VideolakeError(f"{path}: not valid JSON ({err})") from err
    except OSError as err:
        raise VideolakeError(f"{path}: cannot read ({err.strerror})") from err


def id_lines(path: Path, field: str) -> Iterator[tuple[int, str, str]]:
    """(line number, id, text) of a user's JSONL file of ``{"id": ..., field: ...}`` lines (non-string
    values are kept as their JSON); a bad line, or a file that is not UTF-8, is a one-line error."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    value = row[field]
                    record_id = str(row["id"])
                except (json.JSONDecodeError, KeyError, TypeError) as err:
                    raise VideolakeError(f'{path}:{number}: expected {{"id": ..., "{field}": ...}}: {err}') from err
                yield number, record_id, value if isinstance(value, str) else json.dumps(value)
    except UnicodeDecodeError as err:
        raise VideolakeError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def video_problems(data: bytes, fps: Fraction, frames: int, size: list[int] | None, sha256: str | None) -> str | None:
    """Decode one video strictly (any bitstream error fails) and compare it with what meta says."""
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return "video bytes differ from the sha256 in meta"
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            stream.codec_context.options = {"err_detect": "explode"}
            count, half_frame = 0, 0.5 / float(fps)
            for frame in container.decode(stream):
                if size is not None and [frame.width, frame.height] != list(size):
                    return f"frame {count} is {frame.width}x{frame.height}, meta says {size[0]}x{size[1]}"
                if frame.time is None or abs(frame.time - count / float(fps)) > half_frame:
                    return f"frame {count} at {frame.time} s, not {count / float(fps):.4f} s ({fps} fps)"
                count += 1
    except (av.error.FFmpegError, IndexError) as err:
        return f"video does not decode: {err}"
    return None if count == frames else f"{count} frames decoded, meta implies {frames}"


def check_record(record: dict, split: str) -> list[str]:
    """Problems with one record; empty when its answer follows from its meta and its videos fit."""
    where = record.get("id", "?")
    if record["task"] not in TASKS:
        return [f"{where}: unknown task {record['task']!r}"]
    if record["split"] != split:
        return [f"{where}: split {record['split']!r} stored under {split!r}"]
    try:
        meta = json.loads(record["meta"])
        derived = TASKS[record["task"]].derive_answer(meta)
        lengths = TASKS[record["task"]].video_lengths(meta)
        fps = fps_from_str(meta["fps"])
    except (ValueError, KeyError, TypeError, ZeroDivisionError) as err:
        return [f"{where}: meta cannot re-derive the answer: {err}"]
    problems = []
    if derived != record["answer"]:
        problems.append(f"{where}: answer {record['answer']!r} but meta gives {derived!r}")
    if record["question"].count(VIDEO_PLACEHOLDER) != len(record["videos"]):
        problems.append(f"{where}: {record['question'].count(VIDEO_PLACEHOLDER)} video placeholders for {len(record['videos'])} videos")
    if abs(float(fps) - record["fps"]) > 1e-9:
        problems.append(f"{where}: fps {record['fps']} but meta says {meta['fps']}")
    if len(lengths) != len(record["videos"]):
        return problems + [f"{where}: {len(record['videos'])} videos, meta implies {len(lengths)}"]
    hashes = meta.get("video_sha256") or [None] * len(lengths)
    for index, (video, frames, sha256) in enumerate(zip(record["videos"], lengths, hashes)):
        problem = video_problems(video, fps, frames, meta.get("video_size"), sha256)
        if problem:
            problems.append(f"{where}: video {index}: {problem}")
    return problems


def check_shard(path: Path, split: str, sha256: str, rows: int) -> dict:
    """Everything about one shard file; runs in a worker process."""
    result = {"checked": 0, "problems": [], "ids": [], "counts": Counter()}
    key = f"{split}/{path.name}"
    if not path.exists():
        result["problems"].append(f"{key}: missing")
        return result
    if sha256_file(path) != sha256:
        result["problems"].append(f"{key}: sha256 does not match the manifest")
        return result
    table = read_shard(path)
    if not table.schema.equals(RECORD_SCHEMA, check_metadata=False):
        result["problems"].append(f"{key}: schema differs from the record schema")
        return result
    if table.num_rows != rows:
        result["problems"].append(f"{key}: {table.num_rows} rows, manifest says {rows}")
    for record in table.to_pylist():
        result["checked"] += 1
        result["ids"].append(record["id"])
        result["counts"][composition_key(record)] += 1
        result["problems"].extend(check_record(record, split))
    return result


def layout_problems(dataset_dir: Path, manifest: dict) -> list[str]:
    """What ``load_from_disk`` / ``load_dataset`` would read must be exactly the manifest's shards."""
    expected: dict[str, list[str]] = {}
    for key in manifest["shards"]:
        split, name = key.split("/", 1)
        expected.setdefault(split, []).append(name)
    problems = []
    dict_path = dataset_dir / "dataset_dict.json"
    listed_splits = read_json(dict_path).get("splits", []) if dict_path.exists() else []
    if sorted(listed_splits) != sorted(expected):
        problems.append(f"dataset_dict.json lists splits {sorted(listed_splits)}, the manifest has {sorted(expected)}")
    for split, names in sorted(expected.items()):
        state_path = dataset_dir / split / "state.json"
        if not state_path.exists():
            problems.append(f"{split}/state.json: missing")
            continue
        listed = [entry.get("filename") for entry in read_json(state_path).get("_data_files", [])]
        if listed != sorted(names):
            extra, missing = sorted(set(listed) - set(names)), sorted(set(names) - set(listed))
            problems.append(
                f"{split}/state.json lists {len(listed)} shard(s), the manifest {len(names)}"
                + (f"; not in the manifest: {extra[0]}" if extra else "")
                + (f"; missing: {missing[0]}" if missing else "")
            )
    manifest_files = {f"{split}/{name}" for split, names in expected.items() for name in names}
    for path in sorted(dataset_dir.rglob("*.arrow")):
        relative = path.relative_to(dataset_dir).as_posix()
        if relative.startswith(f"{STATE_DIR}/") or relative in manifest_files:
            continue
        if path.name.startswith("cache-"):
            problems.append(f"{relative}: a datasets cache file (written by .map/.cast): load_dataset would read its rows too; delete it")
        else:
            problems.append(f"{relative}: not a shard of the manifest; loaders would read it")
    for folder in sorted(p for p in dataset_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in expected and (folder / "state.json").exists():
            problems.append(f"{folder.name}/: a split the manifest does not have")
    return problems


def validate(dataset_dir: Path, workers: int | None = None) -> tuple[int, list[str]]:
    """(records checked, problems) for a complete build."""
    dataset_dir = Path(dataset_dir)
    manifest = load_manifest(dataset_dir)
    problems = layout_problems(dataset_dir, manifest)
    jobs = [(dataset_dir / key, key.split("/")[0], info["sha256"], info["rows"]) for key, info in sorted(manifest["shards"].items())]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        results = [check_shard(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(check_shard, *zip(*jobs)))
    checked, counts, seen_ids = 0, {}, set()
    for (_, split, _, _), result in zip(jobs, results):
        checked += result["checked"]
        problems.extend(result["problems"])
        counts.setdefault(split, Counter()).update(result["counts"])
        for record_id in result["ids"]:
            if record_id in seen_ids:
                problems.append(f"{record_id}: duplicate id")
            seen_ids.add(record_id)
    for split, expected in manifest["counts"].items():
        if dict(counts.get(split, {})) != expected:
            problems.append(f"{split}: record counts differ from the manifest")
    return checked, problems
