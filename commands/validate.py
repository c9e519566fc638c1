"""Check a built dataset: exactly the manifest's files, checksums, schema, every video decoded
against its metadata, and every answer re-derived from ``meta``.

A folder that merely looks consistent is not enough: ``datasets.load_from_disk`` reads the files
that ``<split>/state.json`` lists and ``load_dataset(dir)`` reads every ``*.arrow`` it finds, so
both must be exactly the manifest's shards.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import av

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.generators.base import VIDEO_PLACEHOLDER, fps_from_str
from videolake.pipeline.dataset import (
    META_ERRORS,
    STATE_DIR,
    Manifest,
    Shard,
    open_dataset,
    read_json,
    record_composition,
    record_meta,
    shard_problem,
    shard_table,
    split_shard_key,
)
from videolake.pipeline.records import written_lengths

MAX_REPORTED = 50


def video_problems(data: bytes, fps: Fraction, frames: int, size: list[int] | None, sha256: str | None) -> str | None:
    """Decode one video strictly (any bitstream error fails), compare it with what meta says, and
    check its frame count is even (the builder pads every video to pairs of frames)."""
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
    if count != frames:
        return f"{count} frames decoded, meta implies {frames}"
    return f"{count} frames: an odd count (video models take frames in pairs)" if count % 2 else None


def check_record(record: dict, split: str) -> list[str]:
    """Problems with one record; empty when its answer follows from its meta and its videos fit."""
    where = record.get("id", "?")
    if record["task"] not in TASKS:
        return [f"{where}: unknown task {record['task']!r}"]
    if record["split"] != split:
        return [f"{where}: split {record['split']!r} stored under {split!r}"]
    try:
        meta = record_meta(record)
        derived = TASKS[record["task"]].derive_answer(meta)
        lengths = written_lengths(record["task"], meta)
        fps = fps_from_str(meta["fps"])
    except VideolakeError as err:
        return [str(err)]
    except META_ERRORS as err:
        return [f"{where}: meta cannot re-derive the answer: {type(err).__name__}: {str(err)[:120]}"]
    problems = []
    if derived != record["answer"]:
        problems.append(f"{where}: answer {record['answer']!r} but meta gives {derived!r}")
    if record["question"].count(VIDEO_PLACEHOLDER) != len(record["videos"]):
        problems.append(
            f"{where}: {record['question'].count(VIDEO_PLACEHOLDER)} video placeholders for {len(record['videos'])} videos"
        )
    if abs(float(fps) - record["fps"]) > 1e-9:
        problems.append(f"{where}: fps {record['fps']} but meta says {meta['fps']}")
    if len(lengths) != len(record["videos"]):
        return problems + [f"{where}: {len(record['videos'])} videos, meta implies {len(lengths)}"]
    try:
        hashes = meta.get("video_sha256") or [None] * len(lengths)
        for index, (video, frames, sha256) in enumerate(zip(record["videos"], lengths, hashes)):
            problem = video_problems(video, fps, frames, meta.get("video_size"), sha256)
            if problem:
                problems.append(f"{where}: video {index}: {problem}")
    except META_ERRORS as err:
        problems.append(f"{where}: meta does not describe its videos: {type(err).__name__}: {str(err)[:120]}")
    return problems


def check_shard(shard: Shard) -> dict:
    """Everything about one shard file; runs in a worker process."""
    result = {"checked": 0, "problems": [], "ids": [], "counts": Counter()}
    problem = shard_problem(shard)
    if problem:
        result["problems"].append(problem)
        return result
    try:
        table = shard_table(shard)
    except VideolakeError as err:
        result["problems"].append(str(err))
        return result
    for record in table.to_pylist():
        result["checked"] += 1
        result["ids"].append(record["id"])
        result["counts"][record_composition(record)] += 1
        result["problems"].extend(check_record(record, shard.split))
    return result


def layout_problems(dataset_dir: Path, manifest: Manifest) -> list[str]:
    """What ``load_from_disk`` / ``load_dataset`` would read must be exactly the manifest's shards."""
    expected: dict[str, list[str]] = {}
    for key in manifest.shards:
        split, name = split_shard_key(key)
        expected.setdefault(split, []).append(name)
    problems = []
    dict_path = dataset_dir / "dataset_dict.json"
    document = read_json(dict_path) if dict_path.exists() else {"splits": []}
    listed_splits = document.get("splits") if isinstance(document, dict) else None
    if not isinstance(listed_splits, list) or not all(isinstance(s, str) for s in listed_splits):
        problems.append("dataset_dict.json: splits must be a list of split names")
    elif sorted(listed_splits) != sorted(expected):
        problems.append(f"dataset_dict.json lists splits {sorted(listed_splits)}, the manifest has {sorted(expected)}")
    for split, names in sorted(expected.items()):
        state_path = dataset_dir / split / "state.json"
        if not state_path.exists():
            problems.append(f"{split}/state.json: missing")
            continue
        state = read_json(state_path)
        files = state.get("_data_files") if isinstance(state, dict) else None
        if not isinstance(files, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("filename"), str) for entry in files
        ):
            problems.append(f'{split}/state.json: _data_files must be a list of {{"filename": ...}}')
            continue
        listed = [entry["filename"] for entry in files]
        if listed != sorted(names):
            extra, missing = sorted(set(listed) - set(names)), sorted(set(names) - set(listed))
            problems.append(
                f"{split}/state.json lists {len(listed)} shard(s), the manifest {len(names)}"
                + (f"; not in the manifest: {extra[0]}" if extra else "")
                + (f"; missing: {missing[0]}" if missing else "")
            )
    manifest_files = set(manifest.shards)  # shard keys are the files' paths in the folder
    for path in sorted(dataset_dir.rglob("*.arrow")):
        relative = path.relative_to(dataset_dir).as_posix()
        if relative.startswith(f"{STATE_DIR}/") or relative in manifest_files:
            continue
        if path.name.startswith("cache-"):
            problems.append(
                f"{relative}: a datasets cache file (written by .map/.cast): load_dataset would read its rows too; delete it"
            )
        else:
            problems.append(f"{relative}: not a shard of the manifest; loaders would read it")
    for folder in sorted(p for p in dataset_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in expected and (folder / "state.json").exists():
            problems.append(f"{folder.name}/: a split the manifest does not have")
    return problems


def validate(dataset_dir: Path, workers: int | None = None) -> tuple[int, list[str]]:
    """(records checked, problems) for a complete build."""
    dataset = open_dataset(dataset_dir, verify=False)  # each worker checks its shards' files
    problems = layout_problems(dataset.dir, dataset.manifest)
    workers = max(1, min(workers or os.cpu_count() or 1, len(dataset.shards)))
    if workers == 1:
        results = [check_shard(shard) for shard in dataset.shards]
    else:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(check_shard, dataset.shards))
    checked, counts, seen_ids = 0, {}, set()
    for shard, result in zip(dataset.shards, results):
        checked += result["checked"]
        problems.extend(result["problems"])
        counts.setdefault(shard.split, Counter()).update(result["counts"])
        for record_id in result["ids"]:
            if record_id in seen_ids:
                problems.append(f"{record_id}: duplicate id")
            seen_ids.add(record_id)
    for split, expected in dataset.manifest.counts.items():
        if dict(counts.get(split, {})) != expected:
            problems.append(f"{split}: record counts differ from the manifest")
    return checked, problems
