"""The build, top to bottom: sources -> plan -> Dask tasks per pending shard -> manifest.

    discover sources (archive listings run on the cluster)
    plan samples into shards (pure: recipe + seed + sources)
    for every shard without a sidecar: build_piece per few samples = decode, generate, encode;
        then write_shard = concatenate the pieces in plan order, write, sidecar
    finalize: the build report, datasets' state files, the manifest (pipeline/dataset.py writes them)

Workers take pieces of shards, not whole shards, so that a build with fewer shards than workers
(or a last wave of shards) still keeps every core busy.

A shard is written under a temporary name and renamed, then its sidecar is written, so an
interrupted build (Ctrl-C, kill -9 of the driver or a worker) re-run with the same command
redoes only the shards that have no sidecar. Shard bytes depend only on the plan, never on
how many workers ran it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from videolake import VideolakeError, __version__
from videolake.pipeline.annotations import read_recipe_annotations
from videolake.pipeline.audit import audit_rows, read_rows
from videolake.pipeline.audit import summary as audit_summary
from videolake.pipeline.dataset import (
    BuildReport,
    Holdout,
    Manifest,
    Sidecar,
    Sources,
    claim_output,
    count_compositions,
    datasets_in,
    finish_dataset,
    read_holdout,
    read_sidecar,
    shard_finished,
    write_shard_file,
    write_sidecar,
)
from videolake.pipeline.encode import Encoder, choose_encoder, with_options
from videolake.pipeline.fingerprint import Grouping, group_pool
from videolake.pipeline.ingest import Skipped, discover, list_archive, resolve_root
from videolake.pipeline.plan import Plan, SampleSpec, Shard, make_plan, sources_digest
from videolake.pipeline.polish import Polisher, outcome
from videolake.pipeline.recipes import Recipe
from videolake.pipeline.records import make_records
from videolake.pipeline.shards import remove_temporary_files
from videolake.schemas import SCHEMA_VERSION

PIECE_SAMPLES = 8  # samples per task: small enough to balance workers at a shard's tail, large enough to amortize Dask's per-task cost
PIECES_IN_FLIGHT_PER_WORKER = 2  # enough to keep every worker busy while the next shard is planned


def shard_pieces(samples) -> list[list[SampleSpec]]:
    """A shard's samples in pieces of about PIECE_SAMPLES, for separate workers.

    Samples that read the same source file, or the same archive, stay in one piece: a piece reads
    each of its sources once and samples it at the density all its samples need, exactly as the
    whole shard would, so the records (and the shard's bytes) do not depend on the split."""
    units: dict[str, list[SampleSpec]] = {}
    for spec in samples:
        source = spec.source
        key = (
            spec.id
            if source is None
            else (f"archive:{source.container}" if source.member is not None else f"file:{source.source_id}")
        )
        units.setdefault(key, []).append(spec)
    pieces: list[list[SampleSpec]] = [[]]
    for unit in units.values():
        if len(pieces[-1]) >= PIECE_SAMPLES:
            pieces.append([])
        pieces[-1].extend(unit)
    return [piece for piece in pieces if piece]


def build_piece(
    samples: list[SampleSpec], frames: int, max_size, encoder: Encoder, polisher: Polisher | None = None
) -> dict:
    """Runs on a worker: the records of some of a shard's samples, kept in the worker's memory
    until ``write_shard`` takes them."""
    started = time.perf_counter()
    records, skipped = make_records(samples, frames, max_size, encoder, polisher)
    skipped = [Skipped(entry["source_id"], entry["reason"], tuple(entry["samples"])) for entry in skipped]
    return {"records": records, "skipped": skipped, "seconds": time.perf_counter() - started}


def write_shard(dataset_dir: Path, shard: Shard, pieces: list[dict]) -> Sidecar:
    """Runs on a worker: the shard's records in plan order, written under a temporary name and
    renamed, then its sidecar (the mark of a finished shard)."""
    by_id = {record["id"]: record for piece in pieces for record in piece["records"]}
    records = [by_id[spec.id] for spec in shard.samples if spec.id in by_id]
    info = write_shard_file(dataset_dir, shard.split, shard.filename, records)
    polish_outcomes = Counter(
        outcome(json.loads(r["meta"])["reasoning_polish"]) for r in records if '"reasoning_polish"' in r["meta"]
    )  # set only when polished
    sidecar = Sidecar(
        shard=shard.key,
        rows=info.rows,
        planned=len(shard.samples),
        bytes=info.bytes,
        sha256=info.sha256,
        counts=count_compositions(records),
        skipped=tuple(entry for piece in pieces for entry in piece["skipped"]),
        polish=dict(polish_outcomes),
        seconds=round(sum(piece["seconds"] for piece in pieces), 3),
    )
    write_sidecar(dataset_dir, sidecar)
    return sidecar


def make_client(workers: int | None, scheduler: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise VideolakeError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from err
    workers = workers or os.cpu_count() or 1
    logging.getLogger("distributed").setLevel(logging.WARNING)  # the progress bar says what matters
    # Worker processes inherit an ignored SIGINT, so Ctrl-C reaches only this driver, which stops
    # the cluster and says how to resume, instead of every worker printing a traceback.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    return Client(cluster)


def build(
    recipe: Recipe,
    sources: str | None,
    out: Path,
    *,
    seed: int | None = None,
    limit: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    encoder_name: str = "auto",
    progress: bool = True,
    polisher: Polisher | None = None,
    select: dict[str, set[int]] | None = None,
    check_plan: Callable[[Plan], None] | None = None,
    annotations_outside_sources: bool = False,
    exclude: Path | None = None,
    derived_from: dict | None = None,
) -> Path:
    """``check_plan``: a caller's check of the plan (harden: the parent's sources), run before anything is written.
    ``derived_from``: the parent a derived build names in its manifest (harden).
    ``exclude``: benchmark videos (a folder or a ``videolake fingerprint`` file) whose copies no split uses."""
    dataset_dir = Path(out) / recipe.name
    cache_dir = Path(out) / ".videolake-cache"  # shared by every dataset built into OUT
    if sources is None and recipe.needs_sources:
        raise VideolakeError(f"recipe {recipe.name} needs video sources: pass --sources")
    if exclude is not None and sources is None:
        raise VideolakeError("--exclude keeps copies of benchmark videos out of --sources: pass --sources too")
    if exclude is not None and not Path(exclude).exists():
        raise VideolakeError(f"--exclude {exclude}: no such folder or fingerprint file")
    with build_lock(Path(out), recipe.name):  # also the first write: a read-only OUT fails here, at once
        root, under = resolve_root(sources, cache_dir / "hub") if sources is not None else (None, None)
        encoder = with_options(choose_encoder(encoder_name), recipe.x264)
        client = make_client(workers, scheduler)
        try:

            def list_archives(paths):
                return client.gather(client.map(list_archive, [str(p) for p in paths], pure=False)) if paths else []

            found, discovery_skips = (
                discover(root, cache_dir / "archives", list_archives, under) if root is not None else ([], [])
            )
            found = sorted(found)[:limit] if limit else found
            annotated, annotation_skips = read_recipe_annotations(recipe, root, found, annotations_outside_sources)
            discovery_skips += annotation_skips
            grouping = None
            if root is not None and (recipe.holdout_fraction > 0 or exclude is not None):

                def on_cluster(function, *arguments):
                    return client.gather(client.map(function, *arguments, pure=False))

                listed = {s.source_id for s in found}
                unlisted = sorted(
                    {a.source for samples in annotated.values() for a in samples if a.source.source_id not in listed}
                )  # GOT-10k frame folders
                grouping = group_pool(found + unlisted, cache_dir / "fingerprints", on_cluster, exclude)
            duplicates, excluded = (grouping.duplicates, sorted(grouping.excluded)) if grouping else ((), ())
            plan = make_plan(
                recipe,
                found,
                seed=seed,
                limit=limit,
                select=select,
                annotated=annotated,
                duplicates=duplicates,
                excluded=excluded,
            )
            check_holdout(plan, Path(out))
            if check_plan is not None:
                check_plan(plan)
            fingerprint = plan.fingerprint(encoder.describe(), polisher.describe() if polisher else None)
            claim_output(dataset_dir, fingerprint)
            remove_temporary_files(dataset_dir)
            shards = plan.shards
            pending = [i for i in range(len(shards)) if not shard_finished(dataset_dir, *shards.name(i))]
            with interrupt_guard() as interrupted:
                run_shards(
                    client,
                    dataset_dir,
                    plan,
                    pending,
                    encoder=encoder,
                    progress=progress,
                    polisher=polisher,
                    interrupted=interrupted,
                )
        finally:
            cluster = client.cluster  # ours when local; None for an existing --scheduler, left running
            client.close()
            if cluster is not None:
                cluster.close()
        finalize(
            dataset_dir,
            plan,
            fingerprint=fingerprint,
            encoder=encoder,
            discovery_skips=discovery_skips,
            root=root,
            grouping=grouping,
            derived_from=derived_from,
        )
    return dataset_dir


@contextmanager
def build_lock(out: Path, name: str):
    """One build per dataset folder at a time; the lock dies with its process (kill -9 included)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f".{name}.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise VideolakeError(
                f"{out / name} is being built by {holder}: wait for it to finish, or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def interrupt_guard():
    """Ctrl-C stops the build even if Dask's client machinery catches the KeyboardInterrupt
    (seen: an interrupted build that ran on to exit 0): the handler also sets a flag, checked
    after every finished task and once more before the manifest is written.

    A KeyboardInterrupt that lands inside a ``__del__`` (seen: distributed's ``Future.__del__``)
    is swallowed by Python and printed as a traceback; the flag still stops the build, so that
    report is silenced instead of shown to the user."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted  # signals reach only the main thread; nothing to guard
        return

    def on_sigint(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    def on_unraisable(unraisable):
        if not (interrupted.is_set() and unraisable.exc_type is KeyboardInterrupt):
            previous_hook(unraisable)

    previous, previous_hook = signal.signal(signal.SIGINT, on_sigint), sys.unraisablehook
    sys.unraisablehook = on_unraisable
    try:
        yield interrupted
        if interrupted.is_set():
            raise KeyboardInterrupt
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


def run_shards(
    client,
    dataset_dir: Path,
    plan: Plan,
    pending: list[int],
    *,
    encoder: Encoder,
    progress: bool,
    polisher: Polisher | None = None,
    interrupted: threading.Event | None = None,
) -> None:
    """Submit the pending shards' pieces a few per worker at a time, each shard's write after its
    pieces: a shard's samples are planned just before it is submitted, so the driver never holds
    the whole plan, however large the recipe."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    if not pending:
        return
    recipe, shards = plan.recipe, plan.shards
    queue = iter(pending)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    finished = as_completed()
    writes: set[str] = set()
    piece_sizes: dict[str, int] = {}

    def submit_next_shard() -> bool:
        index = next(queue, None)
        if index is None:
            return False
        shard = shards[index]
        tag = f"{recipe.name}-{shard.split}-{shard.index}-{os.getpid()}"
        pieces = []
        for k, samples in enumerate(shard_pieces(shard.samples)):
            pieces.append(
                client.submit(
                    build_piece,
                    samples,
                    recipe.frames,
                    recipe.max_size,
                    encoder,
                    polisher,
                    key=f"piece-{tag}-{k}",
                    retries=1,
                )
            )
            piece_sizes[pieces[-1].key] = len(samples)
        write = client.submit(write_shard, dataset_dir, shard, pieces, key=f"shard-{tag}", retries=1)
        writes.add(write.key)
        finished.update([*pieces, write])
        return True

    def keep_workers_busy() -> None:
        while len(piece_sizes) < PIECES_IN_FLIGHT_PER_WORKER * workers and submit_next_shard():
            pass

    keep_workers_busy()
    total = sum(shards.size(i) for i in range(len(shards)))
    done = total - sum(shards.size(i) for i in pending)
    with tqdm(total=total, initial=done, desc=f"{recipe.name} samples", unit="sample", disable=not progress) as bar:
        for future in finished:
            if future.key in writes:
                future.result()  # a failed piece fails its shard's write: raised here
            else:
                bar.update(piece_sizes.pop(future.key))
            if interrupted is not None and interrupted.is_set():
                raise KeyboardInterrupt
            keep_workers_busy()


def check_holdout(plan: Plan, out: Path) -> None:
    """Benchmark sources never reach a train split, across every dataset built into ``out``."""
    mine_train, mine_test = plan.source_ids(benchmark=False), plan.source_ids(benchmark=True)
    for other in datasets_in(out):
        if other.name == plan.recipe.name:
            continue
        digest, holdout = read_holdout(other)
        if digest != sources_digest(plan.sources):
            continue  # another pool: nothing shared to protect
        leaked = mine_train & set(holdout.benchmark_source_ids)
        leaked |= mine_test & set(holdout.train_source_ids)
        if leaked:
            raise VideolakeError(
                f"{len(leaked)} source(s) would be both benchmark and training data with {other.name} "
                f"(e.g. {sorted(leaked)[0]}): use the same holdout_fraction, or a larger one for training recipes"
            )


def package_versions() -> dict:
    import av

    versions = {"videolake": __version__, "ffmpeg": str(av.ffmpeg_version_info)}
    for name in ("av", "numpy", "pillow", "pyarrow", "dask", "distributed"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def relative_reason(reason: str, root: Path | None) -> str:
    """Skip reasons name sources relative to --sources: ffmpeg's messages carry the absolute path."""
    return reason.replace(f"{root}{os.sep}", "").replace(str(root), ".") if root is not None else reason


def finalize(
    dataset_dir: Path,
    plan: Plan,
    *,
    fingerprint: str,
    encoder: Encoder,
    discovery_skips: list[Skipped],
    root: Path | None = None,
    grouping: Grouping | None = None,
    derived_from: dict | None = None,
) -> None:
    names = [plan.shards.name(i) for i in range(len(plan.shards))]
    sidecars = [read_sidecar(dataset_dir, split, filename) for split, filename in names]
    counts: dict[str, Counter] = {}
    for (split, _), sidecar in zip(names, sidecars):
        counts.setdefault(split, Counter()).update(sidecar.counts)
    skipped = [*discovery_skips, *(entry for sidecar in sidecars for entry in sidecar.skipped)]
    polish_outcomes = sum((Counter(sidecar.polish) for sidecar in sidecars), Counter())
    report = BuildReport(
        dataset=plan.recipe.name,
        planned_samples=sum(s.planned for s in sidecars),
        written_samples=sum(s.rows for s in sidecars),
        sources_found=len(plan.sources),
        skipped=tuple(replace(entry, reason=relative_reason(entry.reason, root)) for entry in skipped),
        polish=dict(polish_outcomes),
        annotation_shortfalls=tuple(plan.shortfalls),
        shard_seconds={s.shard: s.seconds for s in sidecars},
        audit=audit_summary(audit_rows(read_rows(dataset_dir / split / filename for split, filename in names))),
        fingerprint=None
        if grouping is None
        else {
            "seconds": round(grouping.seconds, 3),
            "decoded": grouping.decoded,
            "identity_only": len(grouping.identity_only),
            "excluded": len(grouping.excluded),
        },
    )
    pool_record = grouping.manifest_record(lambda reason: relative_reason(reason, root)) if grouping is not None else {}
    manifest = Manifest(
        dataset=plan.recipe.name,
        schema_version=SCHEMA_VERSION,
        fingerprint=fingerprint,
        recipe=plan.recipe.document,
        seed=plan.seed,
        sources=Sources(len(plan.sources), sources_digest(plan.sources)),
        holdout=Holdout(
            benchmark_source_ids=tuple(sorted(plan.source_ids(benchmark=True))),
            train_source_ids=tuple(sorted(plan.source_ids(benchmark=False))),
            details={
                "rule": "benchmark splits use the sources with the lowest sha256(source_id), each with its near-duplicate group, until ceil(fraction * n) are held; other splits never do",
                "fraction": plan.recipe.holdout_fraction,
                "held_out": len(plan.holdout),
                **pool_record,
            },
        ),
        counts={split: dict(c) for split, c in counts.items()},
        shards={s.shard: s.info for s in sidecars},
        encoder=encoder.describe(),
        versions=package_versions(),
        derived_from=derived_from,
    )
    finish_dataset(dataset_dir, manifest, report=report)
