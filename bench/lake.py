"""`make bench` (the lake's own costs): reward worst case, validate speed, planning at 10M samples, audit of 30K records.

- rewards: the slowest reward of every task and mode on the 1 MB hostile completions (CPU time,
  best of 3), as a ratio to the 50 ms a trainer can afford per completion (target < 1);
- validate: records/s decoding every video of a real-clip build, one process and one per core,
  against decoding the same videos alone; extrapolated to VIUBench (2,700 records);
- plan: a 10M-sample recipe planned and its first shard made, in a fresh process: seconds and
  peak RSS (target < 1 GiB, first shard within seconds);
- audit: ``videolake audit`` of 30K records read from a shard (VideoSSR-30K's mix, and 30K
  four-option questions with free-text options, the costlier path): wall and CPU seconds
  (target: seconds).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import yaml

from bench.bench import print_table
from videolake.rewards import REWARD_MODES, REWARDS, compute_score
from videolake.rewards.hostile import hostile_completions

REWARD_LIMIT_SECONDS = 0.05
VIUBENCH_RECORDS = 2700


def reward_worst_case(size: int) -> dict:
    worst = (0.0, "")
    for name, text in hostile_completions(size).items():
        for task, declared in REWARDS.items():
            for mode in REWARD_MODES:
                for stage in (1, 2):
                    best = float("inf")
                    for _ in range(3):
                        started = time.process_time()
                        compute_score(task, text, declared.example_truth, {"reward_mode": mode, "museg_stage": stage})
                        best = min(best, time.process_time() - started)
                    worst = max(worst, (best, f"{task}/{mode}/stage {stage} on '{name}'"))
    return {
        "completion_bytes": size,
        "worst_ms": round(worst[0] * 1000, 2),
        "where": worst[1],
        "ratio_to_limit": round(worst[0] / REWARD_LIMIT_SECONDS, 3),
    }


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
    from videolake.commands.validate import validate

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
    output = subprocess.run(
        [sys.executable, "-c", PLAN_PROBE, str(samples), str(sources)], capture_output=True, text=True, check=True
    )
    seconds, shards, used, rss = output.stdout.split()
    return {
        "samples": samples,
        "sources": sources,
        "shards": int(shards),
        "first_shard_s": round(float(seconds), 3),
        "peak_rss_mib": round(float(rss), 1),
    }


def videossr_rows(n: int, rng) -> list[dict]:
    """VideoSSR-30K's text columns: 40 % grounding over 4 perturbations, 40 % 6-clip jigsaw, 20 % easy counting."""
    rows = []
    for i in range(n):
        kind = i % 5
        if kind < 2:
            start, length = int(rng.integers(0, 32)), int(rng.integers(8, 17))
            subtype = ("channel_swap", "mirror", "zoom_out", "rotate180")[i % 4]
            row = (
                "anomaly_grounding",
                subtype,
                "default",
                f"{start / 8:.1f}-{(start + length) / 8:.1f}",
                {"num_frames": 48, "fps": "8"},
            )
        elif kind < 4:
            row = (
                "temporal_jigsaw",
                "easy",
                "easy",
                "".join(str(d) for d in rng.permutation(6) + 1),
                {"num_frames": 48, "segments": 6, "segment_frames": 8, "fps": "8"},
            )
        else:
            row = (
                "object_counting",
                "easy",
                "easy",
                ",".join(str(v) for v in rng.integers(1, 10, size=3)),
                {"num_frames": 48, "fps": "8", "generator": {"params": {}}},
            )
        task, subtype, tier, answer, meta = row
        rows.append(
            {
                "id": f"videossr-train-{i}",
                "task": task,
                "subtype": subtype,
                "tier": tier,
                "question": f"<video>\nThe {subtype} question.",
                "answer": answer,
                "fps": 8.0,
                "meta": json.dumps(meta),
            }
        )
    return rows


AUDIT_WORDS = "the a man woman dog ball car red blue green runs jumps opens closes door table slowly quickly left right twice after before".split()


def choice_rows(n: int, rng) -> list[dict]:
    """LLaVA-Video-style questions: four options of 3-12 words, the right one uniform."""
    rows = []
    for i in range(n):
        options = [" ".join(rng.choice(AUDIT_WORDS, size=int(rng.integers(3, 13)))) for _ in range(4)]
        answer = int(rng.integers(4))
        annotation = {
            "video": f"v{i}.mp4",
            "question": "What happens?",
            "options": options,
            "answer": answer,
            "where": f"qa.json[{i}]",
        }
        question = "<video>\nWhat happens? " + str([f"{'ABCD'[k]}. {o}" for k, o in enumerate(options)])
        meta = {"num_frames": int(rng.integers(32, 65)), "fps": "2", "annotation": annotation}
        rows.append(
            {
                "id": f"choice-train-{i}",
                "task": "multiple_choice",
                "subtype": "llava_video",
                "tier": "default",
                "question": question,
                "answer": "ABCD"[answer],
                "fps": 2.0,
                "meta": json.dumps(meta),
            }
        )
    return rows


def audit_speed(records: int) -> list[dict]:
    """Seconds to audit ``records`` records, read from a shard file as ``build`` and ``audit`` read them."""
    import numpy as np

    from videolake.pipeline import audit
    from videolake.pipeline.dataset import shard_filename
    from videolake.pipeline.shards import serialize_shard

    found = []
    for name, make in (("VideoSSR-30K mix", videossr_rows), ("4-option questions", choice_rows)):
        rows = make(records, np.random.default_rng(0))
        full = [
            {"split": "train", "source_id": "", "system": "", "reasoning": None, "videos": [b"\0" * 64], **row}
            for row in rows
        ]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / shard_filename(0, 1)
            path.write_bytes(serialize_shard(full))
            audit.metric.cache_clear()
            started, cpu = time.perf_counter(), time.process_time()
            result = audit.audit_rows(audit.read_rows([path]))
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        found.append(
            {
                "set": name,
                "records": records,
                "groups": len(result["groups"]),
                "flagged": len(result["flagged"]),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
            }
        )
    return found


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
    print_table(
        audit_speed(300 if args.tiny else 30_000),
        [
            ("audit of", -20, lambda r: r["set"]),
            ("records", 9, lambda r: f"{r['records']:,}"),
            ("groups", 8, lambda r: r["groups"]),
            ("flagged", 9, lambda r: r["flagged"]),
            ("seconds", 9, lambda r: r["seconds"]),
            ("CPU s", 8, lambda r: r["cpu_seconds"]),
        ],
        "(videolake audit: text columns only, one process; target seconds)",
    )


if __name__ == "__main__":
    main()
