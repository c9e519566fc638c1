"""Questions, options and reasoning traces built from a scenario's metadata.

A question is stored in ``meta["query"]``: its kind, its text, and for multiple choice the option
texts. The true answer is never stored as such: ``derive_answer`` recomputes it from the
simulated world with the scenario's ``solve`` and finds it among the options.

Every question must need the video, so nothing here may let the option texts or the answer's
prior point at the truth (``docs/blind_baselines.md`` says how each template guarantees it):

- ``star_options``: an anchor and its neighbours (one plausible mistake away), with the truth
  drawn uniformly among those roles - never the truth and its own near misses, which puts the
  truth at the centre of its options;
- ``number_window``: consecutive numbers with the truth at a uniform position;
- ``balanced``: the answer drawn uniformly among the answers a scenario reaches, before the world
  that yields it;
- ``retry`` with the answer as an argument: a categorical answer drawn once, then worlds drawn
  until one fits, so an answer whose worlds are harder to draw is not rarer.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from videolake.generators.base import CannotGenerate
from videolake.generators.synthetic.render import clock

LETTERS = "ABCDEFGH"
TIMESTAMP = re.compile(r"\b\d{2}:\d{2}\.\d\b")
TRIES = 200
PILOTS = 24  # worlds drawn per sample to find the answers a scenario reaches


class Unlucky(Exception):
    """A random draw did not meet a scenario's constraints; draw again."""


def retry(simulate):
    """Draw until the constraints hold; the retries consume the same rng, so it stays deterministic.
    Extra arguments (an answer drawn beforehand) stay fixed across the retries."""

    def wrapper(settings, rng, *fixed):
        for _ in range(TRIES):
            try:
                return simulate(settings, rng, *fixed)
            except Unlucky:
                continue
        raise CannotGenerate(f"{simulate.__name__}: no valid scene in {TRIES} draws; loosen the parameters")

    wrapper.__name__ = simulate.__name__
    return wrapper


def balanced(draw, key, rng: np.random.Generator, pilots: int = PILOTS, first=None):
    """A draw whose answer is uniform over the answers the scenario reaches.

    Worlds drawn at random make some answers far commoner than others (a box is bounced off 4
    times far more often than once), and a model that always says the commonest answer is
    rewarded without watching. So the answer is drawn first: uniformly among the answers that
    ``pilots`` draws reach (for whole numbers, every number between the least and the greatest that
    two of them reach: a tail answer one pilot happened to reach would be drawn as often as the
    commonest, and answers would pile up inside the range),
    and draws go on until one yields it - each kept world is still an unbiased draw of its answer.
    ``key(draw)`` is (question kind, answer); the first draw fixes the kind, so kinds keep their
    proportions and answers are balanced within a kind. ``first``: a draw already made.
    Returns the draw and the answers it was balanced over (the vocabulary for its options).
    """
    draws = ([] if first is None else [first]) + [draw() for _ in range(pilots)]
    keys = [key(d) for d in draws]
    kind = keys[0][0]
    answers = Counter(answer for k, answer in keys if k == kind)
    reached = sorted(answers, key=_answer_order)
    if all(is_whole(a) for a in reached):  # every number between the least and greatest that recur
        recurring = [int(a) for a in reached if answers[a] > 1] or [int(a) for a in reached]
        reached = [str(n) for n in range(min(recurring), max(recurring) + 1)]
    target = choose(rng, reached)
    if (kind, target) in keys:
        return draws[keys.index((kind, target))], reached
    for _ in range(TRIES):
        candidate = draw()
        if key(candidate) == (kind, target):
            return candidate, reached
    return draws[0], reached  # a number inside the reached range that no world of TRIES yields: rare, keep a plain draw


def uniform_options(truth: str, vocabulary: Iterable[str], count: int, rng: np.random.Generator) -> list[str]:
    """The truth and ``count - 1`` others drawn uniformly from ``vocabulary``: exchangeable
    whenever the truth is itself uniform over it (``balanced``)."""
    others = _distinct(vocabulary, excluded={truth})
    if len(others) < count - 1:
        raise Unlucky
    members = [truth] + [others[i] for i in rng.permutation(len(others))[: count - 1]]
    return [members[i] for i in rng.permutation(count)]


def _answer_order(value):
    return (0, float(value), "") if _is_number(value) else (1, 0.0, str(value))


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def is_whole(value) -> bool:
    return isinstance(value, str) and value.lstrip("-").isdigit()


def choose(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def multiple_choice(kind: str, prompt: str, options: list[str], **details) -> dict:
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


def star_options(
    truth: str, neighbours: Callable[[str], Iterable[str]], count: int, rng: np.random.Generator
) -> list[str]:
    """``count`` options in which the truth is exchangeable: an anchor and ``count - 1`` of its
    neighbours, the truth drawn uniformly among those ``count`` roles (the anchor itself with
    probability 1 / count, else one of the neighbours).

    ``neighbours(x)`` lists the answers one plausible mistake away from ``x``. When that relation
    is symmetric and every answer has as many neighbours, a set of options is exactly as likely
    whichever of its members is the truth, so no function of the option texts beats chance (the
    truth's prior aside, which ``balanced`` and ``retry_with_target`` flatten). Too few
    neighbours is ``Unlucky``: the caller draws another world.
    """
    around_truth = _distinct(neighbours(truth), excluded={truth})
    if len(around_truth) < count - 1:
        raise Unlucky
    if int(rng.integers(count)) == 0:
        members = [truth] + [around_truth[i] for i in rng.permutation(len(around_truth))[: count - 1]]
    else:
        anchor = around_truth[int(rng.integers(len(around_truth)))]
        around_anchor = _distinct(neighbours(anchor), excluded={truth, anchor})
        if len(around_anchor) < count - 2:
            raise Unlucky
        members = [anchor, truth] + [around_anchor[i] for i in rng.permutation(len(around_anchor))[: count - 2]]
    return [members[i] for i in rng.permutation(count)]


def _distinct(values: Iterable[str], excluded: set[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value not in excluded and value not in seen:
            seen.append(value)
    return seen


def transpositions(items: list[str]) -> list[list[str]]:
    """``items`` with two entries swapped, every pair once: the same number of neighbours for every
    order, and swapping back returns the original (what ``star_options`` needs)."""
    swapped = []
    for i, j in itertools.combinations(range(len(items)), 2):
        order = list(items)
        order[i], order[j] = order[j], order[i]
        swapped.append(order)
    return swapped


def order_swaps(separator: str) -> Callable[[str], list[str]]:
    """Neighbours of an order written as its items joined by ``separator``: two items swapped."""
    return lambda text: [separator.join(order) for order in transpositions(text.split(separator))]


def number_window(truth: int, count: int, rng: np.random.Generator) -> list[str]:
    """``count`` consecutive numbers holding ``truth`` at a uniform position (for answers with no
    bound near them: a bounded count takes ``uniform_options`` over its balanced range)."""
    start = truth - int(rng.integers(count))
    return [str(start + i) for i in range(count)]
