"""The build graph. A shard is built by several workers in pieces: the pieces must keep what a
shard shares (a source read once, sampled at the density all its samples need) and give the
shard's exact bytes. Ctrl-C stops a build with one line, wherever in the driver it lands."""

from __future__ import annotations

import os
import signal
import sys
import tarfile
from collections import Counter

import pytest

from tests.helpers.media import add_bytes
from videolake.pipeline.encode import ENCODERS
from videolake.pipeline.graph import PIECE_SAMPLES, build_piece, interrupt_guard, shard_pieces, write_shard
from videolake.pipeline.ingest import SourceRef, discover
from videolake.pipeline.plan import SampleSpec, make_plan
from videolake.pipeline.recipes import parse_recipe
from videolake.pipeline.records import make_records
from videolake.pipeline.shards import serialize_shard


def spec(number: int, source: SourceRef | None) -> SampleSpec:
    return SampleSpec(f"s-{number:03d}", "anomaly_grounding", "mirror", "default", "train", source, None, number, {})


def test_pieces_keep_each_file_and_each_archive_in_one_piece():
    files = [SourceRef(f"clip{k}.mp4", f"/v/clip{k}.mp4") for k in range(7)]
    members = [SourceRef(f"llava/a.tar/{k}.mp4", "/v/llava/a.tar", f"{k}.mp4") for k in range(5)]
    samples = (
        [spec(n, files[n % 7]) for n in range(21)]
        + [spec(21 + n, members[n % 5]) for n in range(10)]
        + [spec(31 + n, None) for n in range(19)]
    )
    pieces = shard_pieces(samples)

    assert Counter(s.id for piece in pieces for s in piece) == Counter(s.id for s in samples)  # every sample once
    assert len(pieces) >= len(samples) // (PIECE_SAMPLES + 10)
    homes: dict[str, set[int]] = {}
    for k, piece in enumerate(pieces):
        for s in piece:
            if s.source is not None:
                homes.setdefault(s.source.container, set()).add(k)
    assert all(len(where) == 1 for where in homes.values()), homes  # one piece reads each file and archive
    largest_unit = 10  # the archive's samples
    assert all(len(piece) < PIECE_SAMPLES + largest_unit for piece in pieces)
    rendered = [len(piece) for piece in pieces if all(s.source is None for s in piece)]
    assert rendered and max(rendered) == PIECE_SAMPLES  # rendered samples split freely


def test_a_shard_built_in_pieces_has_the_bytes_of_the_shard_built_whole(clips_dir, tmp_path):
    """Real clips, several samples per source at different sampling densities (slow needs denser
    frames, jigsaw its quiet window), donors for swap, and clips inside an archive."""
    root = tmp_path / "sources"
    root.mkdir()
    for name in ["b.mp4", "carphone_pristine.mp4", "testMovie.mp4", "jwpIntro.mp4"]:
        os.symlink(clips_dir / name, root / name)
    with tarfile.open(root / "pack.tar", "w") as tar:
        for name in ["carphone_distorted.mp4", "b.avi"]:
            add_bytes(tar, name, (clips_dir / name).read_bytes())
    recipe = parse_recipe(
        {
            "name": "pieces",
            "shard_size": 24,
            "max_size": [128, 128],
            "frames": 24,
            "holdout_fraction": 0,
            "splits": {
                "train": [
                    {"task": "anomaly_grounding", "subtype": "slow", "count": 6},
                    {"task": "anomaly_grounding", "subtype": "swap", "count": 6},
                    {"task": "temporal_jigsaw", "tier": "hard", "count": 6},
                    {"task": "object_counting", "tier": "easy", "count": 6},
                ]
            },
        },
        "pieces",
    )
    sources, skipped = discover(root)
    assert not skipped and len(sources) == 6
    (shard,) = make_plan(recipe, sources, seed=3).shards
    pieces = shard_pieces(shard.samples)
    assert len(pieces) >= 3
    encoder = ENCODERS["libx264"]

    whole, whole_skipped = make_records(list(shard.samples), recipe.frames, recipe.max_size, encoder)
    sidecar = write_shard(
        tmp_path / "out",
        shard,
        [build_piece(piece, recipe.frames, recipe.max_size, encoder) for piece in reversed(pieces)],
    )

    assert not whole_skipped and sidecar.skipped == ()
    assert sidecar.rows == sidecar.planned == 24
    assert (tmp_path / "out" / shard.split / shard.filename).read_bytes() == serialize_shard(whole)


def test_shard_sizes_are_known_without_planning_the_samples():
    recipe = parse_recipe(
        {
            "name": "sizes",
            "shard_size": 7,
            "holdout_fraction": 0.25,
            "splits": {
                "train": [{"task": "anomaly_grounding", "subtype": "mirror", "count": 23}],
                "test": [{"task": "object_counting", "tier": "easy", "count": 5}],
            },
        },
        "sizes",
    )
    shards = make_plan(recipe, [SourceRef(f"v{k}.mp4", f"/v/v{k}.mp4") for k in range(12)]).shards
    assert [shards.size(i) for i in range(len(shards))] == [len(shard.samples) for shard in shards] == [7, 7, 7, 2, 5]


class SigintWhenCollected:
    """Ctrl-C arriving while a finalizer runs, as it did in distributed's ``Future.__del__``."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)


class FailsWhenCollected:
    def __del__(self):
        raise ValueError("a real finalizer bug")


def test_ctrl_c_inside_a_finalizer_stops_the_build_without_a_traceback(monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    ran_on = False
    with pytest.raises(KeyboardInterrupt):
        with interrupt_guard() as interrupted:
            SigintWhenCollected()  # collected at once: the handler's KeyboardInterrupt is swallowed by __del__
            ran_on = True
            FailsWhenCollected()
    assert ran_on and interrupted.is_set()
    assert [r.exc_type for r in reported] == [ValueError]  # other finalizer errors are still reported
    assert sys.unraisablehook == reported.append
