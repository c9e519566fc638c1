"""Full-size builds timed: a shipped recipe built the way a user builds it (`videolake build`, local
Dask workers), with wall time, samples/s, bytes and peak RSS per worker, and the hours the whole
recipe takes at that rate on this machine.

Real clips are few here, so the source pool is the given clips linked under many names, enough for
one sample per source as the recipe asks (VideoSSR-30K and VIUBench draw one sample per video).
``--fraction`` scales every count of the recipe (and the pool with it) to keep the run short; the
extrapolation then multiplies by the full count, which holds because each sample costs the same
whatever the build's size (every shard is built independently).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from operator import itemgetter
from pathlib import Path

import psutil
import yaml

from bench.bench import print_table, short_clips
from videolake.pipeline.dataset import read_manifest
from videolake.pipeline.recipes import BENCHMARK_SPLITS, load_recipe


def scaled_recipe(name: str, fraction: float) -> tuple[dict, int, int]:
    """The recipe's document with every count scaled; (document, scaled samples, full samples)."""
    document = dict(load_recipe(name).document)
    full = scaled = 0
    splits = {}
    for split, entries in document["splits"].items():
        splits[split] = []
        for entry in entries:
            count = max(1, math.ceil(entry["count"] * fraction))
            full, scaled = full + entry["count"], scaled + count
            splits[split].append({**entry, "count": count})
    document["splits"] = splits
    return document, scaled, full


def link_pool(clips: list[Path], folder: Path, sources: int) -> None:
    folder.mkdir(parents=True)
    for k in range(sources):
        clip = clips[k % len(clips)]
        os.symlink(clip.resolve(), folder / f"{k:06d}_{clip.name}")


def is_worker(process: psutil.Process) -> bool:
    command = " ".join(process.cmdline())
    return "spawn_main" in command and "resource_tracker" not in command


def run_build(command: list[str], log: Path) -> dict:
    """Run the build, sampling the RSS of the driver and of every worker process until it ends.
    Its stderr goes to ``log``, a file: a pipe nobody reads while polling would block the build."""
    started = time.perf_counter()
    with open(log, "w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
    driver, peaks = psutil.Process(process.pid), {}
    while process.poll() is None:
        try:
            peaks["driver"] = max(peaks.get("driver", 0), driver.memory_info().rss)
            for child in driver.children(recursive=True):
                if is_worker(child):
                    peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
        except psutil.Error:
            pass  # a process that ended between listing and reading
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"build failed: {log.read_text().strip()}")
    workers = [rss for pid, rss in peaks.items() if pid != "driver"]
    if not workers:
        raise SystemExit("no worker process of the build was seen: the per-worker peak RSS would read 0")
    return {
        "seconds": seconds,
        "driver_rss": peaks["driver"],
        "worker_rss": max(workers),
        "worker_processes": len(workers),
    }


def time_recipe(name: str, clips: list[Path], fraction: float, workers: int, scratch: Path) -> dict:
    document, scaled, full = scaled_recipe(name, fraction)
    recipe_file = scratch / f"{name}.yaml"
    recipe_file.write_text(yaml.safe_dump(document, sort_keys=False))
    command = [
        sys.executable,
        "-m",
        "videolake.commands.cli",
        "build",
        str(recipe_file),
        "--out",
        str(scratch / "out"),
        "--workers",
        str(workers),
        "--quiet",
    ]
    if load_recipe(str(recipe_file)).needs_sources:
        holdout = document["holdout_fraction"]
        benchmark_only = all(split in BENCHMARK_SPLITS for split in document["splits"])
        share = holdout if benchmark_only else 1 - holdout  # the part of the pool this recipe may draw from
        pool = scratch / f"{name}-sources"
        link_pool(clips, pool, math.ceil(scaled / share) + len(clips))
        command += ["--sources", str(pool)]
    timing = run_build(command, scratch / "build.log")
    dataset = scratch / "out" / name
    manifest = read_manifest(dataset)
    written = manifest.rows
    size = sum(shard.bytes for shard in manifest.shards.values())
    rate = written / timing["seconds"]
    return {
        "recipe": name,
        "workers": workers,
        "samples": written,
        "planned": scaled,
        "full_samples": full,
        "seconds": round(timing["seconds"], 1),
        "samples_per_s": round(rate, 2),
        "bytes_per_sample": round(size / max(written, 1)),
        "worker_processes": timing["worker_processes"],
        "worker_peak_rss_mib": round(timing["worker_rss"] / 2**20),
        "driver_peak_rss_mib": round(timing["driver_rss"] / 2**20),
        "full_hours": round(full / rate / 3600, 2),
        "full_gb": round(size / max(written, 1) * full / 1e9, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--recipes", default="viubench,videossr-30k,synrl-rl")
    parser.add_argument("--fraction", type=float, default=0.1, help="scale every count of the recipe by this")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    clips = short_clips(args.clips)
    rows = []
    for name in args.recipes.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            rows.append(time_recipe(name, clips, args.fraction, args.workers, Path(scratch)))
    print(
        f"full-size builds ({args.workers} workers on {os.cpu_count()} cores, `videolake build`, every count x {args.fraction}; the full recipe extrapolated at the same rate)"
    )
    print_table(
        rows,
        [
            ("recipe", -14, itemgetter("recipe")),
            ("samples", 9, itemgetter("samples")),
            ("seconds", 9, itemgetter("seconds")),
            ("samples/s", 11, itemgetter("samples_per_s")),
            ("KB/sample", 11, lambda r: f"{r['bytes_per_sample'] / 1e3:.1f}"),
            ("worker RSS", 12, lambda r: f"{r['worker_peak_rss_mib']} MiB"),
            ("driver RSS", 12, lambda r: f"{r['driver_peak_rss_mib']} MiB"),
            ("full: samples", 15, itemgetter("full_samples")),
            ("hours", 8, itemgetter("full_hours")),
            ("GB", 7, itemgetter("full_gb")),
        ],
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
