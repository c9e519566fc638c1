"""The bytes of a dataset folder: Arrow shards, and files written so that nothing half-written is
ever taken as complete (each goes to a temporary name in its final folder, is flushed to disk, then
renamed). ``pipeline/dataset.py`` decides what is written where and in which order;
``datasets.load_from_disk`` works only once the ``state.json`` files written here exist.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa

from videolake.schemas import RECORD_SCHEMA

ROWS_PER_BATCH = 16


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)  # disk full, Ctrl-C: never leave half a file behind
        if isinstance(err, OSError) and err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err  # name the file the user must look at
        raise


def remove_temporary_files(folder: Path) -> int:
    """Half-written files a killed build left (kill -9 skips the cleanup above); run before resuming."""
    stale = [p for p in folder.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def atomic_write_json(path: Path, document) -> None:
    atomic_write_bytes(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())


def serialize_shard(records: list[dict]) -> bytes:
    """Arrow IPC stream bytes (the format ``datasets`` memory-maps); identical records give identical bytes."""
    table = pa.Table.from_pylist(records, schema=RECORD_SCHEMA)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, RECORD_SCHEMA) as writer:
        # An all-skipped shard still holds one empty batch: readers need one to know the columns.
        for batch in table.to_batches(max_chunksize=ROWS_PER_BATCH) or [
            pa.RecordBatch.from_pylist([], schema=RECORD_SCHEMA)
        ]:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def read_shard(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_dataset_files(dataset_dir: Path, split_files: dict[str, list[tuple[str, str]]], description: str) -> None:
    """The small JSON files that make ``datasets.load_from_disk(dataset_dir)`` return a DatasetDict.

    ``split_files`` maps each split to its (shard file name, sha256) pairs, in order.
    """
    for split, files in split_files.items():
        folder = dataset_dir / split
        atomic_write_json(
            folder / "dataset_info.json", {"description": description, "citation": "", "homepage": "", "license": ""}
        )
        fingerprint = hashlib.sha256("".join(sha for _, sha in files).encode()).hexdigest()[:16]
        atomic_write_json(
            folder / "state.json",
            {
                "_data_files": [{"filename": name} for name, _ in files],
                "_fingerprint": fingerprint,
                "_format_columns": None,
                "_format_kwargs": {},
                "_format_type": None,
                "_output_all_columns": False,
                "_split": split,
            },
        )
    atomic_write_json(dataset_dir / "dataset_dict.json", {"splits": list(split_files)})
