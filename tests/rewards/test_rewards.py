import json
import math
import subprocess
import sys

import pytest

from videolake.rewards import (
    accuracy_reward,
    compute_score,
    format_reward,
    parse,
    scores,
)
from videolake.rewards.formats import glue_format, museg_format, think_answer_format


def s(task, prediction, truth, **extra):
    return compute_score(task, prediction, truth, extra or None)["score"]


# --- VideoSSR: grounding ---------------------------------------------------------------


@pytest.mark.parametrize(
    "prediction",
    [
        "14.5-26.2",
        "14.5 - 26.2 seconds",
        "from 14.5s to 26.2s",
        "The answer is 14.5-26.2.",
        "<answer>14.5-26.2</answer>",
        "between 14.5 and 26.2 seconds",
        "[14.5, 26.2]",
        "<think>maybe 1-2</think><answer>14.5-26.2</answer> trailing text",
        "14.5 – 26.2",
    ],
)
def test_grounding_accepts_real_model_phrasings(prediction):
    assert s("anomaly_grounding", prediction, "14.5-26.2") == 1.0


def test_grounding_iou_by_hand():
    assert s("anomaly_grounding", "10-20", "15-25") == pytest.approx(5 / 15)
    assert s("anomaly_grounding", "0-5", "5-10") == 0.0
    assert s("anomaly_grounding", "3-3", "3-3") == 0.0  # empty union: the authors' 0
    assert s("anomaly_grounding", "26.2-14.5", "14.5-26.2") == 0.0  # reversed: not an interval (authors: 0)
    assert s("anomaly_grounding", "3-3", "2-4") == 0.0
    assert s("anomaly_grounding", "no idea", "2-4") == 0.0


# --- VideoSSR: counting ----------------------------------------------------------------


def test_counting_smooth_and_strict_by_hand():
    # Figure 16's ground truth 3,2,3 against a prediction 3,3,1
    assert s("object_counting", "3,3,1", "3,2,3") == pytest.approx((1 + 0.5 + 1 / 3) / 3, abs=1e-6)
    assert s("object_counting", "3,3,1", "3,2,3", reward_mode="strict") == pytest.approx(1 / 3)
    assert s("object_counting", "3, 2, 3", "3,2,3", reward_mode="strict") == 1.0
    assert s("object_counting", "I see 3 circles, 2 squares and 3 triangles", "3,2,3") == 1.0
    assert s("object_counting", "3,2", "3,2,3") == 0.0  # wrong number of numbers
    assert s("object_counting", "3,2,3,4", "3,2,3") == 0.0


def test_counting_figure_17_by_hand():
    # ground truth 1,3,1; predicting 2,3,0 -> shapes score max(0, 1-1/1)=0, 1, max(0, 1-1/1)=0
    assert s("object_counting", "2,3,0", "1,3,1") == pytest.approx(1 / 3)
    assert s("object_counting", "1,4,1", "1,3,1") == pytest.approx((1 + 2 / 3 + 1) / 3)
    assert s("object_counting", "1,3,1", "1,3,1", reward_mode="strict") == 1.0


def test_jigsaw_figure_18_ground_truth():
    # Figure 18: positions 1..6 show original clips 5,3,4,1,2,6 -> original 1 at position 4, 2 at 5, ... = 452316
    from videolake.generators.jigsaw import derive_answer

    assert derive_answer({"segments": 6, "presented_order": [5, 3, 4, 1, 2, 6]}) == "452316"
    assert s("temporal_jigsaw", "452316", "452316", reward_mode="strict") == 1.0
    assert s("temporal_jigsaw", "542316", "452316") == pytest.approx(1 - 2 / 18)


def test_counting_ground_truth_zero():
    assert s("object_counting", "0,1,1", "0,1,1") == pytest.approx(1.0)
    assert s("object_counting", "1,1,1", "0,1,1") == pytest.approx(2 / 3)


# --- VideoSSR: jigsaw ------------------------------------------------------------------


def test_jigsaw_figure_11_and_displacement():
    assert s("temporal_jigsaw", "341562", "341562") == 1.0
    assert s("temporal_jigsaw", "3, 4, 1, 5, 6, 2", "341562") == 1.0
    assert s("temporal_jigsaw", "3 4 1 5 6 2", "341562", reward_mode="strict") == 1.0
    assert s("temporal_jigsaw", "654321", "123456") == 0.0  # reversed: E = E_max = 18
    assert s("temporal_jigsaw", "213456", "123456") == pytest.approx(1 - 2 / 18)
    assert s("temporal_jigsaw", "213456", "123456", reward_mode="strict") == 0.0
    assert s("temporal_jigsaw", "113456", "123456") == 0.0  # duplicate digit: not a permutation
    assert s("temporal_jigsaw", "1234567", "123456") == 0.0


def test_jigsaw_ten_or_more_segments():
    truth = "2,3,4,5,6,7,8,9,10,1"
    assert s("temporal_jigsaw", "2, 3, 4, 5, 6, 7, 8, 9, 10, 1", truth) == 1.0
    assert s("temporal_jigsaw", "2 3 4 5 6 7 8 9 10 1", truth, reward_mode="strict") == 1.0
    assert s("temporal_jigsaw", "1,2,3,4,5,6,7,8,9,10", truth) == pytest.approx(1 - 18 / 50)


# --- VideoChat-R1 ----------------------------------------------------------------------


def test_think_answer_format():
    assert think_answer_format("<think>x</think><answer>y</answer>") == 1.0
    assert think_answer_format("  <think>x</think>\n<answer>y</answer>\n") == 1.0
    assert think_answer_format("<answer>y</answer>") == 0.0
    assert think_answer_format("<think>x</think><answer>y</answer> extra") == 0.0
    assert think_answer_format("<think>x</think><think>x</think><answer>y</answer>") == 0.0
    assert glue_format("<think>a</think><answer>B</answer><glue>[(1, 2)]</glue>") == 1.0
    assert glue_format("<think>a</think><answer>B</answer><glue>[(1, 2), (3.5, 4),]</glue>") == 1.0
    assert glue_format("<think>a</think><answer>B</answer><glue>around the middle</glue>") == 0.0
    assert glue_format("<think>a</think><answer>B</answer><glue>[(2, 1)]</glue>") == 0.0  # reversed
    assert glue_format("<think>a</think><answer>B</answer>") == 0.0


def test_videochat_rewards_by_hand():
    ok = "<think>the man jumps</think><answer>2.0 to 6.0</answer>"
    assert compute_score("temporal_grounding", ok, "4.0-8.0") == {"score": 1 + 2 / 6, "format": 1.0, "accuracy": 2 / 6}
    assert s("multiple_choice", "<think>..</think><answer>(B)</answer>", "B") == 2.0
    assert s("multiple_choice", "The answer is C", "B") == 0.0
    boxes = json.dumps([[0, 0, 10, 10], [0, 0, 10, 10]])
    assert s("object_tracking", "<think>t</think><answer>[[0,0,10,10],[5,0,15,10]]</answer>", boxes) == pytest.approx(
        1 + (1 + 1 / 3) / 2
    )
    # the authors give 0 unless there is exactly one box per asked frame: extra boxes are not free
    three = "<think>t</think><answer>[[0,0,10,10],[0,0,10,10],[0,0,10,10]]</answer>"
    assert compute_score("object_tracking", three, boxes) == {"score": 0.0, "format": 0.0, "accuracy": 0.0}
    assert compute_score("object_tracking", "<think>t</think><answer>[[0,0,10,10]]</answer>", boxes)["score"] == 0.0
    assert (
        s("object_tracking", "<think>t</think><answer>0,0,10,10,0,0,10,10</answer>", boxes) == 0.0
    )  # not a list of boxes
    truth = json.dumps({"answer": "A", "segments": [[0, 2], [1, 4], [6, 8]]})  # merges to [0,4] and [6,8]
    pred = "<think>x</think><answer>A</answer><glue>[(0, 4), (6, 7)]</glue>"
    assert compute_score("grounding_qa", pred, truth) == {
        "score": 1 + 5 / 6 + 1,
        "format": 1.0,
        "iou": 5 / 6,
        "accuracy": 1.0,
    }


# --- MUSEG -----------------------------------------------------------------------------


def test_museg_format_phases():
    good = "<think>from 1.0 to 3.0, then 5.0 to 7.0</think><answer>1.0-3.0 5.0-7.0</answer>"
    assert museg_format(good, timestamp_term=True) == 1.0
    uncited = "<think>two events</think><answer>1.0-3.0 5.0-7.0</answer>"
    assert museg_format(uncited, timestamp_term=True) == 0.6
    assert museg_format(uncited, timestamp_term=False) == 1.0
    assert museg_format("<think>x</think><answer>1.0-3.0 soon</answer>", timestamp_term=False) == 0.2
    assert museg_format("1.0-3.0", timestamp_term=False) == 0.0


def test_museg_matching_by_hand():
    truth = [(0.0, 10.0), (20.0, 30.0)]
    assert scores.global_matching([(0, 10), (20, 30)], truth) == pytest.approx(
        1.0, abs=1e-5
    )  # the authors' 1e-6 smoothing
    assert scores.global_matching([(0, 5)], truth) == pytest.approx(2 * 1 * 0.25 / 1.25, abs=1e-5)  # P=1, R=0.25
    assert scores.global_matching([(0, 8), (5, 10)], [(0, 10)]) == pytest.approx(
        1.0, abs=1e-5
    )  # merged before matching
    # overlapping ground truth is merged too (the authors' F1 passes 1 here)
    assert scores.global_matching([(0, 10)], [(0, 10), (0, 10)]) == pytest.approx(1.0, abs=1e-5)  # theirs: 4/3
    assert scores.local_matching([(0, 10), (20, 30)], truth) == 1.0
    # one prediction: it pairs with the first truth; a segment at 1e9 pairs with the second (score ~ 0)
    assert scores.local_matching([(0, 10)], truth) == pytest.approx(0.5, abs=1e-7)
    # pairs follow the order written, not sorted: the swapped answer pairs (20-30, 0-10) and (0-10, 20-30)
    assert scores.local_matching([(20, 30), (0, 10)], truth) == pytest.approx((1 + 0 - 10 / 30) / 2)
    assert scores.generalized_iou_score((0, 2), (4, 6)) == pytest.approx((1 + 0 - 2 / 6) / 2)
    full = s(
        "multi_segment_grounding",
        "<think>0.0 10.0 20.0 30.0</think><answer>0-10 20-30</answer>",
        "0-10 20-30",
        museg_stage=1,
    )
    assert full == pytest.approx(3.0, abs=1e-5)
    # the timestamp term looks for str(float(t)) in the reasoning, as the authors' does: "0" is not "0.0"
    assert museg_format("<think>0 10 20 30</think><answer>0-10 20-30</answer>", timestamp_term=True) == 0.6


# --- TRL -------------------------------------------------------------------------------


def test_trl_functions_take_strings_and_conversations():
    completions = [
        "14.5-26.2",
        [{"role": "assistant", "content": "3,1,4"}],
        [{"role": "assistant", "content": [{"type": "text", "text": "341562"}]}],
    ]
    got = accuracy_reward(
        None,
        completions,
        task=["anomaly_grounding", "object_counting", "temporal_jigsaw"],
        answer=["14.5-26.2", "3,1,4", "341562"],
    )
    assert got == [1.0, 1.0, 1.0]
    assert format_reward(None, ["<think>a</think><answer>b</answer>", "b"]) == [1.0, 0.0]


def test_unknown_task_is_a_clear_error():
    with pytest.raises(ValueError, match="no reward for data_source"):
        compute_score("shuffled", "1", "1")


def test_parse_rejects_absurd_numbers_without_raising():
    assert parse.parse_interval("9" * 400 + "-1") is None or math.isfinite(sum(parse.parse_interval("9" * 400 + "-1")))
    assert s("object_counting", "9" * 5000 + ",1,1", "1,1,1") < 1.0


def test_synrl_rewards_by_hand():
    assert compute_score("synrl", "<think>...</think><answer>C. Accelerating</answer>", "C")["score"] == 1.0
    assert compute_score("synrl", "The answer is (B)", "C")["score"] == 0.0
    assert compute_score("synrl", "<think>it bounces 4 times</think><answer>4</answer>", "4") == {
        "score": 1.0,
        "accuracy": 1.0,
        "format": 1.0,
    }
    assert compute_score("synrl", "I counted 3 bounces, so: 4.0", "4")["score"] == 1.0  # the last number counts
    assert compute_score("synrl", "<answer>5</answer>", "4")["score"] == 0.0
    assert compute_score("synrl", "no idea", "4")["score"] == 0.0


def test_numbers_in_the_reasoning_never_reach_the_answer():
    assert s("object_counting", "<think>first I thought 5,5,5 or 9,9,9</think>3,1,4.", "3,1,4") == 1.0
    assert s("object_counting", "<think>3,1,4</think><answer>2,2,2</answer>", "3,1,4") < 1.0
    assert s("anomaly_grounding", "<think>maybe 1.0-2.0</think>", "1.0-2.0") == 0.0  # nothing after the reasoning
    assert s("temporal_jigsaw", "<think>not 123456</think> 341562", "341562") == 1.0


def test_the_rewards_import_without_numpy():
    """verl imports ``videolake.rewards`` in its reward workers: the records and the functions need
    nothing beyond the standard library."""
    code = "import sys, videolake.rewards, videolake.rewards.hostile; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
