"""`make bench` (the lake's own costs): reward worst case, validate speed, planning at 10M samples.

- rewards: the slowest reward of every task and mode on the 1 MB hostile completions (CPU time,
  best of 3), as a ratio to the 50 ms a trainer can afford per completion (target < 1);
- validate: records/s decoding every video of a real-clip build, one process and one per core,
  against decoding the same videos alone; extrapolated to VIUBench (2,700 records);
- plan: a 10M-sample recipe planned and its first shard made, in a fresh process: seconds and
  peak RSS (target < 1 GiB, first shard within seconds).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import yaml

from videolake.rewards import ALL_TASKS, REWARD_MODES, compute_score
from videolake.rewards.hostile import EXAMPLE_TRUTHS, hostile_completions

REWARD_LIMIT_SECONDS = 0.05
VIUBENCH_RECORDS = 2700


def reward_worst_case(size: int) -> dict:
    worst = (0.0, "")
    for name, text in hostile_completions(size).items():
        for task in ALL_TASKS:
            for mode in REWARD_MODES:
                for stage in (1, 2):
                    best = float("inf")
                    for _ in range(3):
                        started = time.process_time()
                        compute_score(task, text, EXAMPLE_TRUTHS[task], {"reward_mode": mode, "museg_stage": stage})
                        best = min(best, time.process_time() - started)
                    worst = max(worst, (best, f"{task}/{mode}/stage {stage} on '{name}'"))
    return {"completion_bytes": size, "worst_ms": round(worst[0] * 1000, 2), "where": worst[1], "ratio_to_limit": round(worst[0] / REWARD_LIMIT_SECONDS, 3)}


def small_build(clips: Path, out: Path, samples: int) -> Path:
    from videolake.pipeline.graph import build
    from videolake.pipeline.recipes import load_recipe

    third = max(1, samples // 3)
    recipe = {
        "name": "validate-bench",
        "shard_size": 4,
        "holdout_fraction": 0,
        "splits": {
            "train": [
                {"task": "anomaly_grounding", "subtype": "channel_swap", "count": third},
                {"task": "object_counting", "tier": "easy", "count": third},
                {"task": "temporal_jigsaw", "tier": "easy", "count": samples - 2 * third},
            ]
        },
    }
    (out / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return build(load_recipe(str(out / "recipe.yaml")), str(clips), out, progress=False)


def decode_only_seconds(dataset: Path) -> float:
    """Decoding every video of the build, nothing else: the floor of a decoding validate."""
    import datasets

    rows = datasets.load_from_disk(str(dataset))["train"]
    started = time.perf_counter()
    for videos in rows["videos"]:
        for data in videos:
            with av.open(io.BytesIO(data)) as container:
                for _ in container.decode(video=0):
                    pass
    return time.perf_counter() - started


def validate_speed(clips: Path, samples: int) -> dict:
    from videolake.pipeline.validate import validate

    with tempfile.TemporaryDirectory() as folder:
        dataset = small_build(clips, Path(folder), samples)
        timings = {}
        for workers in (1, os.cpu_count() or 1):
            started = time.perf_counter()
            checked, problems = validate(dataset, workers=workers)
            timings[workers] = time.perf_counter() - started
            assert not problems, problems[:3]
        floor = decode_only_seconds(dataset)
    one, many = timings[1], timings[max(timings)]
    return {
        "records": checked,
        "records_per_s_1_process": round(checked / one, 1),
        "records_per_s_all_cores": round(checked / many, 1),
        "ratio_to_decode_only": round(one / floor, 2),
        "viubench_seconds_all_cores": round(VIUBENCH_RECORDS * many / checked, 1),
        "cores": max(timings),
    }


PLAN_PROBE = """
import resource, sys, time
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.plan import make_plan
from videolake.pipeline.recipes import parse_recipe
total = int(sys.argv[1])
third = total // 3
recipe = parse_recipe({"name": "huge", "splits": {"train": [
    {"task": "anomaly_grounding", "subtype": "swap", "count": total - 2 * third},
    {"task": "temporal_jigsaw", "tier": "easy", "count": third},
    {"task": "synrl", "subtype": "rotation", "count": third}]}}, "huge.yaml")
sources = [SourceRef(f"clips/{i:06d}.mp4", f"/data/clips/{i:06d}.mp4") for i in range(int(sys.argv[2]))]
started = time.perf_counter()
plan = make_plan(recipe, sources)
first = plan.shards[0]
first_shard = time.perf_counter() - started
shards = len(plan.shards)
used = len(plan.source_ids(benchmark=False))
print(first_shard, shards, used, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def plan_scale(samples: int, sources: int) -> dict:
    output = subprocess.run([sys.executable, "-c", PLAN_PROBE, str(samples), str(sources)], capture_output=True, text=True, check=True)
    seconds, shards, used, rss = output.stdout.split()
    return {"samples": samples, "sources": sources, "shards": int(shards), "first_shard_s": round(float(seconds), 3), "peak_rss_mib": round(float(rss), 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="seconds-long run for the tests")
    args = parser.parse_args(argv)
    rewards = reward_worst_case(10_000 if args.tiny else 1_000_000)
    print(
        f"rewards: worst case {rewards['worst_ms']} ms on a {rewards['completion_bytes']:,}-byte hostile completion ({rewards['where']}); ratio to the 50 ms limit {rewards['ratio_to_limit']} (target < 1)"
    )
    speed = validate_speed(args.clips, 3 if args.tiny else 24)
    print(
        f"validate: {speed['records_per_s_1_process']} records/s in 1 process, {speed['records_per_s_all_cores']} on {speed['cores']} cores "
        f"({speed['records']} real-clip records, every video decoded); ratio to decoding alone {speed['ratio_to_decode_only']}; "
        f"VIUBench ({VIUBENCH_RECORDS} records) about {speed['viubench_seconds_all_cores']} s"
    )
    plan = plan_scale(10_000 if args.tiny else 10_000_000, 100 if args.tiny else 100_000)
    print(
        f"plan: {plan['samples']:,} samples over {plan['sources']:,} sources -> {plan['shards']:,} shards; first shard after {plan['first_shard_s']} s; driver peak RSS {plan['peak_rss_mib']} MiB (target < 1024)"
    )


if __name__ == "__main__":
    main()
