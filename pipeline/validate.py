"""Check a built dataset: manifest, checksums, schema, and every answer re-derived from ``meta``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.generators.base import VIDEO_PLACEHOLDER, fps_from_str
from videolake.pipeline.encode import count_frames
from videolake.pipeline.shards import read_shard, sha256_file
from videolake.schemas import RECORD_SCHEMA, composition_key

MAX_REPORTED = 50


def load_manifest(dataset_dir: Path) -> dict:
    path = Path(dataset_dir) / "manifest.json"
    if not path.exists():
        raise VideolakeError(f"{dataset_dir} is not a complete videolake build (no manifest.json)")
    return json.loads(path.read_text())


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
    except (ValueError, KeyError, TypeError) as err:
        return [f"{where}: meta cannot re-derive the answer: {err}"]
    problems = []
    if derived != record["answer"]:
        problems.append(f"{where}: answer {record['answer']!r} but meta gives {derived!r}")
    if record["question"].count(VIDEO_PLACEHOLDER) != len(record["videos"]):
        problems.append(f"{where}: {record['question'].count(VIDEO_PLACEHOLDER)} video placeholders for {len(record['videos'])} videos")
    if abs(float(fps_from_str(meta["fps"])) - record["fps"]) > 1e-9:
        problems.append(f"{where}: fps {record['fps']} but meta says {meta['fps']}")
    frames, expected = [count_frames(video) for video in record["videos"]], TASKS[record["task"]].video_lengths(meta)
    if frames != expected:
        problems.append(f"{where}: videos have {frames} frames, meta implies {expected}")
    return problems


def validate(dataset_dir: Path) -> tuple[int, list[str]]:
    """(records checked, problems) for a complete build."""
    dataset_dir = Path(dataset_dir)
    manifest = load_manifest(dataset_dir)
    problems: list[str] = []
    checked = 0
    seen_ids: set[str] = set()
    counts: dict[str, Counter] = {}
    for key, info in sorted(manifest["shards"].items()):
        split = key.split("/")[0]
        path = dataset_dir / key
        if not path.exists():
            problems.append(f"{key}: missing")
            continue
        if sha256_file(path) != info["sha256"]:
            problems.append(f"{key}: sha256 does not match the manifest")
            continue
        table = read_shard(path)
        if not table.schema.equals(RECORD_SCHEMA, check_metadata=False):
            problems.append(f"{key}: schema differs from the record schema")
            continue
        if table.num_rows != info["rows"]:
            problems.append(f"{key}: {table.num_rows} rows, manifest says {info['rows']}")
        for record in table.to_pylist():
            checked += 1
            if record["id"] in seen_ids:
                problems.append(f"{record['id']}: duplicate id")
            seen_ids.add(record["id"])
            counts.setdefault(split, Counter())[composition_key(record)] += 1
            problems.extend(check_record(record, split))
    for split, expected in manifest["counts"].items():
        if dict(counts.get(split, {})) != expected:
            problems.append(f"{split}: record counts differ from the manifest")
    return checked, problems
