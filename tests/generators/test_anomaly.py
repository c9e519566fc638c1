import json

import numpy as np
import pytest

from tests.helpers.clips import make_clip
from videolake.generators import anomaly
from videolake.generators.perturbations import PERTURBATIONS


def run(subtype, seed=0, params=None, density=None):
    params = params or {}
    density = density or anomaly.required_density(subtype, params)
    clip = make_clip(density=density)
    donor = make_clip(h=32, w=48) if subtype == "swap" else None
    if donor is not None:
        donor = type(donor)(frames=255 - donor.frames, source_times=donor.source_times, density=1, fps=donor.fps)
    return clip, anomaly.generate(clip, subtype, params, np.random.default_rng(seed), donor)


@pytest.mark.parametrize("subtype", sorted(PERTURBATIONS))
def test_answer_is_the_perturbed_segment_in_seconds(subtype):
    clip, sample = run(subtype)
    meta = sample.meta
    start, length = meta["start_frame"], meta["num_segment_frames"]
    assert 8 <= length <= 16
    assert sample.answer == f"{start / 8:.1f}-{(start + length) / 8:.1f}"  # fps 8 in the fixture
    assert anomaly.derive_answer(json.loads(json.dumps(meta))) == sample.answer
    out = sample.clips[0]
    assert out.shape == (48, 64, 96, 3)
    if PERTURBATIONS[subtype].kind != "temporal" or subtype in ("shuffle", "stutter_hold"):
        base = clip.base_frames()
        outside = np.r_[0:start, start + length : 48]
        assert np.array_equal(out[outside], base[outside])
        changed = [not np.array_equal(out[i], base[i]) for i in range(start, start + length)]
        if subtype == "stutter_hold":
            assert sum(changed) >= length - meta["params"]["holds"]
        else:
            assert all(changed), subtype


@pytest.mark.parametrize("subtype", ["slow", "fast"])
def test_speed_perturbations_change_the_step_only_inside_the_segment(subtype):
    clip, sample = run(subtype, params={"speed_factor": 2})
    steps = np.diff(sample.meta["dense_indices"])
    start, length = sample.meta["start_frame"], sample.meta["num_segment_frames"]
    inside = steps[start : start + length - 1]
    outside = np.r_[steps[: start - 1], steps[start + length :]] if start else steps[start + length :]
    normal, segment = (2, 1) if subtype == "slow" else (1, 2)
    assert set(inside.tolist()) == {segment} and set(outside.tolist()) <= {normal}
    assert np.array_equal(sample.clips[0], clip.frames[sample.meta["dense_indices"]])


def test_swap_shows_the_donor_resized_to_the_clip():
    clip, sample = run("swap")
    start, length = sample.meta["start_frame"], sample.meta["num_segment_frames"]
    assert not np.array_equal(sample.clips[0][start], clip.base_frames()[start])
    assert len(sample.meta["params"]["donor_source_times"]) == length


def test_derive_answer_refuses_a_tampered_index_map():
    _, sample = run("shuffle")
    meta = dict(sample.meta)
    meta["start_frame"] = meta["start_frame"] + 1 if meta["start_frame"] < 30 else meta["start_frame"] - 1
    with pytest.raises(ValueError):
        anomaly.derive_answer(meta)


def test_prompt_is_figure9_with_the_table8_description():
    text = anomaly.question_for("channel_swap")
    assert text == (
        "<video>\nIn a segment of this video, the red and blue color channels in the video are swapped. Your task is "
        "to identify the precise time interval of this change. Please only provide the start and end times in seconds, "
        "formatted as <start_time>-<end_time> (e.g., '14.5-26.2')."
    )


def test_segment_length_is_a_parameter():
    for seed in range(10):
        _, sample = run("mirror", seed=seed, params={"segment_frames": [3, 4]})
        assert sample.meta["num_segment_frames"] in (3, 4)


def test_same_seed_same_sample():
    a, b = run("noise", seed=5)[1], run("noise", seed=5)[1]
    assert a.answer == b.answer and np.array_equal(a.clips[0], b.clips[0])


def test_unknown_parameter_is_an_error():
    with pytest.raises(ValueError, match="unknown anomaly_grounding parameter"):
        anomaly.settings_for({"segment_length": 3})


def test_edge_frames_put_the_segment_at_either_edge_of_the_clip(clip):
    sides = set()
    for seed in range(40):
        sample = anomaly.generate(
            make_clip(), "mirror", {"segment_frames": [3, 6], "edge_frames": 2}, np.random.default_rng(seed)
        )
        start, end = sample.meta["start_frame"], sample.meta["start_frame"] + sample.meta["num_segment_frames"]
        assert start <= 2 or end >= 48 - 2, (start, end)
        sides.add("start" if start <= 2 else "end")
        assert anomaly.derive_answer(sample.meta) == sample.answer
    assert sides == {"start", "end"}


def test_no_constant_interval_beats_the_whole_video_without_looking():
    """Segments anywhere (edge_frames 0) tile the clip, so no fixed guess of the segment's place
    does better than the whole video (a uniform start let the middle third score 31 % IoU)."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(8, 17, 3000)
    starts = np.array([anomaly.segment_start(rng, 48, int(t), 0) for t in lengths])
    ends = starts + lengths
    assert starts.min() >= 0 and ends.max() <= 48

    def mean_iou(a, b):
        inter = np.clip(np.minimum(b, ends) - np.maximum(a, starts), 0, None)
        return float(np.mean(inter / (np.maximum(b, ends) - np.minimum(a, starts))))

    whole = mean_iou(0, 48)
    best = max(mean_iou(a, b) for a in range(0, 48, 2) for b in range(a + 2, 49, 2))
    assert whole == pytest.approx(np.mean(lengths) / 48)
    assert best <= whole + 0.02, (best, whole)
