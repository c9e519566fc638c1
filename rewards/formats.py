"""Format rewards: does the output have the structure the task asks for? Linear-time checks."""

from __future__ import annotations

import re

from videolake.rewards.parse import SEGMENT

SEGMENT_TOKEN = re.compile(r"\d{1,15}(?:\.\d{1,15})?-\d{1,15}(?:\.\d{1,15})?")
TIMESTAMP = re.compile(r"(?<![\d.])\d{1,15}(?:\.\d{1,15})?(?![\d])")


def _blocks(text: str, names: tuple[str, ...]) -> list[str] | None:
    """The contents of the blocks ``<name>...</name>`` in this exact order and nothing else around
    them but whitespace; None when the text has another shape or any tag appears twice."""
    rest = text.strip()
    contents = []
    for name in names:
        opening, closing = f"<{name}>", f"</{name}>"
        if text.count(opening) != 1 or text.count(closing) != 1 or not rest.startswith(opening):
            return None
        end = rest.find(closing)
        if end == -1:
            return None
        contents.append(rest[len(opening) : end])
        rest = rest[end + len(closing) :].lstrip()
    return contents if not rest else None


def think_answer_format(text: str, glue: bool = False) -> float:
    """VideoChat-R1: 1.0 for ``<think>..</think><answer>..</answer>`` (then ``<glue>..</glue>`` for
    grounding QA), else 0.0. (The paper's Eq. 3 prints the two cases swapped; we follow its text.)"""
    names = ("think", "answer", "glue") if glue else ("think", "answer")
    return 1.0 if isinstance(text, str) and _blocks(text, names) is not None else 0.0


def museg_format(text: str, timestamp_term: bool) -> float:
    """MUSEG: 1.0 when one think and one answer block hold segments that all parse; 0.2 when a
    segment does not parse; with the stage-1 timestamp term, 0.6 when an answer timestamp does
    not appear between 1 and 10 times in the think text; 0.0 without the two blocks."""
    blocks = _blocks(text, ("think", "answer")) if isinstance(text, str) else None
    if blocks is None:
        return 0.0
    think, answer = blocks
    tokens = answer.split()
    if not tokens or not all(SEGMENT_TOKEN.fullmatch(t) for t in tokens):
        return 0.2
    if timestamp_term:
        cited = {}
        for stamp in TIMESTAMP.findall(think):
            cited[stamp] = cited.get(stamp, 0) + 1
        for match in SEGMENT.finditer(answer):
            for stamp in match.group(1), match.group(2):
                if not 1 <= cited.get(stamp, 0) <= 10:
                    return 0.6
    return 1.0
