"""Every generator declares, per subtype, the settings it reads with their types and ranges; the
declarations are checked against what the generators really read and against their bounds."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.clips import make_clip
from tests.helpers.examples import generate_example
from videolake.generators import (
    TASKS,
    CannotGenerate,
    anomaly,
    counting,
    grounding_qa,
    jigsaw,
    multi_segment,
    multiple_choice,
    open_ended_qa,
    synthetic,
    temporal_grounding,
    tracking,
)
from videolake.generators.base import Param

MODULES = {
    m.NAME: m
    for m in (
        anomaly,
        counting,
        jigsaw,
        synthetic,
        temporal_grounding,
        multi_segment,
        tracking,
        grounding_qa,
        multiple_choice,
        open_ended_qa,
    )
}
SCENE_TASKS = (temporal_grounding, multi_segment, tracking, grounding_qa)


class RecordingSettings(dict):
    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def subtypes(task):
    return TASKS[task].subtypes or ("default",)


def read_settings(monkeypatch, task, subtype, seeds=20) -> set[str]:
    module, original, seen = MODULES[task], MODULES[task].settings_for, set()

    def recording(params):
        settings = RecordingSettings(original(params))
        recorded.append(settings)
        return settings

    recorded: list[RecordingSettings] = []
    monkeypatch.setattr(module, "settings_for", recording)
    for seed in range(seeds):
        try:
            generate_example(
                task,
                subtype,
                {"size": 64} if not TASKS[task].needs_source(subtype) else {},
                np.random.default_rng(seed),
            )
        except CannotGenerate:
            pass
    for settings in recorded:
        seen |= settings.read
    return seen


@pytest.mark.parametrize("task, subtype", [(t, s) for t in TASKS for s in subtypes(t)])
def test_declared_reads_are_what_the_generator_reads(monkeypatch, task, subtype):
    assert read_settings(monkeypatch, task, subtype) == set(TASKS[task].reads(subtype))


def test_every_default_setting_is_declared_and_within_its_range():
    for module in MODULES.values():
        declared = module.PARAMETERS
        assert set(module.DEFAULT_SETTINGS) == set(declared), module.__name__
        for name, value in module.DEFAULT_SETTINGS.items():
            assert declared[name].accepts(value), (module.__name__, name, value)


def bounds(param: Param):
    if param.kind is bool:
        return [True, False]
    if param.choices is not None:
        return [list(param.choices[:1]), list(param.choices)]
    return [param.kind(param.low), param.kind(param.high)]


@pytest.mark.parametrize("scenario", list(synthetic.SCENARIOS))
def test_synthetic_scenarios_generate_at_every_declared_bound(scenario):
    """At a bound a scenario may say it cannot make the sample (CannotGenerate), never fail otherwise."""
    for name in synthetic.reads(scenario):
        if name in ("size", "fps"):
            continue  # the frame itself: 64 px and 10 fps keep this test fast
        for value in bounds(synthetic.PARAMETERS[name]):
            params = {"size": 64, "fps": 10, name: value}
            try:
                sample = synthetic.generate(None, scenario, params, np.random.default_rng(0))
            except CannotGenerate:
                continue
            assert synthetic.derive_answer(sample.meta) == sample.answer, (name, value)


@pytest.mark.parametrize("module", SCENE_TASKS, ids=lambda m: m.NAME)
def test_scene_tasks_generate_at_every_declared_bound(module):
    task = module.TASK
    for subtype in task.subtypes:
        if task.annotation_format(subtype):
            continue  # annotated rows carry no settings beyond the prompt's stage and frame count
        rendered = not task.needs_source(subtype)
        for name in task.reads(subtype):
            if name in ("size", "fps"):
                continue  # the frame itself: 64 px and 10 fps keep this test fast
            for value in bounds(module.PARAMETERS[name]):
                params = {"size": 64, "fps": 10, name: value} if rendered else {name: value}
                try:
                    sample = module.generate(
                        None if rendered else make_clip(), subtype, params, np.random.default_rng(0)
                    )
                except CannotGenerate:
                    continue
                assert module.derive_answer(sample.meta) == sample.answer, (subtype, name, value)
