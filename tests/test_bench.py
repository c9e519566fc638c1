"""Every bench module runs: a bench that no test exercises rots (``make bench`` runs them full size)."""

from __future__ import annotations

import json

import pytest

from bench import bench, encoders, fullsize, lake, reference, scaling, synthetic, train

pytestmark = pytest.mark.slow  # every bench module in tiny mode: `make check` skips it


def test_lake_bench_runs_in_tiny_mode(clips_dir, capsys):
    lake.main(["--clips", str(clips_dir), "--tiny"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["rewards", "validate", "plan"]
    assert "ratio to the 50 ms limit" in lines[0] and "records/s" in lines[1] and "driver peak RSS" in lines[2]
    assert lines[3].startswith("audit of") and [line.split()[:2] for line in lines[4:]] == [
        ["VideoSSR-30K", "mix"],
        ["4-option", "questions"],
    ]


def test_train_bench_runs_in_tiny_mode(clips_dir, capsys):
    train.main(["--clips", str(clips_dir), "--tiny"])
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("trainer data path:") and "records/s through adapter + collator" in line


def test_throughput_bench_runs_in_tiny_mode(clips_dir, capsys):
    bench.main(["--clips", str(clips_dir), "--repeats", "1", "--tiny"])
    out = capsys.readouterr().out
    assert "ratio" in out and "anomaly_grounding" in out and "peak RSS" in out and "rewards for one GRPO step" in out
    assert "object_tracking (rendered)" in out and "multi_segment_grounding" in out
    assert "fingerprint:" in out and "ms per clip" in out and "% at one sample per source" in out


def test_reference_bench_runs_in_tiny_mode(clips_dir, capsys):
    reference.main(["--clips", str(clips_dir), "--tiny"])
    out = capsys.readouterr().out
    assert "speed-up" in out and "bytes per sample: reference" in out and "videolake (x264 veryfast)" in out
    assert all(f"{task}: reference" in out for task in reference.PRETEXT_TASKS)
    reference.main(["--clips", str(clips_dir), "--tiny", "--tasks", "anomaly_grounding", "--preset", "superfast"])
    out = capsys.readouterr().out
    assert (
        "videolake (x264 superfast)" in out and "anomaly_grounding: reference" in out and "object_counting" not in out
    )


def test_synthetic_bench_runs_in_tiny_mode(capsys):
    synthetic.main(["--size", "64", "--seeds", "1", "--paper-scenes", "1"])
    out = capsys.readouterr().out
    assert "paper's method" in out and "encode only" in out


def test_scaling_bench_runs_in_tiny_mode(clips_dir, capsys):
    scaling.main(["--clips", str(clips_dir), "--workers", "1", "--samples", "3", "--shard-size", "2"])
    assert "identical shards across worker counts: True" in capsys.readouterr().out


def test_encoder_bench_runs_in_tiny_mode(clips_dir, capsys):
    encoders.main(["--clips", str(clips_dir), "--repeats", "1", "--limit", "1", "--presets"])
    out = capsys.readouterr().out
    assert "libx264" in out and "ultrafast" in out and "medium" in out and "PSNR" in out


def test_fullsize_bench_runs_in_tiny_mode(clips_dir, capsys, tmp_path):
    fullsize.main(
        [
            "--clips",
            str(clips_dir),
            "--recipes",
            "viubench,synrl-rl",
            "--fraction",
            "0.002",
            "--workers",
            "1",
            "--json",
            str(tmp_path / "rows.json"),
        ]
    )
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [row["worker_processes"] for row in rows] == [1, 1]  # the one worker's RSS was sampled, not a default
    assert all(row["worker_peak_rss_mib"] > 50 and row["driver_peak_rss_mib"] > 50 for row in rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("full-size builds (1 workers")
    viubench, synrl = (line.split() for line in lines[2:4])
    assert viubench[:2] == ["viubench", "9"] and viubench[-3] == "2700"  # one per subtype; the full recipe
    assert synrl[:2] == ["synrl-rl", "18"] and synrl[-3] == "7000"


def test_tables_left_align_names_and_right_align_figures(capsys):
    bench.print_table(
        [{"name": "ab", "n": 3}, {"name": "c", "n": 12}],
        [("name", -5, lambda r: r["name"]), ("n", 4, lambda r: r["n"])],
        "(note)",
    )
    assert capsys.readouterr().out.splitlines() == ["name    n  (note)", "ab      3", "c      12"]
