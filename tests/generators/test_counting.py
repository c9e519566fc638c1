import math

import numpy as np
import pytest

from tests.helpers.clips import make_clip
from videolake.generators import CannotGenerate, counting

EASY = {"max_frames": 3, "max_per_frame": 3}
HARD = {"max_frames": 4, "max_per_frame": 4}


def run(params, seed=0, h=64, w=96):
    clip = make_clip(h=h, w=w)
    return clip, counting.generate(clip, "easy", params, np.random.default_rng(seed))


def per_frame_counts(shapes):
    table = {}
    for s in shapes:
        table.setdefault((s["type"], s["frame"]), 0)
        table[(s["type"], s["frame"])] += 1
    return table


@pytest.mark.parametrize("tier, cap", [(EASY, 9), (HARD, 16)])
def test_counts_frames_and_shapes_per_frame_stay_within_the_tier(tier, cap):
    for seed in range(30):
        _, sample = run(tier, seed, h=252, w=448)
        shapes = sample.meta["shapes"]
        counts = [int(c) for c in sample.answer.split(",")]
        assert all(1 <= c <= cap for c in counts)
        for shape_type in counting.SHAPES:
            frames = sorted({s["frame"] for s in shapes if s["type"] == shape_type})
            assert 1 <= len(frames) <= tier["max_frames"]
            assert all(b - a >= 8 for a, b in zip(frames, frames[1:]))
        assert max(per_frame_counts(shapes).values()) <= tier["max_per_frame"]


def test_placement_inside_central_region_and_apart():
    _, sample = run(HARD, 3, h=252, w=448)
    for s in sample.meta["shapes"]:
        assert 0.15 * 448 - 1e-6 <= s["cx"] <= 0.85 * 448 + 1e-6 and 0.15 * 252 - 1e-6 <= s["cy"] <= 0.85 * 252 + 1e-6
        assert all(50 <= c <= 255 for c in s["color"]) and 0 <= s["rotation"] < 360
    by_frame = {}
    for s in sample.meta["shapes"]:
        by_frame.setdefault(s["frame"], []).append(s)
    for shapes in by_frame.values():
        for a in shapes:
            for b in shapes:
                if a is not b:
                    assert math.hypot(a["cx"] - b["cx"], a["cy"] - b["cy"]) >= max(a["size"], b["size"]) - 0.02


def test_each_shape_is_drawn_on_its_frame_in_its_colour():
    clip, sample = run(EASY, 7, h=252, w=448)
    out = sample.clips[0]
    drawn = {s["frame"] for s in sample.meta["shapes"]}
    for s in sample.meta["shapes"]:
        assert np.array_equal(out[s["frame"], round(s["cy"]), round(s["cx"])], s["color"])
    untouched = [i for i in range(48) if i not in drawn]
    assert np.array_equal(out[untouched], clip.base_frames()[untouched])


def test_several_shape_types_can_share_a_frame():
    shared = 0
    for seed in range(40):
        _, sample = run(HARD, seed, h=252, w=448)
        types_per_frame = {}
        for s in sample.meta["shapes"]:
            types_per_frame.setdefault(s["frame"], set()).add(s["type"])
        shared += any(len(t) > 1 for t in types_per_frame.values())
    assert shared > 0


def test_derive_answer_counts_the_shape_list():
    meta = {
        "num_frames": 48,
        "shapes": [{"type": "circle", "frame": 1}, {"type": "triangle", "frame": 9}, {"type": "circle", "frame": 20}],
    }
    assert counting.derive_answer(meta) == "2,0,1"
    with pytest.raises(ValueError):
        counting.derive_answer({"num_frames": 48, "shapes": [{"type": "square", "frame": 48}]})


def test_crowded_small_frames_still_fit_every_shape():
    _, sample = run({"max_frames": 4, "max_per_frame": 4}, 1, h=64, w=64)
    assert sum(int(c) for c in sample.answer.split(",")) == len(sample.meta["shapes"])


def test_prompt_is_figure10():
    assert counting.PROMPT.startswith("Count the number of circles, squares, and triangles that appear in this video.")
    assert counting.PROMPT.endswith("your answer should be '3,1,4'.")


def test_twelve_shapes_on_one_frame_fit_by_shrinking_the_layout():
    for seed in range(10):
        _, sample = run({"max_frames": 1, "max_per_frame": 4}, seed, h=252, w=448)
        assert len({s["frame"] for s in sample.meta["shapes"]}) <= 3
        assert sum(int(c) for c in sample.answer.split(",")) == len(sample.meta["shapes"])


def test_occluders_hide_part_of_a_shape_and_never_all_of_it():
    _, sample = run({"occluded_share": 1.0, "size": [0.3, 0.4]}, seed=3, h=128, w=192)
    frames = sample.clips[0]
    assert sample.meta["shapes"] and all("occluder" in s for s in sample.meta["shapes"])
    for shape in sample.meta["shapes"]:
        bar = shape["occluder"]
        assert 0.2 <= bar["cover"] <= 0.4
        x1, y1, x2, y2 = counting.extent(shape)
        # the side away from the bar still shows the shape's colour; the bar's side shows grey
        visible = {
            "left": (x2 - 0.2 * (x2 - x1), shape["cy"]),
            "right": (x1 + 0.2 * (x2 - x1), shape["cy"]),
            "top": (shape["cx"], y2 - 0.2 * (y2 - y1)),
            "bottom": (shape["cx"], y1 + 0.2 * (y2 - y1)),
        }[bar["side"]]
        hidden = {
            "left": (x1 + 0.1 * (x2 - x1), shape["cy"]),
            "right": (x2 - 0.1 * (x2 - x1), shape["cy"]),
            "top": (shape["cx"], y1 + 0.1 * (y2 - y1)),
            "bottom": (shape["cx"], y2 - 0.1 * (y2 - y1)),
        }[bar["side"]]
        frame = frames[shape["frame"]]
        if shape["type"] == "circle" or bar["side"] in ("left", "right"):  # points inside every shape type
            assert np.array_equal(frame[round(hidden[1]), round(hidden[0])], bar["color"])
        others = [o for o in sample.meta["shapes"] if o is not shape and o["frame"] == shape["frame"]]
        if not any(
            o["occluder"]["box"][0] <= visible[0] <= o["occluder"]["box"][2]
            and o["occluder"]["box"][1] <= visible[1] <= o["occluder"]["box"][3]
            for o in others
        ):
            assert np.array_equal(frame[round(visible[1]), round(visible[0])], shape["color"])
    assert counting.derive_answer(sample.meta) == sample.answer


def test_no_occlusion_draws_as_before():
    _, plain = run({}, seed=5)
    assert not any("occluder" in s for s in plain.meta["shapes"])
    assert plain.meta == run({"occluded_share": 0.0}, seed=5)[1].meta


def test_too_few_frames_for_the_frame_gap_is_a_stated_skip_not_a_crash():
    assert counting._frames_with_gap(np.random.default_rng(0), 17, 3, 8) == [0, 8, 16]  # just fits
    with pytest.raises(CannotGenerate, match=r"3 frames at least 8 apart need 17 frames, the video has 16"):
        counting._frames_with_gap(np.random.default_rng(0), 16, 3, 8)
    outcomes = []
    for seed in range(40):  # a shape type's total 7-9 needs 3 frames, 1-2 fit on fewer
        try:
            counting.generate(
                make_clip(n=16), "count", {"max_frames": 3, "min_frame_gap": 8}, np.random.default_rng(seed)
            )
            outcomes.append("made")
        except CannotGenerate:
            outcomes.append("skipped")
    assert set(outcomes) == {"made", "skipped"}


def test_each_total_is_as_likely_so_no_constant_count_beats_the_random_row():
    """Totals uniform over 1..max_frames * max_per_frame (what Table 1's random row assumes), each
    split into at most max_frames frames of at most max_per_frame instances."""
    rng = np.random.default_rng(0)
    for max_frames, max_per_frame in ((3, 3), (4, 4)):
        splits = [counting.split_count(rng, max_frames, max_per_frame) for _ in range(9000)]
        totals = np.bincount([sum(s) for s in splits], minlength=max_frames * max_per_frame + 1)[1:]
        assert totals.min() > 0.8 * 9000 / len(totals) and totals.max() < 1.2 * 9000 / len(totals)
        assert all(1 <= len(s) <= max_frames and all(1 <= v <= max_per_frame for v in s) for s in splits)
