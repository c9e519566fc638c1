"""Perceptual fingerprints of source clips, to find copies of one video under other names.

A copy may be re-encoded (another codec or quality), resized, trimmed or renamed; the holdout must
treat every copy as the same video, and ``--exclude`` must find benchmark videos in a pool. A
fingerprint is a 64-bit difference hash (dHash) of the frame shown every ``STEP_SECONDS`` on the
clip's own clock, over its first ``WINDOW_SECONDS``. Hashes on a fixed time step survive a trim:
the trimmed copy's hashes are the original's shifted by a constant number of steps. Two clips are
near-duplicates when, at their best shift, most frames they both show hash within ``MAX_BITS``.

Decoding is the cost, so it is kept cheap: non-reference frames skipped, no deblocking, and only
the grid's frames scaled (by swscale, straight to a 36x32 grey image).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videolake import VideolakeError
from videolake.pipeline.dataset import read_json
from videolake.pipeline.ingest import SourceRef, discover, read_archive_members

STEP_SECONDS = 0.25  # a trim shifts the grid by at most half a step
WINDOW_SECONDS = 20.0  # bounds the decode of long clips; a head trimmed by up to about 15 s still matches
MAX_BITS = 10  # of 64: re-encodes and resizes move a frame's hash by a few bits, other frames by ~32
FLAT_STD = 3.0  # a frame this uniform (black, a fade) says nothing about which video it is
MIN_MATCHES = 8  # two seconds of matching frames at the best shift...
MIN_SHARE = 0.5  # ...and at least half the informative frames both clips show at that shift
BANDS = 4  # candidate pairs share one exact 16-bit quarter of some frame hash
MAX_BUCKET = 1000  # a quarter shared by more sources than this is too common to propose pairs
FILE_FORMAT = "videolake-fingerprints"
ALGORITHM = f"dhash64-step{STEP_SECONDS}s-window{WINDOW_SECONDS:g}s-v1"  # part of every cache key and fingerprint file


@dataclass(frozen=True)
class Fingerprint:
    """Frame hashes on the step grid; ``informative`` marks those that are not flat frames."""

    hashes: np.ndarray  # uint64, one per grid point
    informative: np.ndarray  # bool, same length

    def to_json(self) -> list[str | None]:
        return [f"{int(h):016x}" if ok else None for h, ok in zip(self.hashes, self.informative)]

    @classmethod
    def from_json(cls, items, where: str) -> Fingerprint:
        if not isinstance(items, list) or not all(
            item is None or (isinstance(item, str) and len(item) == 16) for item in items
        ):
            raise VideolakeError(f"{where}: a fingerprint must be a list of 16-hex-digit strings or nulls")
        try:
            hashes = np.array([int(item, 16) if item is not None else 0 for item in items], dtype=np.uint64)
        except (ValueError, OverflowError):
            raise VideolakeError(f"{where}: a fingerprint hash is not hexadecimal") from None
        return cls(hashes, np.array([item is not None for item in items], dtype=bool))


def dhash(gray: np.ndarray) -> tuple[int, bool]:
    """(hash, informative) of a 32x36 grey image: averaged to 8x9, one bit per horizontal step."""
    small = gray.reshape(8, 4, 9, 4).mean(axis=(1, 3))
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0]), bool(small.std() >= FLAT_STD)


def fingerprint_video(source: str | BinaryIO) -> Fingerprint:
    """Hash the frame nearest each grid time of the clip's first WINDOW_SECONDS. Raises
    av.error.FFmpegError or ValueError for what cannot be decoded."""
    hashes: list[int] = []
    informative: list[bool] = []
    reformatter = VideoReformatter()

    def keep(frame) -> None:
        turns = round(int(frame.rotation or 0) / 90) % 4
        width, height = (32, 36) if turns % 2 else (36, 32)
        gray = reformatter.reformat(
            frame, width=width, height=height, format="gray", interpolation="AREA", threads=1
        ).to_ndarray()
        value, ok = dhash(np.rot90(gray, k=turns) if turns else gray)
        hashes.append(value)
        informative.append(ok)

    with av.open(source) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONREF"
        stream.codec_context.options = {"skip_loop_filter": "all"}
        rate = stream.average_rate or stream.guessed_rate
        origin, previous, decoded = None, None, 0
        for frame in container.decode(stream):
            if frame.pts is not None:
                time = float(frame.pts * stream.time_base)
            elif rate:
                time = decoded / float(rate)
            else:
                continue
            decoded += 1
            origin = time if origin is None else origin
            time -= origin
            while len(hashes) * STEP_SECONDS <= min(time, WINDOW_SECONDS):
                target = len(hashes) * STEP_SECONDS
                keep(previous[1] if previous is not None and target - previous[0] < time - target else frame)
            if time > WINDOW_SECONDS:
                break
            previous = (time, frame)
    if not hashes:
        raise ValueError("no frames decoded")
    return Fingerprint(np.array(hashes, dtype=np.uint64), np.array(informative, dtype=bool))


def fingerprint_file(path: str) -> tuple[list[str | None] | None, str | None]:
    """Runs on a worker: (fingerprint as JSON, None) or (None, why it could not be taken)."""
    try:
        return fingerprint_video(path).to_json(), None
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError) as err:
        return None, f"not fingerprinted: {err or type(err).__name__}"


def fingerprint_archive(archive: str, members: list[str]) -> dict[str, tuple[list[str | None] | None, str | None]]:
    """Runs on a worker: every wanted member's fingerprint, streaming the archive once."""
    results = {}
    for member, data, reason in read_archive_members(archive, set(members)):
        if data is None:
            results[member] = (None, f"not fingerprinted: {reason}")
            continue
        try:
            results[member] = (fingerprint_video(io.BytesIO(data)).to_json(), None)
        except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as err:
            results[member] = (None, f"not fingerprinted: {err or type(err).__name__}")
    return results


def _cache_key(source: SourceRef) -> str | None:
    """Where a source's fingerprint is cached: its file's path, size and mtime, and the algorithm."""
    try:
        st = os.stat(source.container)
    except OSError:
        return None
    return hashlib.sha256(
        f"{ALGORITHM}|{source.container}|{source.member}|{st.st_size}|{st.st_mtime_ns}".encode()
    ).hexdigest()[:24]


def fingerprint_sources(
    sources: Iterable[SourceRef], cache_dir: Path | None = None, map_fn: Callable | None = None
) -> tuple[dict[str, Fingerprint], dict[str, str], int]:
    """(fingerprints by source_id, reason by source_id for those left to identity-only grouping,
    how many sources were decoded now rather than read from the cache).

    Video files and archive members are decoded (``map_fn(function, argument lists)`` runs them, in
    parallel on the build's cluster); anything else (GOT-10k frame folders) is identity-only.
    A rebuild reuses fingerprints cached under ``cache_dir``."""
    map_fn = map_fn or (lambda fn, *args: [fn(*a) for a in zip(*args)])
    results: dict[str, tuple] = {}
    todo: list[SourceRef] = []
    for source in sources:
        key = _cache_key(source)
        cached = cache_dir / f"{key}.json" if cache_dir and key else None
        if source.member is None and not os.path.isfile(source.container):
            results[source.source_id] = (None, "identity only: not a video file (image sequence)")
        elif cached is not None and cached.exists():
            results[source.source_id] = tuple(json.loads(cached.read_text()))
        else:
            todo.append(source)
    files = [s for s in todo if s.member is None]
    by_archive: dict[str, list[SourceRef]] = {}
    for source in todo:
        if source.member is not None:
            by_archive.setdefault(source.container, []).append(source)
    for source, result in zip(files, map_fn(fingerprint_file, [s.container for s in files]) if files else []):
        results[source.source_id] = result
    archives = sorted(by_archive)
    for archive, found in zip(
        archives,
        map_fn(fingerprint_archive, archives, [[s.member for s in by_archive[a]] for a in archives])
        if archives
        else [],
    ):
        for source in by_archive[archive]:
            results[source.source_id] = found.get(source.member, (None, "not fingerprinted: member not read"))
    if cache_dir:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for source in todo:
            key = _cache_key(source)
            if key:
                tmp = cache_dir / f".{key}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps(list(results[source.source_id])))
                os.replace(tmp, cache_dir / f"{key}.json")
    prints = {
        sid: Fingerprint.from_json(items, sid) for sid, (items, _) in sorted(results.items()) if items is not None
    }
    reasons = {sid: reason for sid, (items, reason) in sorted(results.items()) if items is None}
    return prints, reasons, len(todo)


def near_duplicate(a: Fingerprint, b: Fingerprint) -> bool:
    """At the best constant shift of one grid against the other (a trim), enough frames match.

    A frame matches when the other clip shows a frame within MAX_BITS at the shifted grid point or
    one step either side (frame times jitter by up to a frame's duration)."""
    close = (
        (np.bitwise_count(a.hashes[:, None] ^ b.hashes[None, :]) <= MAX_BITS)
        & a.informative[:, None]
        & b.informative[None, :]
    )
    widened = close.copy()
    widened[:, 1:] |= close[:, :-1]
    widened[:, :-1] |= close[:, 1:]
    rows, columns = np.nonzero(widened)
    if len(rows) < MIN_MATCHES:
        return False
    na, nb = len(a.hashes), len(b.hashes)
    shifts = np.bincount(columns - rows + na - 1, minlength=na + nb - 1)
    for index in np.flatnonzero(shifts >= MIN_MATCHES):
        shift = int(index) - (na - 1)  # row i pairs with column i + shift
        first, last = max(0, -shift), min(na, nb - shift)
        shown_a = int(a.informative[first:last].sum())
        shown_b = int(b.informative[first + shift : last + shift].sum())
        if shifts[index] >= MIN_SHARE * min(shown_a, shown_b):
            return True
    return False


def _candidate_pairs(prints: dict[str, Fingerprint]) -> list[tuple[str, str]]:
    """Pairs of ids whose informative hashes share an exact 16-bit quarter: a pair of copies shares
    many frames a few bits apart, so nearly always one such quarter."""
    buckets: dict[tuple[int, int], set[str]] = {}
    for sid, fp in prints.items():
        for value in {int(h) for h in fp.hashes[fp.informative]}:
            for band in range(BANDS):
                buckets.setdefault((band, (value >> (16 * band)) & 0xFFFF), set()).add(sid)
    pairs = set()
    for members in buckets.values():
        if 1 < len(members) <= MAX_BUCKET:
            ordered = sorted(members)
            pairs.update((x, y) for i, x in enumerate(ordered) for y in ordered[i + 1 :])
    return sorted(pairs)


def duplicate_groups(prints: dict[str, Fingerprint]) -> list[list[str]]:
    """Every set of two or more ids linked by near-duplicate pairs (union-find), each sorted, in
    order of their first id."""
    parent = {sid: sid for sid in prints}

    def find(sid: str) -> str:
        while parent[sid] != sid:
            parent[sid] = parent[parent[sid]]
            sid = parent[sid]
        return sid

    for x, y in _candidate_pairs(prints):
        rx, ry = find(x), find(y)
        if rx != ry and near_duplicate(prints[x], prints[y]):
            parent[max(rx, ry)] = min(rx, ry)
    groups: dict[str, list[str]] = {}
    for sid in sorted(prints):
        groups.setdefault(find(sid), []).append(sid)
    return [members for members in groups.values() if len(members) > 1]


def excluded_matches(pool: dict[str, Fingerprint], benchmark: dict[str, Fingerprint]) -> dict[str, list[str]]:
    """Pool ids that are near-duplicates of a benchmark video, directly or through another copy,
    with the benchmark ids their group holds."""
    tagged = {f"pool:{sid}": fp for sid, fp in pool.items()} | {f"exclude:{sid}": fp for sid, fp in benchmark.items()}
    matches = {}
    for group in duplicate_groups(tagged):
        held = sorted(tag.removeprefix("exclude:") for tag in group if tag.startswith("exclude:"))
        for tag in group:
            if held and tag.startswith("pool:"):
                matches[tag.removeprefix("pool:")] = held
    return dict(sorted(matches.items()))


def write_fingerprint_file(
    folder: Path, out: Path, cache_dir: Path | None = None, map_fn: Callable | None = None
) -> tuple[int, int]:
    """``videolake fingerprint DIR --out FILE``: every clip under DIR; (fingerprinted, identity-only)."""
    folder, out = Path(folder).resolve(), Path(out).absolute()
    if not folder.is_dir():
        raise VideolakeError(f"not a folder of videos: {folder}")
    if out.exists():
        raise VideolakeError(f"{out} exists: choose another --out (it is never replaced)")
    if out.resolve().is_relative_to(folder):
        raise VideolakeError(f"--out {out} is inside {folder}: write it elsewhere (inputs are never written to)")
    sources, _ = discover(folder)
    if not sources:
        raise VideolakeError(f"no videos found under {folder}")
    prints, reasons, _ = fingerprint_sources(sources, cache_dir, map_fn)
    document = {
        "format": FILE_FORMAT,
        "algorithm": ALGORITHM,
        "fingerprints": {sid: fp.to_json() for sid, fp in prints.items()},
        "not_fingerprinted": reasons,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return len(prints), len(reasons)


def load_exclusions(
    path: Path, cache_dir: Path | None = None, map_fn: Callable | None = None
) -> tuple[dict[str, Fingerprint], dict]:
    """The benchmark videos behind ``--exclude``: a folder (fingerprinted now) or a fingerprint
    file; and what the manifest records about them."""
    path = Path(path)
    if path.is_dir():
        sources, _ = discover(path.resolve())
        prints, reasons, _ = fingerprint_sources(sources, cache_dir, map_fn)
        kind = "folder"
    elif path.is_file():
        prints, reasons = read_fingerprint_file(path), {}
        kind = "fingerprint file"
    else:
        raise VideolakeError(f"--exclude {path}: no such folder or fingerprint file")
    if not prints:
        raise VideolakeError(
            f"--exclude {path}: no video could be fingerprinted" + (f" ({len(reasons)} tried)" if reasons else "")
        )
    digest = hashlib.sha256(json.dumps({sid: fp.to_json() for sid, fp in sorted(prints.items())}).encode()).hexdigest()
    return prints, {
        "kind": kind,
        "name": path.name,
        "videos": len(prints),
        "not_fingerprinted": len(reasons),
        "digest": digest,
    }


def read_fingerprint_file(path: Path) -> dict[str, Fingerprint]:
    document = read_json(path)  # not JSON, too deep or too large: one line
    if (
        not isinstance(document, dict)
        or document.get("format") != FILE_FORMAT
        or not isinstance(document.get("fingerprints"), dict)
    ):
        raise VideolakeError(f"{path}: not a fingerprint file (make one with: videolake fingerprint DIR --out FILE)")
    if document.get("algorithm") != ALGORITHM:
        raise VideolakeError(
            f"{path}: fingerprints made with {document.get('algorithm')!r}, this version uses {ALGORITHM!r}: run videolake fingerprint again"
        )
    return {
        str(sid): Fingerprint.from_json(items, f"{path}: {sid}")
        for sid, items in sorted(document["fingerprints"].items())
    }


GROUPING_RULE = (
    f"sources whose frame hashes (dHash every {STEP_SECONDS} s over the first {WINDOW_SECONDS:g} s) agree within {MAX_BITS} bits on at least "
    f"{MIN_MATCHES} frames and {MIN_SHARE:.0%} of the frames both show, at their best time shift, are one video: held out or trained on together"
)
EXCLUSION_RULE = "pool sources that are near-duplicates (same rule) of an --exclude video, directly or through another copy, are in no split"


@dataclass(frozen=True)
class Grouping:
    """What fingerprinting decided about a pool, for the plan and the manifest."""

    duplicates: list[list[str]]
    identity_only: dict[str, str]  # source_id: why it is grouped by its id alone
    excluded: dict[str, list[str]]  # pool source_id: the --exclude videos it copies
    exclusion: dict | None  # what --exclude was
    seconds: float
    decoded: int

    def manifest_record(self, describe_reason: Callable[[str], str] = str) -> dict:
        """Deterministic: ids and rules only, no timings."""
        record = {
            "near_duplicates": {
                "rule": GROUPING_RULE,
                "algorithm": ALGORITHM,
                "groups": self.duplicates,
                "identity_only": {sid: describe_reason(reason) for sid, reason in self.identity_only.items()},
            }
        }
        if self.exclusion is not None:
            record["excluded"] = {
                "rule": EXCLUSION_RULE,
                **self.exclusion,
                "source_ids": sorted(self.excluded),
                "matches": self.excluded,
            }
        return record


def group_pool(
    sources: list[SourceRef], cache_dir: Path | None, map_fn: Callable | None = None, exclude: Path | None = None
) -> Grouping:
    """Fingerprint a pool (cached), group its near-duplicates and find the copies of ``exclude``'s videos."""
    started = time.perf_counter()
    prints, reasons, decoded = fingerprint_sources(sources, cache_dir, map_fn)
    exclusion, excluded = None, {}
    if exclude is not None:
        benchmark, exclusion = load_exclusions(exclude, cache_dir, map_fn)
        excluded = excluded_matches(prints, benchmark)
    return Grouping(duplicate_groups(prints), reasons, excluded, exclusion, time.perf_counter() - started, decoded)
