"""Open a built dataset only after checking it: the manifest parsed and type-checked, every shard
file's size and sha256 compared with the manifest, the first bad file named in one line.

Every command that reads a dataset (export, publish, curate, harden, inspect, score, train) opens
it here, so a tampered or truncated shard, or a manifest of the wrong shape, stops the command
before it writes anything. ``validate`` uses the same checks but reports every problem instead.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from videolake import VideolakeError
from videolake.pipeline.shards import read_shard, sha256_file
from videolake.schemas import RECORD_SCHEMA

MANIFEST = "manifest.json"
MAX_JSON_BYTES = 64 << 20  # a manifest or state file is kilobytes; more is not ours (and would exhaust memory)
MAX_META_CHARS = 16 << 20
MAX_FILE_BYTES = 2**63 - 1  # the largest file size a file system can report
HEX = frozenset("0123456789abcdef")
SHARD_NAME = re.compile(r"data-[0-9]{5,}-of-[0-9]{5,}\.arrow")  # what builds and curate write: never a path
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


def read_json(path: Path):
    """A JSON file, or one line saying why not (missing, unreadable, too large, not JSON)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except OSError as err:
        raise VideolakeError(f"{path}: cannot read ({err.strerror})") from err
    if len(data) > MAX_JSON_BYTES:
        raise VideolakeError(f"{path}: larger than {MAX_JSON_BYTES >> 20} MiB, not a videolake JSON file")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise VideolakeError(f"{path}: not valid JSON (not UTF-8 text: {err.reason} at byte {err.start})") from err
    except json.JSONDecodeError as err:
        raise VideolakeError(f"{path}: not valid JSON ({err})") from err
    except RecursionError as err:
        raise VideolakeError(f"{path}: not valid JSON (nested too deeply)") from err


@dataclass(frozen=True)
class Shard:
    key: str  # "<split>/<file name>", as the manifest lists it
    split: str
    path: Path
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Dataset:
    dir: Path
    manifest: dict
    shards: tuple[Shard, ...]  # sorted by key: train/... after test/..., shard order within a split

    @property
    def name(self) -> str:
        return self.manifest["dataset"]

    @property
    def splits(self) -> list[str]:
        return sorted({shard.split for shard in self.shards})

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


def _string(value, path: Path, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, field, "a string", value)
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


def parse_manifest(dataset_dir: Path) -> tuple[dict, tuple[Shard, ...]]:
    """The manifest, with every field a command reads type-checked, and its shards."""
    path = dataset_dir / MANIFEST
    if not path.is_file():
        raise VideolakeError(f"{dataset_dir} is not a complete videolake build (no {MANIFEST})")
    manifest = _mapping(read_json(path), path, "the manifest")
    for field in ("dataset", "seed", "recipe", "sources", "holdout", "counts", "shards", "encoder", "versions"):
        if field not in manifest:
            raise VideolakeError(f"{path}: missing field {field!r}")
    _plain_name(manifest["dataset"], path, "dataset")
    _count(manifest["seed"], path, "seed")
    recipe = _mapping(manifest["recipe"], path, "recipe")
    for field in ("splits", "shard_size", "description"):
        if field not in recipe:
            raise VideolakeError(f"{path}: missing field 'recipe.{field}'")
    _mapping(recipe["splits"], path, "recipe.splits")
    if isinstance(recipe["shard_size"], bool) or not isinstance(recipe["shard_size"], int) or recipe["shard_size"] < 1:
        raise _fail(path, "recipe.shard_size", "a whole number >= 1", recipe["shard_size"])
    _string(recipe["description"], path, "recipe.description")
    sources = _mapping(manifest["sources"], path, "sources")
    _count(sources.get("count"), path, "sources.count")
    _string(sources.get("digest"), path, "sources.digest")
    holdout = _mapping(manifest["holdout"], path, "holdout")
    for field in ("benchmark_source_ids", "train_source_ids"):
        ids = holdout.get(field)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _fail(path, f"holdout.{field}", "a list of source ids", ids)
    encoder = _mapping(manifest["encoder"], path, "encoder")
    _string(encoder.get("codec"), path, "encoder.codec")
    _mapping(encoder.get("options"), path, "encoder.options")
    _mapping(manifest["versions"], path, "versions")

    shards = []
    for key, info in sorted(_mapping(manifest["shards"], path, "shards").items()):
        split, _, filename = key.partition("/")
        if not split.isidentifier() or not SHARD_NAME.fullmatch(filename):
            raise _fail(path, "every key of shards", "'<split>/data-NNNNN-of-NNNNN.arrow'", key)
        info = _mapping(info, path, f"shards[{key!r}]")
        size = _count(info.get("bytes"), path, f"shards[{key!r}].bytes", maximum=MAX_FILE_BYTES)
        rows = _count(info.get("rows"), path, f"shards[{key!r}].rows", maximum=size)  # a row takes bytes
        sha256 = info.get("sha256")
        if not isinstance(sha256, str) or len(sha256) != 64 or not set(sha256) <= HEX:
            raise _fail(path, f"shards[{key!r}].sha256", "64 lowercase hex digits", sha256)
        shards.append(Shard(key, split, dataset_dir / split / filename, rows, size, sha256))
    if not shards:
        raise VideolakeError(f"{path}: shards lists no shard (every split of a build has at least one)")
    total = sum(shard.rows for shard in shards)
    splits = sorted({shard.split for shard in shards})
    if sorted(_mapping(manifest["counts"], path, "counts")) != splits:
        raise _fail(path, "the splits of counts", f"those of shards, {splits}", sorted(manifest["counts"]))
    for split, counts in manifest["counts"].items():
        for key, value in _mapping(counts, path, f"counts[{split!r}]").items():
            if not isinstance(key, str) or key.count("/") != 2:
                raise _fail(path, f"every key of counts[{split!r}]", "'task/subtype/tier'", key)
            _count(value, path, f"counts[{split!r}][{key!r}]", maximum=total)
    return manifest, tuple(shards)


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
    manifest, shards = parse_manifest(dataset_dir)
    if verify:
        for shard in shards:
            problem = shard_problem(shard)
            if problem:
                raise VideolakeError(
                    f"{dataset_dir}/{problem} (the dataset changed after it was built: rebuild it or run videolake validate)"
                )
    return Dataset(dataset_dir, manifest, shards)


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
