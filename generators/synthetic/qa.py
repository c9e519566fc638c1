"""Questions, options and reasoning traces built from a scenario's metadata.

A question is stored in ``meta["query"]``: its kind, its text, and for multiple choice the option
texts. The true answer is never stored as such: ``derive_answer`` recomputes it from the
simulated world with the scenario's ``solve`` and finds it among the options.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from videolake.generators.base import CannotGenerate
from videolake.generators.synthetic.render import clock

LETTERS = "ABCDEFGH"
TIMESTAMP = re.compile(r"\b\d{2}:\d{2}\.\d\b")


def choose(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def pick_options(truth: str, candidates: Iterable[str], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` distinct options holding ``truth`` once, in random order.

    Candidates come best first (plausible mistakes); duplicates and the truth itself are skipped.
    Fewer than ``count`` distinct wrong candidates is a generator bug, so it raises.
    """
    wrong: list[str] = []
    for candidate in candidates:
        if candidate != truth and candidate not in wrong:
            wrong.append(candidate)
        if len(wrong) == count - 1:
            break
    if len(wrong) < count - 1:
        raise CannotGenerate(f"only {len(wrong)} distinct distractors for {truth!r}")
    options = wrong + [truth]
    return [options[i] for i in rng.permutation(len(options))]


def multiple_choice(kind: str, prompt: str, truth: str, candidates: Iterable[str], rng: np.random.Generator, count: int = 4, **details) -> dict:
    options = pick_options(truth, candidates, count, rng)
    lines = [prompt] + [f"{LETTERS[i]}. {option}" for i, option in enumerate(options)]
    lines.append("Answer with the option's letter.")
    return {"kind": kind, "text": "\n".join(lines), "options": options, **details}


def open_number(kind: str, prompt: str, **details) -> dict:
    return {"kind": kind, "text": f"{prompt}\nAnswer with a single number.", "options": None, **details}


def answer_for(query: dict, truth: str) -> str:
    """The stored answer: the option letter, or the value itself for open questions."""
    if query["options"] is None:
        return truth
    matches = [i for i, option in enumerate(query["options"]) if option == truth]
    if len(matches) != 1:
        raise ValueError(f"the true answer {truth!r} appears {len(matches)} times among the options")
    return LETTERS[matches[0]]


def answer_text(query: dict, answer: str) -> str:
    if query["options"] is None:
        return answer
    return f"{answer}. {query['options'][LETTERS.index(answer)]}"


@dataclass(frozen=True)
class Step:
    """One line of a reasoning trace, anchored to an event's time (None: a conclusion)."""

    ms: int | None
    text: str


def write_trace(opening: str, steps: list[Step], conclusion: str, query: dict, answer: str) -> str:
    """Timestamped steps in time order, then the conclusion, then the answer."""
    lines = [opening]
    for step in sorted(steps, key=lambda s: -1 if s.ms is None else s.ms):
        lines.append(f"At {clock(step.ms)}, {step.text}" if step.ms is not None else step.text)
    lines.append(conclusion)
    lines.append(f"Answer: {answer_text(query, answer)}")
    return "\n".join(lines)


def trace_timestamps(trace: str) -> list[str]:
    """Every mm:ss.s quoted in a trace, in the order written (zero-padded, so they sort as times)."""
    return TIMESTAMP.findall(trace)


def permutations_near(order: list[str], rng: np.random.Generator) -> Iterable[list[str]]:
    """Other orders of ``order``, neighbour swaps first (the likeliest confusions), then the rest."""
    for i in range(len(order) - 1):
        swapped = list(order)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        yield swapped
    others = list(itertools.permutations(order))
    for i in rng.permutation(len(others)):
        yield list(others[i])


def nearby_numbers(value: int, lowest: int = 0) -> Iterable[str]:
    """Off-by-one-or-two miscounts first, then further ones."""
    offsets = [1, -1, 2, -2, 3, -3, 4, 5, 6]
    for offset in offsets:
        if value + offset >= lowest:
            yield str(value + offset)
