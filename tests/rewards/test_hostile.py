"""Every reward stays fast on a 1 MB completion of any shape (a quadratic parser takes seconds).

Timed as the best of three CPU-time measurements, so a loaded machine does not fail it; the limit
(50 ms) is what a trainer can afford per completion, about 3x our worst case on the 2-core machine.
"""

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from videolake.rewards import REWARD_MODES, REWARDS, compute_score
from videolake.rewards.hostile import MEGABYTE, hostile_completions

from .test_properties import TRUTHS

LIMIT_SECONDS = 0.05
EXTRA_INFOS = [{"reward_mode": mode, "museg_stage": stage} for mode in REWARD_MODES for stage in (1, 2)]


def cpu_seconds(task: str, text: str, extra: dict) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        compute_score(task, text, TRUTHS[task], extra)
        best = min(best, time.process_time() - start)
        if best < LIMIT_SECONDS:
            break
    return best


def test_every_reward_is_fast_on_every_hostile_shape():
    slow = []
    for name, text in hostile_completions().items():
        assert len(text) >= MEGABYTE - 64, name
        for task in REWARDS:
            for extra in EXTRA_INFOS:
                seconds = cpu_seconds(task, text, extra)
                if seconds >= LIMIT_SECONDS:
                    slow.append((name, task, extra, round(seconds, 3)))
    assert not slow


PIECES = st.sampled_from(
    [
        "1",
        "9",
        ".",
        "-",
        " ",
        "\t",
        "\n",
        ",",
        ";",
        "(",
        ")",
        "[",
        "]",
        "s",
        "to",
        "and",
        "A",
        "B",
        "option",
        "answer is",
        "<think>",
        "</think>",
        "<answer>",
        "</answer>",
        "<glue>",
        "</glue>",
        "1.0-2.0",
        "é",
    ]
)


@settings(max_examples=25, deadline=None)
@given(
    unit=st.lists(PIECES, min_size=1, max_size=6).map("".join),
    head=st.lists(PIECES, max_size=8).map("".join),
    tail=st.lists(PIECES, max_size=8).map("".join),
)
def test_generated_hostile_megabytes_are_fast(unit, head, tail):
    text = head + unit * (MEGABYTE // len(unit)) + tail
    for task in REWARDS:
        for extra in EXTRA_INFOS[::3]:  # smooth with stage 1, strict with stage 2
            seconds = cpu_seconds(task, text, extra)
            assert seconds < LIMIT_SECONDS, (task, extra, unit, head, tail, seconds)
