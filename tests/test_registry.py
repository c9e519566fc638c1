"""Every task in the registry carries what the pipeline, validate, score and inspect need, and has a
reward: nothing outside generators/ and rewards/ names a task."""

from __future__ import annotations

import ast
from fractions import Fraction

import numpy as np
import pytest

from tests.conftest import REPO, generate_example
from videolake.generators import TASKS
from videolake.rewards import MAXIMUM_SCORE, REWARDS, benchmark_metric, compute_score, ideal_completion


def sample_of(task_name: str, subtype: str):
    task = TASKS[task_name]
    params = {"size": 64} if "size" in task.reads(subtype) and not task.needs_source(subtype) else {}
    return generate_example(task_name, subtype, params, np.random.default_rng(0))


def test_every_task_has_a_reward_a_random_guess_and_a_contact_sheet():
    rng = np.random.default_rng(0)
    for name, task in TASKS.items():
        assert name in REWARDS, name
        subtype = (task.subtypes or ("default",))[0]
        sample = sample_of(name, subtype)
        meta = {**sample.meta, "generator": {"params": {}}}
        perfect = compute_score(name, ideal_completion(name, sample.answer), sample.answer, {"reward_mode": "strict"})
        guess = compute_score(
            name,
            task.random_guess(meta, float(Fraction(sample.meta["fps"])), rng),
            sample.answer,
            {"reward_mode": "strict"},
        )
        assert perfect["score"] == pytest.approx(MAXIMUM_SCORE[name], abs=1e-5), name
        assert (
            benchmark_metric(name, perfect) == pytest.approx(1.0, abs=1e-5)
            and 0.0 <= benchmark_metric(name, guess) <= 1.0
        ), name
        if task.contact is not None:
            marks = task.contact(sample.meta)
            assert marks.note and all(0 <= frame < sum(task.video_lengths(sample.meta)) for frame in marks.marked), name
        else:
            assert sample.meta["events"], "tasks without a frame grid are drawn on their event timeline"


def test_no_pipeline_module_names_a_task():
    """Task knowledge lives in the registry: the pipeline's modules never branch on a task name."""
    names = set(TASKS) | set(REWARDS)
    for path in sorted((REPO / "pipeline").glob("*.py")):
        tree = ast.parse(path.read_text())
        literals = {
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not literals & names, f"{path.name} names {sorted(literals & names)}"
