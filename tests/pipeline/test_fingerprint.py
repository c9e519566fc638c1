"""Near-duplicate sources: copies of a shared clip (re-encoded with another codec and quality,
resized, trimmed, renamed) are one video for the holdout and for ``--exclude``; different clips
are never grouped."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.media import moving_frames, write_video
from videolake import VideolakeError
from videolake.pipeline import fingerprint as fp
from videolake.pipeline.fingerprint import (
    Fingerprint,
    duplicate_groups,
    excluded_matches,
    fingerprint_sources,
    fingerprint_video,
    near_duplicate,
    read_fingerprint_file,
)
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.plan import holdout_sources, make_plan
from videolake.pipeline.recipes import parse_recipe

# The shared clips that are copies of one another (checked by eye): b.mp4 and muted_b.mp4 are one
# render, b.avi its MPEG-4 encode and world.mp4 its 30-second original; carphone_distorted.mp4 is
# carphone_pristine.mp4 heavily compressed. bigbuckbunny.mp4 is the shot 24.75 s into
# trailer_bbb.mp4: past the window fingerprints cover (the first 20 s), so it is not found.
SHARED_FAMILIES = [["b.avi", "b.mp4", "muted_b.mp4", "world.mp4"], ["carphone_distorted.mp4", "carphone_pristine.mp4"]]


def copy_video(
    source: Path,
    target: Path,
    codec: str = "libx264",
    options: dict | None = None,
    bit_rate: int | None = None,
    scale: float = 1.0,
    trim_start: float = 0.0,
    trim_end: float = 0.0,
    fps: int | None = None,
) -> Path:
    """Re-encode ``source`` as another download of it would be: another codec and quality, another
    size, the first and last seconds cut, another frame rate."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        decoded = [
            (float(frame.pts * stream.time_base), frame.to_ndarray(format="rgb24"))
            for frame in container.decode(stream)
        ]
        rate = fps or round(float(stream.average_rate))
    times = np.array([t for t, _ in decoded]) - decoded[0][0]
    height, width = decoded[0][1].shape[:2]
    size = (max(16, round(width * scale / 2) * 2), max(16, round(height * scale / 2) * 2))
    with av.open(str(target), "w") as out:
        video = out.add_stream(codec, rate=rate)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = options or {}
        if bit_rate:
            video.bit_rate = bit_rate
        for n in range(int((times[-1] - trim_end - trim_start) * rate)):
            shown = (
                int(np.searchsorted(times, trim_start + n / rate, side="right")) - 1
            )  # the source frame on screen then
            frame = av.VideoFrame.from_ndarray(decoded[shown][1], format="rgb24").reformat(
                width=size[0], height=size[1], format="yuv420p"
            )
            frame.pts, frame.time_base = n, Fraction(1, rate)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return target


@pytest.fixture(scope="session")
def shared_prints(clips_dir) -> dict[str, Fingerprint]:
    return {
        path.name: fingerprint_video(str(path))
        for path in sorted(clips_dir.iterdir())
        if path.suffix in {".mp4", ".avi", ".mpg", ".webm"}
    }


@pytest.mark.parametrize(
    "clip, change",
    [
        ("bikes.mp4", {"codec": "mpeg4", "bit_rate": 150_000}),  # another codec, low quality
        ("bikes.mp4", {"options": {"crf": "38"}, "scale": 0.5}),  # H.264 at a worse CRF, half size
        ("bikes.mp4", {"options": {"crf": "30"}, "trim_start": 1.3, "trim_end": 1.1}),  # both ends cut
        (
            "jwpIntro.mp4",
            {"codec": "mpeg4", "bit_rate": 300_000, "scale": 0.6, "trim_start": 0.9, "fps": 15},
        ),  # all at once
        ("cityCC0.mpg", {"options": {"crf": "34"}, "scale": 0.75, "trim_end": 2.0}),
        ("testMovie.mp4", {"codec": "libx264", "options": {"crf": "28"}, "scale": 1.5, "trim_start": 2.1}),  # upscaled
    ],
)
def test_a_copy_is_a_near_duplicate_of_its_clip_and_of_nothing_else(clips_dir, shared_prints, tmp_path, clip, change):
    copy = fingerprint_video(str(copy_video(clips_dir / clip, tmp_path / "renamed copy.mkv", **change)))
    assert near_duplicate(copy, shared_prints[clip]) and near_duplicate(shared_prints[clip], copy)
    others = [name for name, other in shared_prints.items() if name != clip and near_duplicate(copy, other)]
    assert others == []


def test_a_renamed_byte_copy_has_the_same_fingerprint(clips_dir, tmp_path):
    renamed = shutil.copy(clips_dir / "bikes.mp4", tmp_path / "0001.mp4")
    a, b = fingerprint_video(str(clips_dir / "bikes.mp4")), fingerprint_video(str(renamed))
    assert (
        a.to_json() == b.to_json() and len(a.hashes) == 40
    )  # 250 frames at 25 fps, the last at 9.96 s: a hash at 0, 0.25, ... 9.75 s


def test_the_shared_clips_group_into_exactly_their_known_families(shared_prints):
    """91 pairs of real clips: copies are found, different clips never grouped; a shot from past
    the window of a longer clip is the documented miss."""
    present = [
        [name for name in family if name in shared_prints] for family in SHARED_FAMILIES
    ]  # the demo clips fetched through pip lack some
    assert duplicate_groups(shared_prints) == [family for family in present if len(family) > 1]


@pytest.mark.parametrize(
    "codec, pix_fmt, suffix",
    [
        ("mjpeg", "yuvj420p", ".avi"),
        ("mpeg4", "yuv420p", ".avi"),
        ("libvpx-vp9", "yuv420p", ".webm"),
        ("ffv1", "yuv420p", ".mkv"),
        ("mpeg2video", "yuv420p", ".mpg"),
    ],
)
def test_every_codec_is_fingerprinted_on_the_same_grid_and_matches(tmp_path, codec, pix_fmt, suffix):
    """Intra-only codecs too: skipping non-reference frames never leaves a clip without frames."""
    frames = moving_frames(60, 64, 96)
    reference = fingerprint_video(str(write_video(tmp_path / "reference.mp4", frames)))
    other = fingerprint_video(str(write_video(tmp_path / f"copy{suffix}", frames, codec=codec, pix_fmt=pix_fmt)))
    assert len(other.hashes) == len(reference.hashes) == 10 and near_duplicate(other, reference)


def test_flat_frames_never_match(tmp_path):
    black = write_video(tmp_path / "black.mp4", np.zeros((50, 64, 96, 3), np.uint8))
    grey = write_video(tmp_path / "grey.mp4", np.full((50, 64, 96, 3), 128, np.uint8))
    a, b = fingerprint_video(str(black)), fingerprint_video(str(grey))
    assert not a.informative.any() and not near_duplicate(a, b) and not near_duplicate(a, a)


def test_what_cannot_be_decoded_is_grouped_by_identity(tmp_path, clips_dir):
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    (tmp_path / "seq").mkdir()
    sources = [
        SourceRef("bad.mp4", str(tmp_path / "bad.mp4")),
        SourceRef("seq", str(tmp_path / "seq")),
        SourceRef("b.mp4", str(clips_dir / "b.mp4")),
    ]
    prints, reasons, decoded = fingerprint_sources(sources, tmp_path / "cache")
    assert list(prints) == ["b.mp4"] and decoded == 2
    assert reasons["bad.mp4"].startswith("not fingerprinted") and "image sequence" in reasons["seq"]
    again, _, decoded = fingerprint_sources(sources, tmp_path / "cache")  # a rebuild decodes nothing
    assert decoded == 0 and again["b.mp4"].to_json() == prints["b.mp4"].to_json()


def test_archive_members_are_fingerprinted_by_streaming_the_archive(tmp_path, clips_dir):
    import tarfile

    from tests.helpers.media import add_bytes

    with tarfile.open(tmp_path / "pack.tar", "w") as tar:
        for name in ["b.mp4", "bikes.mp4"]:
            add_bytes(tar, f"v/{name}", (clips_dir / name).read_bytes())
    members = [
        SourceRef(f"sub/v/{name}", str(tmp_path / "pack.tar"), f"v/{name}")
        for name in ["b.mp4", "bikes.mp4", "gone.mp4"]
    ]
    prints, reasons, _ = fingerprint_sources(members)
    assert prints["sub/v/b.mp4"].to_json() == fingerprint_video(str(clips_dir / "b.mp4")).to_json()
    assert set(prints) == {"sub/v/b.mp4", "sub/v/bikes.mp4"} and "member not found" in reasons["sub/v/gone.mp4"]


random_hashes = st.lists(st.integers(0, 2**64 - 1), min_size=fp.MIN_MATCHES * 2, max_size=60)


def fingerprint_of(values) -> Fingerprint:
    return Fingerprint(np.array(values, dtype=np.uint64), np.ones(len(values), bool))


@settings(max_examples=60, deadline=None)
@given(random_hashes, st.data())
def test_a_trimmed_noisy_copy_matches_whatever_the_cut(values, data):
    """Cut any head and tail (keeping MIN_MATCHES frames) and flip up to 3 bits per hash."""
    start = data.draw(st.integers(0, len(values) - fp.MIN_MATCHES))
    end = data.draw(st.integers(start + fp.MIN_MATCHES, len(values)))
    flips = data.draw(st.lists(st.lists(st.integers(0, 63), max_size=3), min_size=end - start, max_size=end - start))
    noisy = [values[start + i] ^ sum({1 << bit for bit in bits}) for i, bits in enumerate(flips)]
    assert near_duplicate(fingerprint_of(values), fingerprint_of(noisy)) and near_duplicate(
        fingerprint_of(noisy), fingerprint_of(values)
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(fp.MIN_MATCHES, 120), st.integers(fp.MIN_MATCHES, 120))
def test_independent_clips_never_match(seed, length_a, length_b):
    """Frame hashes of different videos are independent: about 32 of 64 bits apart."""
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(0, 2**64, size=n, dtype=np.uint64) for n in (length_a, length_b))
    assert not near_duplicate(fingerprint_of(a), fingerprint_of(b))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_groups_are_the_same_whatever_order_the_pool_comes_in(families, rng):
    """Each source is a noisy cut of one of a few base clips: groups are exactly the families."""
    bases = np.random.default_rng(7).integers(0, 2**63, size=(6, 40), dtype=np.uint64)
    pool = {
        f"s{i:02d}": fingerprint_of(bases[family][i % 3 : 40 - i % 5] ^ np.uint64(1 << (i % 64)))
        for i, family in enumerate(families)
    }
    expected = [
        members
        for members in ([sid for i, sid in enumerate(sorted(pool)) if families[i] == f] for f in sorted(set(families)))
        if len(members) > 1
    ]
    shuffled = list(pool.items())
    rng.shuffle(shuffled)
    assert sorted(duplicate_groups(dict(shuffled))) == sorted(expected)


def refs(names) -> list[SourceRef]:
    return [SourceRef(name, f"/v/{name}") for name in names]


def test_without_duplicates_the_holdout_is_the_lowest_ranked_sources():
    from videolake.pipeline.plan import _rank

    sources = refs(f"c{i:03d}.mp4" for i in range(40))
    lowest = sorted(sources, key=lambda s: _rank(s.source_id))[:4]
    assert holdout_sources(sources, 0.1) == lowest == holdout_sources(sources, 0.1, [])


def test_a_held_out_source_takes_every_copy_with_it_and_fractions_still_nest():
    sources = refs(f"c{i:03d}.mp4" for i in range(40))
    first = holdout_sources(sources, 0.05)[0].source_id
    copies = (
        [first, "c039.mp4", "c038.mp4"] if first not in ("c039.mp4", "c038.mp4") else [first, "c000.mp4", "c001.mp4"]
    )
    small, large = holdout_sources(sources, 0.05, [copies]), holdout_sources(sources, 0.2, [copies])
    assert set(copies) <= {s.source_id for s in small} and len(small) >= 2
    assert {s.source_id for s in small} <= {s.source_id for s in large}


def test_plan_never_splits_a_group_and_excluded_sources_are_in_no_split():
    sources = refs(f"c{i:03d}.mp4" for i in range(30))
    recipe = parse_recipe(
        {
            "name": "r",
            "holdout_fraction": 0.2,
            "splits": {
                "train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 60}],
                "test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 20}],
            },
        },
        "r",
    )
    groups = [["c001.mp4", "c002.mp4", "c003.mp4"], ["c010.mp4", "c020.mp4"], ["c005.mp4", "c006.mp4"]]
    plan = make_plan(recipe, sources, duplicates=groups, excluded=["c007.mp4", "c020.mp4"])
    train, test = plan.source_ids(benchmark=False), plan.source_ids(benchmark=True)
    assert not train & test and not {"c007.mp4", "c020.mp4"} & (train | test)
    for group in groups:
        assert set(group) - {"c020.mp4"} <= train or set(group) - {"c020.mp4"} <= test
    assert make_plan(recipe, sources).fingerprint({}) != plan.fingerprint(
        {}
    )  # a resumed build must see the same grouping


def test_exclusion_finds_copies_directly_and_through_another_copy():
    rng = np.random.default_rng(3)
    benchmark, other = (rng.integers(0, 2**63, size=40, dtype=np.uint64) for _ in range(2))
    pool = {
        "copy.mp4": fingerprint_of(benchmark[5:35]),
        "copy-of-copy.mp4": fingerprint_of(np.concatenate([benchmark[25:40], other[:20]])),
        "other.mp4": fingerprint_of(other[20:]),
    }
    assert excluded_matches(pool, {"nextqa/123.mp4": fingerprint_of(benchmark[:20])}) == {
        "copy-of-copy.mp4": ["nextqa/123.mp4"],
        "copy.mp4": ["nextqa/123.mp4"],
    }


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[1, 2]", "not a fingerprint file"),
        (
            json.dumps({"format": "videolake-fingerprints", "algorithm": "old", "fingerprints": {}}).encode(),
            "run videolake fingerprint again",
        ),
        (
            json.dumps(
                {"format": "videolake-fingerprints", "algorithm": fp.ALGORITHM, "fingerprints": {"a.mp4": ["xyz"]}}
            ).encode(),
            "16-hex-digit",
        ),
        (
            json.dumps(
                {
                    "format": "videolake-fingerprints",
                    "algorithm": fp.ALGORITHM,
                    "fingerprints": {"a.mp4": ["zzzzzzzzzzzzzzzz"]},
                }
            ).encode(),
            "not hexadecimal",
        ),
        (
            json.dumps(
                {
                    "format": "videolake-fingerprints",
                    "algorithm": fp.ALGORITHM,
                    "fingerprints": {"a.mp4": ["-123456789abcdef"]},
                }
            ).encode(),
            "not hexadecimal",
        ),
        (
            json.dumps(
                {
                    "format": "videolake-fingerprints",
                    "algorithm": fp.ALGORITHM,
                    "fingerprints": {"a.mp4": "0123456789abcdef"},
                }
            ).encode(),
            "16-hex-digit",
        ),
    ],
)
def test_a_bad_fingerprint_file_is_one_clear_error(tmp_path, content, message):
    (tmp_path / "prints.json").write_bytes(content)
    with pytest.raises(VideolakeError, match=message):
        read_fingerprint_file(tmp_path / "prints.json")


def test_fingerprint_then_build_with_exclude_keeps_every_copy_out(clips_dir, tmp_path):
    """The benchmark folder holds a trimmed MPEG-4 copy of bikes.mp4; the pool holds bikes.mp4
    under another name and a resized H.264 copy: neither reaches any split."""
    benchmark, pool = tmp_path / "benchmark", tmp_path / "pool"
    benchmark.mkdir()
    pool.mkdir()
    copy_video(clips_dir / "bikes.mp4", benchmark / "test_0042.avi", codec="mpeg4", bit_rate=400_000, trim_start=1.5)
    shutil.copy(clips_dir / "bikes.mp4", pool / "street.mp4")
    copy_video(clips_dir / "bikes.mp4", pool / "street_small.mp4", options={"crf": "32"}, scale=0.5, trim_end=2.0)
    for name in ["b.mp4", "jwpIntro.mp4", "testMovie.mp4", "carphone_pristine.mp4", "cityCC0.mpg"]:
        shutil.copy(clips_dir / name, pool / name)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in benchmark.iterdir())

    prints = tmp_path / "prints.json"
    result = run_cli("fingerprint", benchmark, "--out", prints)
    assert result.returncode == 0 and "1 video(s) fingerprinted" in result.stdout, result.stderr
    assert_one_line_error(run_cli("fingerprint", benchmark, "--out", prints), "never replaced")
    assert_one_line_error(run_cli("fingerprint", benchmark, "--out", benchmark / "x.json"), "inside")
    assert sorted((p.name, p.stat().st_mtime_ns) for p in benchmark.iterdir()) == before  # the input is never written

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        json.dumps(
            {
                "name": "held",
                "holdout_fraction": 0.3,
                "shard_size": 8,
                "splits": {
                    "train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 4}],
                    "test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 2}],
                },
            }
        )
    )
    manifests = []
    for exclude, out in ((prints, tmp_path / "out-file"), (benchmark, tmp_path / "out-folder")):
        result = run_cli(
            "build", recipe, "--sources", pool, "--out", out, "--exclude", exclude, "--workers", "1", "--quiet"
        )
        assert result.returncode == 0, result.stderr
        manifests.append(json.loads((out / "held" / "manifest.json").read_text()))
    holdout = manifests[0]["holdout"]
    assert holdout["excluded"]["source_ids"] == ["street.mp4", "street_small.mp4"]
    assert (
        holdout["excluded"]["matches"]["street.mp4"] == ["test_0042.avi"]
        and holdout["excluded"]["rule"] == fp.EXCLUSION_RULE
    )
    used = set(holdout["benchmark_source_ids"]) | set(holdout["train_source_ids"])
    assert used and not used & {"street.mp4", "street_small.mp4"}
    assert holdout["near_duplicates"]["groups"] == [["street.mp4", "street_small.mp4"]]
    assert (
        manifests[1]["holdout"]["excluded"]["source_ids"] == holdout["excluded"]["source_ids"]
    )  # a folder or its fingerprint file: the same exclusion

    (tmp_path / "broken.json").write_text("{")
    assert_one_line_error(
        run_cli(
            "build",
            recipe,
            "--sources",
            pool,
            "--out",
            tmp_path / "out-bad",
            "--exclude",
            tmp_path / "broken.json",
            "--quiet",
        ),
        "not valid JSON",
    )
    assert_one_line_error(
        run_cli("build", recipe, "--sources", pool, "--out", tmp_path / "out-bad", "--exclude", tmp_path / "missing"),
        "no such folder",
    )
