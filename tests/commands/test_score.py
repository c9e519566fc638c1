"""The VIUBench scorer: Table 1's metrics, and the random-guess row reproduced within sampling error."""

import json

import numpy as np
import pytest

from tests.helpers.clips import make_clip
from videolake.commands.score import format_table, random_predictions, score
from videolake.generators import TASKS
from videolake.pipeline.recipes import load_recipe


def viubench_items(per_subtype: int = 300) -> list[dict]:
    """VIUBench's 9 subtypes x 300, from the real generators and tiers (videos are not needed to score)."""
    clip = make_clip(h=96, w=160)
    items = []
    for entry in load_recipe("viubench").splits["test"]:
        for _ in range(per_subtype):
            sample = TASKS[entry.task].generate(clip, entry.subtype, entry.params, np.random.default_rng(len(items)))
            meta = {**sample.meta, "generator": {"params": entry.params}}
            items.append(
                {
                    "id": str(len(items)),
                    "task": entry.task,
                    "subtype": entry.subtype,
                    "tier": entry.tier,
                    "answer": sample.answer,
                    "fps": float(clip.fps),
                    "meta": json.dumps(meta),
                }
            )
    return items


@pytest.fixture(scope="module")
def items():
    return viubench_items()


def test_random_baseline_reproduces_table_1(items):
    result = score(items, random_predictions(items, seed=0))
    by = {(r["task"], r["subtype"]): r["score"] for r in result["subtypes"]}
    assert len(items) == 2700 and len(by) == 9
    assert by[("object_counting", "easy")] == pytest.approx(11.1, abs=3.2)  # 3 standard errors
    assert by[("object_counting", "hard")] == pytest.approx(6.3, abs=2.5)
    for subtype in ("channel_swap", "rotate180", "zoom_out", "mirror", "shuffle"):
        assert by[("anomaly_grounding", subtype)] == pytest.approx(25.4, abs=2.5)
    assert by[("temporal_jigsaw", "easy")] < 1.5 and by[("temporal_jigsaw", "hard")] < 1.0
    assert result["overall"] == pytest.approx(np.mean(list(by.values())))
    assert result["tasks"]["object_counting"] == pytest.approx(
        (by[("object_counting", "easy")] + by[("object_counting", "hard")]) / 2
    )


def test_perfect_predictions_score_100_and_missing_ones_0(items):
    perfect = {item["id"]: item["answer"] for item in items}
    assert score(items, perfect)["overall"] == pytest.approx(100.0)
    result = score(items, {})
    assert result["overall"] == 0.0 and result["missing_predictions"] == 2700
    assert "2700 of 2700 items had no prediction" in format_table(result, "t")


def test_grounding_recall_thresholds_by_hand():
    items = [
        {"id": "a", "task": "anomaly_grounding", "subtype": "mirror", "answer": "0.0-10.0"},
        {"id": "b", "task": "anomaly_grounding", "subtype": "mirror", "answer": "0.0-10.0"},
    ]
    result = score(items, {"a": "0-6", "b": "0-4"})  # IoU 0.6 and 0.4
    row = result["subtypes"][0]
    assert row["score"] == pytest.approx(50.0) and row["R@0.3"] == 100 and row["R@0.5"] == 50 and row["R@0.7"] == 0


def test_synrl_items_score_per_type_and_the_random_guess_is_chance():
    from videolake.generators import synthetic

    items = []
    for name in ("direction", "speed_perception", "grid_shell"):
        for seed in range(300):
            sample = synthetic.generate(None, name, {}, np.random.default_rng(seed))
            items.append(
                {
                    "id": f"{name}-{seed}",
                    "task": "synrl",
                    "subtype": name,
                    "tier": "default",
                    "answer": sample.answer,
                    "fps": 30.0,
                    "meta": json.dumps(sample.meta),
                }
            )
    assert score(items, {item["id"]: item["answer"] for item in items})["overall"] == pytest.approx(100.0)
    by = {r["subtype"]: r["score"] for r in score(items, random_predictions(items, seed=1))["subtypes"]}
    assert by["direction"] == pytest.approx(25.0, abs=7.5) and by["grid_shell"] == pytest.approx(
        25.0, abs=7.5
    )  # 4 options, 3 standard errors
    assert by["speed_perception"] == pytest.approx(100 / 3, abs=8.2)  # 3 options


def test_random_baseline_refuses_a_task_it_does_not_know():
    from videolake import VideolakeError

    with pytest.raises(VideolakeError, match="no random baseline"):
        random_predictions([{"id": "x", "task": "captioning", "meta": "{}", "fps": 1.0}])
