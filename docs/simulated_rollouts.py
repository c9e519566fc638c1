"""Rollouts from a simulated model, for the README's curate picture (no model needed).

Each sample gets a skill drawn from Beta(a, b) by task; each of k completions is the true answer,
written as the task's prompt asks, with that probability, and otherwise an unanswered one.

    videolake build demo --sources data/clips --out data/out
    python docs/simulated_rollouts.py data/out/demo data/rollouts.jsonl
    videolake curate data/out/demo --rollouts data/rollouts.jsonl --out data/curated
"""

import json
import sys

import datasets
import numpy as np

from videolake.rewards import ideal_completion

SKILL = {
    "anomaly_grounding": (1.2, 2.0),
    "object_counting": (2.5, 1.2),
    "temporal_jigsaw": (0.6, 1.8),
    "synrl": (1.5, 1.0),
}
K = 8


def main(dataset: str, out: str) -> None:
    rng = np.random.default_rng(0)
    splits = datasets.load_from_disk(dataset)
    with open(out, "w", encoding="utf-8") as handle:
        for split in splits:
            for record in splits[split]:
                skill = rng.beta(*SKILL.get(record["task"], (1.0, 1.0)))
                for _ in range(K):
                    completion = (
                        ideal_completion(record["task"], record["answer"]) if rng.random() < skill else "I cannot tell."
                    )
                    handle.write(json.dumps({"id": record["id"], "completion": completion}) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
