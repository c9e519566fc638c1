"""Worker scaling of a whole build: samples/s with 1, 2, 4, ... local workers on the same plan.

The source pool is the given clips, each linked under several names so the plan has enough
distinct sources; every run builds the same recipe into a fresh folder and must produce the
same shard checksums (determinism across worker counts).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from operator import itemgetter
from pathlib import Path

from bench.bench import print_table, short_clips
from videolake.pipeline.dataset import read_manifest, read_report
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import parse_recipe


def recipe(samples: int, shard_size: int):
    third = samples // 3
    return parse_recipe(
        {
            "name": "scaling",
            "holdout_fraction": 0.0,
            "shard_size": shard_size,
            "splits": {
                "train": [
                    {"task": "anomaly_grounding", "subtype": "channel_swap", "count": third},
                    {"task": "object_counting", "tier": "easy", "count": third},
                    {"task": "temporal_jigsaw", "tier": "easy", "count": samples - 2 * third},
                ]
            },
        },
        "scaling",
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--samples", type=int, default=192)
    parser.add_argument("--shard-size", type=int, default=8)
    parser.add_argument("--encoder", default="libx264")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pool = Path(tmp) / "pool"
        pool.mkdir()
        clips = short_clips(args.clips)
        for copy in range(max(1, args.samples // (3 * len(clips)))):
            for clip in clips:
                os.symlink(clip.resolve(), pool / f"{copy:03d}_{clip.name}")
        rows, checksums = [], []
        for workers in [int(w) for w in args.workers.split(",")]:
            out = Path(tmp) / f"out{workers}"
            started = time.perf_counter()
            dataset = build(
                recipe(args.samples, args.shard_size),
                str(pool),
                out,
                workers=workers,
                encoder_name=args.encoder,
                progress=False,
            )
            seconds = time.perf_counter() - started
            shards = {key: shard.sha256 for key, shard in read_manifest(dataset).shards.items()}
            report = read_report(dataset)
            if checksums and shards != checksums[0]:
                differing = sorted(k for k in shards if shards[k] != checksums[0].get(k))
                skipped = [entry.to_dict() for entry in report.skipped]
                print(
                    f"workers={workers}: {len(differing)} shard(s) differ from the first run, e.g. {differing[:3]}; skipped: {skipped[:3]}"
                )
            checksums.append(shards)
            busy = sum(report.shard_seconds.values())
            rows.append(
                {
                    "workers": workers,
                    "seconds": seconds,
                    "rate": args.samples / seconds,
                    "busy": busy / (workers * seconds),
                }
            )
        base = rows[0]["rate"]
        print_table(
            rows,
            [
                ("workers", 8, itemgetter("workers")),
                ("seconds", 10, lambda r: f"{r['seconds']:.1f}"),
                ("samples/s", 11, lambda r: f"{r['rate']:.2f}"),
                ("speed-up", 10, lambda r: f"{r['rate'] / base:.2f}"),
                ("busy", 7, lambda r: f"{r['busy']:.0%}"),
            ],
            f"({args.samples} samples, {args.encoder}; busy: the workers' share of the wall time spent making samples)",
        )
        print("identical shards across worker counts:", all(c == checksums[0] for c in checksums))


if __name__ == "__main__":
    main()
