"""The one owner of a dataset folder on disk: its file names, the formats of its keys and ids, its
typed metadata (``Manifest``, ``Sidecar``, ``BuildReport``), and the code that reads, verifies and
writes it. Nothing else opens ``manifest.json``, ``build_report.json`` or a shard's sidecar, and
nothing else splits a shard key or parses a sample id or a composition key (a test greps for it).

A folder is opened only after checking it: the manifest parsed and type-checked, every shard
file's size and sha256 compared with the manifest, the first bad file named in one line. Every
command that reads a dataset (export, publish, curate, harden, inspect, score, train) opens it
here, so a tampered or truncated shard, or a manifest of the wrong shape, stops the command before
it writes anything. ``validate`` uses the same checks but reports every problem instead.

A folder is written in one order, so nothing half-written is taken as complete: shards, then
(builds) each shard's sidecar, the mark of a finished shard; at the end the build report,
datasets' state files and the manifest last. Build, curate and harden all write through
``write_shard_file`` and ``finish_dataset``: nothing rewrites a manifest after the fact.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from videolake import VideolakeError
from videolake.pipeline.ingest import Skipped
from videolake.pipeline.shards import (
    atomic_write_bytes,
    atomic_write_json,
    read_shard,
    serialize_shard,
    sha256_file,
    write_dataset_files,
)
from videolake.schemas import RECORD_SCHEMA

MANIFEST_FILE = "manifest.json"
REPORT_FILE = "build_report.json"
STATE_DIR = ".build"  # resume state inside a dataset folder: the build's fingerprint, shard sidecars
MAX_JSON_BYTES = 64 << 20  # a manifest or state file is kilobytes; more is not ours (and would exhaust memory)
MAX_META_CHARS = 16 << 20
MAX_FILE_BYTES = 2**63 - 1  # the largest file size a file system can report
HEX = frozenset("0123456789abcdef")
SHARD_NAME = re.compile(r"data-([0-9]{5,})-of-([0-9]{5,})\.arrow")  # what builds and curate write: never a path
# What generator code raises when a record's meta has the wrong shape: a missing key, a string where
# a number goes, a number too large to allocate for, JSON nested past the interpreter's stack.
META_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    ZeroDivisionError,
    OverflowError,
    RecursionError,
    MemoryError,
)


# Formats: each written and read back here only.


def shard_filename(index: int, count: int) -> str:
    return f"data-{index:05d}-of-{count:05d}.arrow"


def shard_number(filename: str) -> int | None:
    """The index in a shard file name, or None when it is not one."""
    match = SHARD_NAME.fullmatch(filename)
    return int(match.group(1)) if match else None


def shard_key(split: str, filename: str) -> str:
    """How manifests and sidecars name a shard: ``<split>/<file name>``, its path in the folder."""
    return f"{split}/{filename}"


def split_shard_key(key) -> tuple[str, str] | None:
    """(split, file name) of a shard key, or None when it is not one (a key must never be a path)."""
    if not isinstance(key, str):
        return None
    split, _, filename = key.partition("/")
    return (split, filename) if split.isidentifier() and SHARD_NAME.fullmatch(filename) else None


def sample_id(recipe_name: str, split: str, number: int) -> str:
    return f"{recipe_name}-{split}-{number:07d}"


def parse_sample_id(candidate_id, recipe_name: str) -> tuple[str, int] | None:
    """(split, number) of an id ``sample_id(recipe_name, ...)`` gives, or None (another recipe's,
    not canonical, not a string)."""
    if not isinstance(candidate_id, str):
        return None
    head, _, digits = candidate_id.rpartition("-")
    name, _, split = head.rpartition("-")
    if name != recipe_name or not split.isidentifier() or not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) > 18:  # int() of a huge digit string is slow; no plan has that many samples
        return None
    number = int(digits)
    return (split, number) if candidate_id == sample_id(recipe_name, split, number) else None


def composition_key(task: str, subtype: str, tier: str) -> str:
    """How manifests count records: ``task/subtype/tier``."""
    return f"{task}/{subtype}/{tier}"


def record_composition(record: dict) -> str:
    return composition_key(record["task"], record["subtype"], record["tier"])


def split_composition_key(key) -> tuple[str, str, str] | None:
    """(task, subtype, tier) of a composition key, or None when it is not one."""
    parts = key.split("/") if isinstance(key, str) else []
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def load_call(dataset_dir: Path) -> str:
    """The line the manifest gives users to load the folder."""
    return f"datasets.load_from_disk({str(dataset_dir)!r})"


def _sidecar_path(dataset_dir: Path, split: str, filename: str) -> Path:
    return dataset_dir / STATE_DIR / "shards" / split / f"{filename}.json"


# Checks of untrusted JSON: each names the file and the field in one line.


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except OSError as err:
        raise VideolakeError(f"{path}: cannot read ({err.strerror})") from err
    if len(data) > MAX_JSON_BYTES:
        raise VideolakeError(f"{path}: larger than {MAX_JSON_BYTES >> 20} MiB, not a videolake JSON file")
    return data


def _parse_json(data: bytes, path: Path):
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise VideolakeError(f"{path}: not valid JSON (not UTF-8 text: {err.reason} at byte {err.start})") from err
    except json.JSONDecodeError as err:
        raise VideolakeError(f"{path}: not valid JSON ({err})") from err
    except RecursionError as err:
        raise VideolakeError(f"{path}: not valid JSON (nested too deeply)") from err


def read_json(path: Path):
    """A JSON file, or one line saying why not (missing, unreadable, too large, not JSON)."""
    path = Path(path)
    return _parse_json(_read_bytes(path), path)


def _fail(path: Path, field: str, expected: str, value) -> VideolakeError:
    shown = repr(value)
    return VideolakeError(f"{path}: {field} must be {expected}, got {shown[:80] + '...' if len(shown) > 80 else shown}")


def _mapping(value, path: Path, field: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, field, "a JSON object", value)
    return value


def _count(value, path: Path, field: str, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (maximum is not None and value > maximum):
        raise _fail(path, field, "a whole number >= 0" + (f" and <= {maximum}" if maximum is not None else ""), value)
    return value


def _number(value, path: Path, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _fail(path, field, "a number >= 0", value)
    return value


def _string(value, path: Path, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, field, "a string", value)
    return value


def _source_ids(value, path: Path, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise _fail(path, field, "a list of source ids", value)
    return tuple(value)


def _sha256(value, path: Path, field: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= HEX:
        raise _fail(path, field, "64 lowercase hex digits", value)
    return value


def _plain_name(value, path: Path, field: str) -> str:
    """A single path component: manifests name folders and files, and must never point outside."""
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or "/" in value
        or "\\" in value
        or "\0" in value
    ):
        raise _fail(path, field, "a plain file or folder name", value)
    return value


def _require(document: dict, fields, path: Path, prefix: str = "") -> None:
    for name in fields:
        if name not in document:
            raise VideolakeError(f"{path}: missing field {prefix + name!r}")


def _skipped(value, path: Path, field: str) -> tuple[Skipped, ...]:
    if not isinstance(value, list):
        raise _fail(path, field, "a list", value)
    return tuple(Skipped.from_dict(entry, f"{path}: {field}[{position}]") for position, entry in enumerate(value))


# Typed metadata: what the files hold, built by the code that writes them, checked when read.


@dataclass(frozen=True)
class ShardInfo:
    """What the manifest and the sidecar say of one shard file."""

    rows: int
    bytes: int
    sha256: str

    @classmethod
    def of(cls, data: bytes, rows: int) -> ShardInfo:
        return cls(rows, len(data), hashlib.sha256(data).hexdigest())

    def to_dict(self) -> dict:
        return {"rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, document, path: Path, where: str = "") -> ShardInfo:
        """``where``: the object's place in the file (``shards['train/...']``), empty at the top."""
        prefix = f"{where}." if where else ""
        document = _mapping(document, path, where or "the file")
        size = _count(document.get("bytes"), path, f"{prefix}bytes", maximum=MAX_FILE_BYTES)
        rows = _count(document.get("rows"), path, f"{prefix}rows", maximum=size)  # a row takes bytes
        return cls(rows, size, _sha256(document.get("sha256"), path, f"{prefix}sha256"))


@dataclass(frozen=True)
class Sources:
    count: int
    digest: str


@dataclass(frozen=True)
class Holdout:
    """The benchmark holdout: which sources the benchmark splits and the other splits read, and
    what the build recorded about how it chose them (rule, fraction, near-duplicate groups, ...)."""

    benchmark_source_ids: tuple[str, ...]
    train_source_ids: tuple[str, ...]
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        ids = {"benchmark_source_ids": list(self.benchmark_source_ids), "train_source_ids": list(self.train_source_ids)}
        return {**self.details, **ids}

    @classmethod
    def from_dict(cls, document, path: Path) -> Holdout:
        document = _mapping(document, path, "holdout")
        benchmark = _source_ids(document.get("benchmark_source_ids"), path, "holdout.benchmark_source_ids")
        train = _source_ids(document.get("train_source_ids"), path, "holdout.train_source_ids")
        details = {k: v for k, v in document.items() if k not in ("benchmark_source_ids", "train_source_ids")}
        return cls(benchmark, train, details)


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: what a dataset folder holds and how it was made. Written last, by
    ``finish_dataset``; a folder without one is not a complete dataset. Older builds lack
    ``schema_version`` and ``fingerprint``; they still open."""

    dataset: str
    seed: int
    recipe: dict  # the resolved recipe document (harden parses it again)
    sources: Sources
    holdout: Holdout
    counts: dict[str, dict[str, int]]  # split -> composition key -> records
    shards: dict[str, ShardInfo]  # shard key -> file; a split's shards in order
    encoder: dict
    versions: dict
    schema_version: int | None = None
    fingerprint: str | None = None
    derived_from: dict | None = None  # curate and harden: the parent's name and manifest sha256, and how

    @property
    def rows(self) -> int:
        return sum(info.rows for info in self.shards.values())

    def to_dict(self) -> dict:
        document = {
            "dataset": self.dataset,
            "seed": self.seed,
            "recipe": self.recipe,
            "sources": {"count": self.sources.count, "digest": self.sources.digest},
            "holdout": self.holdout.to_dict(),
            "counts": self.counts,
            "shards": {key: info.to_dict() for key, info in self.shards.items()},
            "encoder": self.encoder,
            "versions": self.versions,
        }
        optional = {
            "schema_version": self.schema_version,
            "fingerprint": self.fingerprint,
            "derived_from": self.derived_from,
        }
        return {**document, **{name: value for name, value in optional.items() if value is not None}}

    @classmethod
    def from_dict(cls, document, path: Path) -> Manifest:
        """Every field a command reads type-checked; the first wrong one named in one line."""
        document = _mapping(document, path, "the manifest")
        fields = ("dataset", "seed", "recipe", "sources", "holdout", "counts", "shards", "encoder", "versions")
        _require(document, fields, path)
        name = _plain_name(document["dataset"], path, "dataset")
        seed = _count(document["seed"], path, "seed")
        recipe = _mapping(document["recipe"], path, "recipe")
        _require(recipe, ("splits", "shard_size", "description"), path, "recipe.")
        _mapping(recipe["splits"], path, "recipe.splits")
        shard_size = recipe["shard_size"]
        if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
            raise _fail(path, "recipe.shard_size", "a whole number >= 1", shard_size)
        _string(recipe["description"], path, "recipe.description")
        sources = _mapping(document["sources"], path, "sources")
        pool = Sources(
            _count(sources.get("count"), path, "sources.count"), _string(sources.get("digest"), path, "sources.digest")
        )
        holdout = Holdout.from_dict(document["holdout"], path)
        encoder = _mapping(document["encoder"], path, "encoder")
        _string(encoder.get("codec"), path, "encoder.codec")
        _mapping(encoder.get("options"), path, "encoder.options")
        shards = {}
        for key, info in sorted(_mapping(document["shards"], path, "shards").items()):
            if split_shard_key(key) is None:
                raise _fail(path, "every key of shards", "'<split>/data-NNNNN-of-NNNNN.arrow'", key)
            shards[key] = ShardInfo.from_dict(info, path, f"shards[{key!r}]")
        if not shards:
            raise VideolakeError(f"{path}: shards lists no shard (every split of a build has at least one)")
        total = sum(info.rows for info in shards.values())
        splits = sorted({split_shard_key(key)[0] for key in shards})
        counts = _mapping(document["counts"], path, "counts")
        if sorted(counts) != splits:
            raise _fail(path, "the splits of counts", f"those of shards, {splits}", sorted(counts))
        for split, split_counts in counts.items():
            for key, value in _mapping(split_counts, path, f"counts[{split!r}]").items():
                if split_composition_key(key) is None:
                    raise _fail(path, f"every key of counts[{split!r}]", "'task/subtype/tier'", key)
                _count(value, path, f"counts[{split!r}][{key!r}]", maximum=total)
        derived_from = document.get("derived_from")
        return cls(
            dataset=name,
            seed=seed,
            recipe=recipe,
            sources=pool,
            holdout=holdout,
            counts=counts,
            shards=shards,
            encoder=encoder,
            versions=_mapping(document["versions"], path, "versions"),
            schema_version=document.get("schema_version"),
            fingerprint=document.get("fingerprint"),
            derived_from=None if derived_from is None else _mapping(derived_from, path, "derived_from"),
        )


@dataclass(frozen=True)
class Sidecar:
    """A finished shard's record, written after the shard: a build resumes every shard without one."""

    shard: str  # its key
    rows: int
    planned: int
    bytes: int
    sha256: str
    counts: dict[str, int]
    skipped: tuple[Skipped, ...]
    polish: dict[str, int]  # polish outcomes, when polished
    seconds: float

    @property
    def info(self) -> ShardInfo:
        return ShardInfo(self.rows, self.bytes, self.sha256)

    def to_dict(self) -> dict:
        return {
            "shard": self.shard,
            "rows": self.rows,
            "planned": self.planned,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "counts": self.counts,
            "skipped": [entry.to_dict() for entry in self.skipped],
            "polish": self.polish,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, document, path: Path) -> Sidecar:
        document = _mapping(document, path, "the sidecar")
        _require(document, ("shard", "rows", "planned", "bytes", "sha256", "counts", "skipped", "seconds"), path)
        if split_shard_key(document["shard"]) is None:
            raise _fail(path, "shard", "'<split>/data-NNNNN-of-NNNNN.arrow'", document["shard"])
        info = ShardInfo.from_dict(document, path)
        counts = _mapping(document["counts"], path, "counts")
        for key, value in counts.items():
            _count(value, path, f"counts[{key!r}]", maximum=info.rows)
        polish = _mapping(document.get("polish", {}), path, "polish")  # older sidecars have none
        for key, value in polish.items():
            _count(value, path, f"polish[{key!r}]")
        return cls(
            shard=document["shard"],
            rows=info.rows,
            planned=_count(document["planned"], path, "planned"),
            bytes=info.bytes,
            sha256=info.sha256,
            counts=counts,
            skipped=_skipped(document["skipped"], path, "skipped"),
            polish=polish,
            seconds=_number(document["seconds"], path, "seconds"),
        )


@dataclass(frozen=True)
class BuildReport:
    """``build_report.json``: what a build planned, wrote and left out, and why."""

    dataset: str
    planned_samples: int
    written_samples: int
    sources_found: int
    skipped: tuple[Skipped, ...]
    polish: dict[str, int]
    annotation_shortfalls: tuple[dict, ...]
    shard_seconds: dict[str, float]
    audit: dict  # blind baselines per task/subtype/tier (videolake audit): what the text alone predicts
    fingerprint: dict | None = None  # near-duplicate grouping of the pool, when it ran

    def to_dict(self) -> dict:
        document = {
            "dataset": self.dataset,
            "planned_samples": self.planned_samples,
            "written_samples": self.written_samples,
            "sources_found": self.sources_found,
            "skipped": [entry.to_dict() for entry in self.skipped],
            "polish": self.polish,
            "annotation_shortfalls": list(self.annotation_shortfalls),
            "shard_seconds": self.shard_seconds,
            "audit": self.audit,
        }
        return {**document, "fingerprint": self.fingerprint} if self.fingerprint is not None else document

    @classmethod
    def from_dict(cls, document, path: Path) -> BuildReport:
        """Older reports lack the audit, polish and shortfall fields: they read as empty."""
        document = _mapping(document, path, "the build report")
        fields = ("dataset", "planned_samples", "written_samples", "sources_found", "skipped", "shard_seconds")
        _require(document, fields, path)
        shortfalls = document.get("annotation_shortfalls", [])
        if not isinstance(shortfalls, list) or not all(isinstance(entry, dict) for entry in shortfalls):
            raise _fail(path, "annotation_shortfalls", "a list of JSON objects", shortfalls)
        seconds = _mapping(document["shard_seconds"], path, "shard_seconds")
        for key, value in seconds.items():
            _number(value, path, f"shard_seconds[{key!r}]")
        polish = _mapping(document.get("polish", {}), path, "polish")
        for key, value in polish.items():
            _count(value, path, f"polish[{key!r}]")
        fingerprint = document.get("fingerprint")
        return cls(
            dataset=_string(document["dataset"], path, "dataset"),
            planned_samples=_count(document["planned_samples"], path, "planned_samples"),
            written_samples=_count(document["written_samples"], path, "written_samples"),
            sources_found=_count(document["sources_found"], path, "sources_found"),
            skipped=_skipped(document["skipped"], path, "skipped"),
            polish=polish,
            annotation_shortfalls=tuple(shortfalls),
            shard_seconds=seconds,
            audit=_mapping(document.get("audit", {}), path, "audit"),
            fingerprint=None if fingerprint is None else _mapping(fingerprint, path, "fingerprint"),
        )


# Reading.


@dataclass(frozen=True)
class Shard:
    """A shard of an opened dataset: its key, where its file is, and what the manifest says of it."""

    key: str  # "<split>/<file name>", as the manifest lists it
    split: str
    path: Path
    rows: int
    bytes: int
    sha256: str

    @property
    def number(self) -> int:
        return shard_number(self.path.name)


@dataclass(frozen=True)
class Dataset:
    dir: Path
    manifest: Manifest
    shards: tuple[Shard, ...]  # sorted by key: train/... after test/..., shard order within a split
    manifest_sha256: str  # of the manifest's bytes as read: a derived dataset names its parent by it

    @property
    def name(self) -> str:
        return self.manifest.dataset

    @property
    def splits(self) -> list[str]:
        return sorted({shard.split for shard in self.shards})

    @property
    def manifest_path(self) -> Path:
        """Where the manifest is, for messages that name it."""
        return self.dir / MANIFEST_FILE

    def split_shards(self, split: str | None = None) -> list[Shard]:
        """The shards of ``split`` (all when None); an unknown split is one line naming the ones there are."""
        if split is not None and split not in self.splits:
            raise VideolakeError(f"{self.dir} has no split {split!r} (it has: {', '.join(self.splits) or 'none'})")
        return [shard for shard in self.shards if split is None or shard.split == split]

    def table(self, shard: Shard, columns: list[str] | None = None) -> pa.Table:
        try:
            table = shard_table(shard)
        except VideolakeError as err:
            raise VideolakeError(f"{self.dir}/{err}") from err
        return table.select(columns) if columns else table

    def hf_split(self, split: str):
        """``split`` as a ``datasets.Dataset`` of the verified shard files alone (``load_from_disk``
        would read whatever ``state.json`` lists)."""
        import datasets

        shards = self.split_shards(split)
        for shard in shards:
            self.table(shard)  # the schema and row count the manifest promises, before datasets maps the file
        return datasets.concatenate_datasets([datasets.Dataset.from_file(str(shard.path)) for shard in shards])

    def records(self, split: str | None = None, columns: list[str] | None = None) -> Iterator[tuple[str, dict]]:
        """(split, record) for every record, shard by shard (one shard in memory at a time)."""
        for shard in self.split_shards(split):
            for record in self.table(shard, columns).to_pylist():
                yield shard.split, record

    def lineage(self, **how) -> dict:
        """The ``derived_from`` of a dataset made from this one (``how``: what curate or harden did)."""
        return {"dataset": self.name, "manifest_sha256": self.manifest_sha256, **how}


def parse_manifest(dataset_dir: Path) -> tuple[Manifest, tuple[Shard, ...], str]:
    """The type-checked manifest, its shards, and the sha256 of its bytes."""
    path = dataset_dir / MANIFEST_FILE
    if not path.is_file():
        raise VideolakeError(f"{dataset_dir} is not a complete videolake build (no {MANIFEST_FILE})")
    data = _read_bytes(path)
    manifest = Manifest.from_dict(_parse_json(data, path), path)
    shards = []
    for key, info in manifest.shards.items():
        split, filename = split_shard_key(key)
        shards.append(Shard(key, split, dataset_dir / split / filename, info.rows, info.bytes, info.sha256))
    return manifest, tuple(shards), hashlib.sha256(data).hexdigest()


def read_manifest(dataset_dir: Path) -> Manifest:
    """The type-checked manifest, without reading the shards (``open_dataset`` verifies them too)."""
    return parse_manifest(Path(dataset_dir))[0]


def read_report(dataset_dir: Path) -> BuildReport:
    path = Path(dataset_dir) / REPORT_FILE
    return BuildReport.from_dict(read_json(path), path)


def report_path(dataset_dir: Path) -> Path:
    """Where a build's report is, for a user to read."""
    return Path(dataset_dir) / REPORT_FILE


def datasets_in(out: Path) -> list[Path]:
    """The complete dataset folders directly inside ``out`` (those with a manifest)."""
    return sorted(path.parent for path in Path(out).glob(f"*/{MANIFEST_FILE}"))


def read_holdout(dataset_dir: Path) -> tuple[str, Holdout]:
    """Another build's pool digest and holdout, reading only those fields (older and minimal
    manifests have little else); a manifest without them is one line naming it."""
    path = Path(dataset_dir) / MANIFEST_FILE
    document = read_json(path)
    try:
        sources = _mapping(_mapping(document, path, "the manifest").get("sources"), path, "sources")
        return _string(sources.get("digest"), path, "sources.digest"), Holdout.from_dict(document.get("holdout"), path)
    except VideolakeError as err:
        raise VideolakeError(
            f"{path}: not a videolake manifest (no sources.digest and holdout source ids), so this build's holdout "
            "cannot be checked against it: remove it or build into another --out"
        ) from err


# Writing: build, curate and harden all write a folder through these.


def write_shard_file(dataset_dir: Path, split: str, filename: str, records: list[dict]) -> ShardInfo:
    """One shard file, complete or not at all."""
    data = serialize_shard(records)
    atomic_write_bytes(dataset_dir / split / filename, data)
    return ShardInfo.of(data, len(records))


def write_splits(dataset_dir: Path, records: dict[str, list[dict]], shard_size: int) -> dict[str, ShardInfo]:
    """Each split's records in shards of ``shard_size``, in order; a split with no records keeps one
    empty shard (loaders need a file to know the split)."""
    shards = {}
    for split, rows in records.items():
        count = max(1, math.ceil(len(rows) / shard_size))
        for index in range(count):
            chunk = rows[index * shard_size : (index + 1) * shard_size]
            filename = shard_filename(index, count)
            shards[shard_key(split, filename)] = write_shard_file(dataset_dir, split, filename, chunk)
    return shards


def count_compositions(records) -> dict[str, int]:
    """Records per composition key, as the manifest and the sidecars count them."""
    return dict(Counter(record_composition(record) for record in records))


def shard_finished(dataset_dir: Path, split: str, filename: str) -> bool:
    """Whether the shard was written completely (its sidecar exists)."""
    return _sidecar_path(dataset_dir, split, filename).exists()


def write_sidecar(dataset_dir: Path, sidecar: Sidecar) -> None:
    atomic_write_json(_sidecar_path(dataset_dir, *split_shard_key(sidecar.shard)), sidecar.to_dict())


def read_sidecar(dataset_dir: Path, split: str, filename: str) -> Sidecar:
    path = _sidecar_path(dataset_dir, split, filename)
    return Sidecar.from_dict(read_json(path), path)


def claim_output(dataset_dir: Path, fingerprint: str) -> None:
    """Refuse to mix two different builds in one folder; the same build resumes."""
    marker = dataset_dir / STATE_DIR / "build.json"
    if marker.exists():
        claimed = read_json(marker)
        if not isinstance(claimed, dict) or claimed.get("fingerprint") != fingerprint:
            raise VideolakeError(
                f"{dataset_dir} holds a different build (recipe, seed, sources or encoder differ): "
                "remove it or choose another --out"
            )
        return
    if dataset_dir.exists() and any(dataset_dir.iterdir()):
        raise VideolakeError(f"{dataset_dir} exists and is not a videolake build: remove it or choose another --out")
    atomic_write_json(marker, {"fingerprint": fingerprint})


def finish_dataset(
    dataset_dir: Path, manifest: Manifest, *, report: BuildReport | None = None, home: Path | None = None
) -> None:
    """Complete a folder whose shards are written: the build report (builds), datasets' state
    files, and the manifest last. ``home``: where the folder is moved once complete (curate
    writes beside it), which the manifest's load line names."""
    if report is not None:
        atomic_write_json(dataset_dir / REPORT_FILE, report.to_dict())
    split_files: dict[str, list[tuple[str, str]]] = {}
    for key, info in manifest.shards.items():
        split, filename = split_shard_key(key)
        split_files.setdefault(split, []).append((filename, info.sha256))
    write_dataset_files(dataset_dir, split_files, manifest.recipe["description"])
    document = {**manifest.to_dict(), "load": load_call(home if home is not None else dataset_dir)}
    atomic_write_json(dataset_dir / MANIFEST_FILE, document)


# Verifying.


def shard_problem(shard: Shard) -> str | None:
    """Why the file is not the shard the manifest lists (missing, another size, another sha256), or None."""
    try:
        size = os.stat(shard.path).st_size
    except FileNotFoundError:
        return f"{shard.key}: missing"
    except OSError as err:
        return f"{shard.key}: cannot read ({err.strerror})"
    if not shard.path.is_file():
        return f"{shard.key}: not a regular file"
    if size != shard.bytes:
        return f"{shard.key}: {size} bytes, the manifest says {shard.bytes}"
    try:
        digest = sha256_file(shard.path)
    except OSError as err:
        return f"{shard.key}: cannot read ({err.strerror})"
    return None if digest == shard.sha256 else f"{shard.key}: sha256 does not match the manifest"


def shard_table(shard: Shard) -> pa.Table:
    """One shard's rows; a file that is not the Arrow stream of records the manifest describes is one line."""
    try:
        table = read_shard(shard.path)
    except (pa.ArrowException, OSError) as err:
        raise VideolakeError(f"{shard.key}: not a readable Arrow shard ({str(err)[:120]})") from err
    if not table.schema.equals(RECORD_SCHEMA, check_metadata=False):
        raise VideolakeError(f"{shard.key}: schema differs from the record schema")
    if table.num_rows != shard.rows:
        raise VideolakeError(f"{shard.key}: {table.num_rows} rows, the manifest says {shard.rows}")
    return table


def open_dataset(dataset_dir: Path, *, verify: bool = True) -> Dataset:
    """A dataset whose manifest has the right shape and (``verify``) whose shard files are exactly
    the ones the manifest lists; otherwise one error naming the first bad file."""
    dataset_dir = Path(dataset_dir)
    manifest, shards, digest = parse_manifest(dataset_dir)
    if verify:
        for shard in shards:
            problem = shard_problem(shard)
            if problem:
                raise VideolakeError(
                    f"{dataset_dir}/{problem} (the dataset changed after it was built: rebuild it or run videolake validate)"
                )
    return Dataset(dataset_dir, manifest, shards, digest)


def record_meta(record: dict) -> dict:
    """A record's ``meta`` as a JSON object, or one line naming the record."""
    meta = record.get("meta")
    where = record.get("id", "?")
    if not isinstance(meta, str) or len(meta) > MAX_META_CHARS:
        raise VideolakeError(f"{where}: meta must be a JSON object of at most {MAX_META_CHARS >> 20} MiB")
    try:
        value = json.loads(meta)
    except (json.JSONDecodeError, RecursionError) as err:
        raise VideolakeError(f"{where}: meta is not valid JSON ({type(err).__name__})") from err
    if not isinstance(value, dict):
        raise VideolakeError(f"{where}: meta must be a JSON object, got {type(value).__name__}")
    return value


@contextmanager
def reading_record(record: dict):
    """Generator code trusts meta (validate checked it); meta of the wrong shape is one line naming
    the record instead of a traceback from deep inside a task."""
    try:
        yield
    except META_ERRORS as err:
        raise VideolakeError(
            f"{record.get('id', '?')}: meta does not fit the record ({type(err).__name__}: {str(err)[:120]})"
        ) from err


def refuse_output_inside(output: Path, *inputs: Path) -> None:
    """A command never writes inside what it reads, nor around it: refuse ``output`` when it is an
    input, lies inside one, or holds one (symlinks resolved)."""
    target = Path(output).resolve()
    for source in inputs:
        resolved = Path(source).resolve()
        if target == resolved:
            raise VideolakeError(f"{output} is the input {source}: choose an output folder outside it")
        if target.is_relative_to(resolved):
            raise VideolakeError(f"{output} is inside the input {source}: choose an output folder outside it")
        if resolved.is_relative_to(target):
            raise VideolakeError(f"{output} holds the input {source}: choose an output folder that does not contain it")
