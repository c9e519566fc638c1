"""VideoChat-R1 and MUSEG tasks: answers re-derived from meta, pixels that agree with the answers,
the reward of the true answer in the prompt's format, and random baselines at their chance level."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from tests.helpers.clips import make_clip
from tests.helpers.examples import generate_example
from videolake.generators import TASKS, grounding_qa, multi_segment, temporal_grounding, tracking
from videolake.generators.synthetic import scenes
from videolake.generators.synthetic.render import INDEX
from videolake.rewards import REWARDS, accuracy_reward, benchmark_metric, compute_score, ideal_completion

SIZE = 128
NEW_TASKS = (
    "temporal_grounding",
    "multi_segment_grounding",
    "object_tracking",
    "grounding_qa",
    "multiple_choice",
    "open_ended_qa",
)


def generate(task: str, subtype: str, seed: int, **params):
    spec = TASKS[task]
    clip = make_clip() if spec.needs_source(subtype) else None
    if "size" in spec.reads(subtype):
        params.setdefault("size", SIZE)
    if spec.annotation_format(subtype):
        return generate_example(task, subtype, params, np.random.default_rng(seed)), None
    return spec.generate(clip, subtype, params, np.random.default_rng(seed)), clip


def roundtrip(meta: dict) -> dict:
    return json.loads(json.dumps(meta))


@pytest.mark.parametrize("task, subtype", [(t, s) for t in NEW_TASKS for s in TASKS[t].subtypes])
def test_answers_rederive_and_score_full_marks(task, subtype):
    for seed in range(3):
        sample, _ = generate(task, subtype, seed)
        meta = roundtrip(sample.meta)
        assert TASKS[task].derive_answer(meta) == sample.answer
        assert sample.question.startswith("<video>\n")
        result = compute_score(task, ideal_completion(task, sample.answer), sample.answer, {"meta": json.dumps(meta)})
        assert result["score"] == pytest.approx(REWARDS[task].maximum, abs=1e-5)
        assert TASKS[task].video_lengths(meta) == [sample.clips[0].shape[0]]


def test_the_scene_log_matches_the_tracks():
    for seed in range(60):
        meta = scenes.simulate(dict(scenes.DEFAULT_SETTINGS, size=SIZE), np.random.default_rng(seed))
        for obj in meta["objects"]:
            for kind in scenes.ACTIONS:
                logged = [
                    (a["start_frame"], a["end_frame"])
                    for a in meta["actions"]
                    if a["object"] == obj["id"] and a["action"] == kind
                ]
                assert scenes.action_spans(obj, kind) == logged


def changed_frames(video, colour: str) -> set[int]:
    """Frames f whose pixels of ``colour`` differ from frame f - 1 (exact: palette indices)."""
    masks = [video.indices(f) == INDEX[colour] for f in range(video.num_frames)]
    return {f for f in range(1, len(masks)) if not np.array_equal(masks[f], masks[f - 1])}


def test_a_rendered_event_happens_inside_its_interval_and_nowhere_else():
    for seed in range(6):
        sample, _ = generate("temporal_grounding", "rendered", seed, size=448)  # every step moves a pixel at this size
        meta = sample.meta
        obj = scenes.by_id(meta, meta["query"]["object"])
        start, end = (round(float(v) * 30) for v in sample.answer.split(" to "))
        changed = changed_frames(sample.clips[0], obj["colour"])
        inside = set(range(start + 1, end + 1))
        # It changes on most frames of the interval and near both ends (a slow pulse may move its
        # edge by less than a pixel on a frame), and outside it only while doing something else.
        assert len(inside & changed) >= 0.8 * len(inside)
        assert set(range(start + 1, start + 4)) & changed and set(range(end - 2, end + 1)) & changed
        others = [a for a in meta["actions"] if a["object"] == obj["id"] and a["action"] != meta["query"]["action"]]
        outside = changed - inside
        assert all(
            any(a["start_frame"] < f <= a["end_frame"] for a in others) for f in outside
        )  # only its other actions


def test_every_rendered_segment_is_a_separate_burst_of_the_named_action():
    sample, _ = generate("multi_segment_grounding", "rendered", 1, size=448)
    meta = sample.meta
    spans = [tuple(round(float(v) * 30) for v in token.split("-")) for token in sample.answer.split()]
    assert len(spans) >= 2 and all(b[0] > a[1] for a, b in zip(spans, spans[1:]))
    obj = scenes.by_id(meta, meta["query"]["object"])
    assert scenes.action_spans(obj, meta["query"]["action"]) == spans
    changed = changed_frames(sample.clips[0], obj["colour"])
    assert all(len(set(range(s + 1, e + 1)) & changed) >= 0.8 * (e - s) for s, e in spans)


@pytest.mark.parametrize("subtype", ["channel_swap", "mirror", "noise", "zoom_out"])
def test_the_perturbed_segments_and_only_those_differ_from_the_source(subtype):
    sample, clip = generate("multi_segment_grounding", subtype, 4, segments=3)
    differs = {i for i, (a, b) in enumerate(zip(sample.clips[0], clip.base_frames())) if not np.array_equal(a, b)}
    expected = {f for s, n in sample.meta["segments"] for f in range(s, s + n)}
    assert differs == expected and len(sample.meta["segments"]) == 3
    fps = Fraction(sample.meta["fps"])
    assert sample.answer == " ".join(
        f"{float(s / fps):.2f}-{float((s + n) / fps):.2f}" for s, n in sample.meta["segments"]
    )


def test_segments_that_cannot_fit_are_refused():
    with pytest.raises(Exception, match="do not fit"):
        generate("multi_segment_grounding", "mirror", 0, segments=6, segment_frames=10)


def test_the_museg_stage_picks_the_prompt_and_reaches_the_reward():
    one, _ = generate("multi_segment_grounding", "rendered", 0, stage=1)
    two, _ = generate("multi_segment_grounding", "rendered", 0, stage=2)
    assert "REFER TO SPECIFIC TIMESTAMPS" in one.question and "REFER TO" not in two.question
    bare = f"<think>no times cited</think><answer>{one.answer}</answer>"
    assert compute_score("multi_segment_grounding", bare, one.answer, {"meta": json.dumps(one.meta)})["format"] == 0.6
    assert compute_score("multi_segment_grounding", bare, two.answer, {"meta": json.dumps(two.meta)})["format"] == 1.0
    # TRL passes the record's meta column to the reward: the stage reaches it there too
    stage_1, stage_2 = accuracy_reward(
        None,
        [bare, bare],
        task=["multi_segment_grounding"] * 2,
        answer=[one.answer, two.answer],
        meta=[json.dumps(one.meta), json.dumps(two.meta)],
    )
    assert stage_2 - stage_1 == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(4))
def test_the_tracked_object_fills_its_boxes(seed):
    sample, _ = generate("object_tracking", "rendered", seed)
    boxes, meta = json.loads(sample.answer), sample.meta
    colour = scenes.by_id(meta["world"], meta["target"])["colour"]
    assert (
        len(boxes) == 8 and meta["asked_frames"][0] == 0 and meta["asked_frames"][-1] == meta["world"]["num_frames"] - 1
    )
    for frame, (x1, y1, x2, y2) in enumerate(boxes):
        ys, xs = np.nonzero(sample.clips[0].indices(frame) == INDEX[colour])
        assert xs.min() >= x1 - 1 and xs.max() <= x2 and ys.min() >= y1 - 1 and ys.max() <= y2  # inside
        assert xs.min() <= x1 + 1 and xs.max() >= x2 - 2 and ys.min() <= y1 + 1 and ys.max() >= y2 - 2  # and tight
    assert str(boxes[0]) in sample.question and "eight sublists" in sample.question


@pytest.mark.parametrize("seed", range(4))
def test_the_overlay_moves_along_its_boxes_over_the_real_frames(seed):
    sample, clip = generate("object_tracking", "overlay", seed)
    boxes, meta = json.loads(sample.answer), sample.meta
    source = clip.base_frames()[meta["asked_slots"]]
    assert sample.clips[0].shape[0] == len(boxes) == 8
    centres = []
    for frame, (x1, y1, x2, y2) in enumerate(boxes):
        ys, xs = np.nonzero(np.any(sample.clips[0][frame] != source[frame], axis=-1))
        assert xs.min() >= x1 - 1 and xs.max() <= x2 and ys.min() >= y1 - 1 and ys.max() <= y2
        centres.append(((x1 + x2) / 2, (y1 + y2) / 2))
    assert len(set(centres)) > 1  # it moves


def test_grounding_qa_questions_are_answered_by_the_tracks():
    kinds = set()
    for seed in range(12):
        sample, _ = generate("grounding_qa", "rendered", seed)
        meta, truth = sample.meta, json.loads(sample.answer)
        kinds.add(meta["query"]["kind"])
        option = meta["query"]["options"]["ABCD".index(truth["answer"])]
        if meta["query"]["kind"] == "which":
            doers = [o["name"] for o in meta["objects"] if scenes.action_spans(o, meta["query"]["action"])]
            assert doers == [option]
        assert truth["segments"] and all(0 <= s < e <= meta["num_frames"] / 30 for s, e in truth["segments"])
        assert f"'{truth['answer']}. {option}'" in sample.question
    assert kinds == set(grounding_qa.QUESTIONS)


def random_metric(task: str, sample, rng) -> float:
    meta = roundtrip(sample.meta)
    guess = TASKS[task].random_guess(meta, float(Fraction(meta["fps"])), rng)
    return benchmark_metric(
        task, compute_score(task, guess, sample.answer, {"reward_mode": "strict", "meta": json.dumps(meta)})
    )


def test_random_baselines_match_their_chance_levels():
    rng = np.random.default_rng(0)
    for seed in range(5):
        sample, _ = generate("temporal_grounding", "rendered", seed)
        start, end = (float(v) for v in sample.answer.split(" to "))
        assert random_metric("temporal_grounding", sample, rng) == pytest.approx(
            (end - start) / (sample.meta["num_frames"] / 30), abs=1e-3
        )
        sample, _ = generate("object_tracking", "overlay", seed)
        w, h = sample.meta["frame_size"]
        shares = [(x2 - x1) * (y2 - y1) / (w * h) for x1, y1, x2, y2 in json.loads(sample.answer)]
        assert random_metric("object_tracking", sample, rng) == pytest.approx(np.mean(shares))
    sample, _ = generate("grounding_qa", "rendered", 3)
    truth = json.loads(sample.answer)
    coverage = sum(e - s for s, e in truth["segments"]) / round(sample.meta["num_frames"] / 30, 2)
    mean = np.mean([random_metric("grounding_qa", sample, rng) for _ in range(4000)])
    assert mean == pytest.approx((coverage + 1 / len(sample.meta["query"]["options"])) / 2, abs=0.02)


def test_answers_use_the_papers_formats():
    tg, _ = generate("temporal_grounding", "rendered", 0)
    assert " to " in tg.answer and all(len(v.split(".")[1]) == 2 for v in tg.answer.split(" to "))
    ms, _ = generate("multi_segment_grounding", "mirror", 0)
    assert all(token.count("-") == 1 for token in ms.answer.split())
    assert temporal_grounding.PROMPT.startswith('To accurately pinpoint the event "[EVENT]"')
    assert multi_segment.PROMPTS[2].startswith("{} First, output reasoning process in <think> </think> tags. Then")
    assert tracking.spread(48, 8) == [0, 7, 13, 20, 27, 34, 40, 47]
