"""The bench modules run: a bench that no test exercises rots (``make bench`` runs them full size)."""

from __future__ import annotations

from bench import lake, train


def test_lake_bench_runs_in_tiny_mode(clips_dir, capsys):
    lake.main(["--clips", str(clips_dir), "--tiny"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["rewards", "validate", "plan"]
    assert "ratio to the 50 ms limit" in lines[0] and "records/s" in lines[1] and "driver peak RSS" in lines[2]


def test_train_bench_runs_in_tiny_mode(clips_dir, capsys):
    train.main(["--clips", str(clips_dir), "--tiny"])
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("trainer data path:") and "records/s through adapter + collator" in line
