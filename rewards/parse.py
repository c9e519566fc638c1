"""Answer extraction that real model output survives. Anything not accepted parses to None.

Accepted (the README lists these too):
- The answer region: the content of the last complete ``<answer>...</answer>`` block if there is
  one, else the whole text. Tag names are matched case-insensitively.
- Numbers: plain decimals (``14``, ``14.5``, ``.5``), at most 15 digits; no signs or exponents.
- Interval: ``a-b``, ``a - b``, ``a to b``, ``a and b``, ``a until b``, ``a, b``, each number
  optionally followed by ``s``/``sec``/``secs``/``second(s)``, optionally inside brackets or after
  "from"/"between"; the last such pair in the region wins; a reversed pair is swapped.
- Counts: the last run of exactly k integers separated by commas, semicolons or spaces (e.g.
  ``3,1,4``, ``3, 1, 4``); else, all integers of the region if there are exactly k
  (``3 circles, 1 square and 4 triangles``).
- Order (jigsaw): the last run of exactly n digits (n <= 9, e.g. ``341562``); else the last run of
  exactly n integers separated by commas or spaces (``3, 1, 4``, ``3 10 1 ...``).
- Choice: ``(B)``, ``B.``, ``B)``, ``answer is B``, or a region that is a single letter.
- Segments: every ``a-b`` pair in the region, in order; glue segments also take ``(a, b)``.
- Boxes: the region's numbers taken four at a time (x1, y1, x2, y2).
- Number (SynRL open questions): the last number in the region.
"""

from __future__ import annotations

import math
import re

MAX_DIGITS = 15
NUMBER = r"(?<![\d.])(\d{1,15}(?:\.\d{1,15})?|\.\d{1,15})(?![\d])"
UNIT = r"\s*(?:seconds?|secs?|s)?"
INTERVAL = re.compile(NUMBER + UNIT + r"\s*(?:-|–|—|~|to|and|until|till|,)\s*" + NUMBER + UNIT, re.IGNORECASE)
SEGMENT = re.compile(NUMBER + r"\s*(?:-|–|—|to)\s*" + NUMBER)
INTEGER = re.compile(r"(?<![\d.])\d{1,15}(?![\d.])")
ANY_NUMBER = re.compile(NUMBER)
CHOICE = re.compile(r"(?:answer\s*(?:is|:)\s*\(?([A-Z])\b)|(?:\(([A-Z])\))|(?:^\s*([A-Z])\s*[.):]?\s*$)|(?:^\s*([A-Z])[.)])", re.MULTILINE)


def last_block(text: str, tag: str) -> str | None:
    """The content of the last complete ``<tag>...</tag>`` block (tags case-insensitive), else None."""
    lowered = text.lower()
    end = lowered.rfind(f"</{tag}>")
    start = lowered.rfind(f"<{tag}>", 0, end) if end != -1 else -1
    return text[start + len(tag) + 2 : end] if start != -1 else None


def answer_region(text: str) -> str:
    """The last complete <answer>...</answer> block's content, else the whole text."""
    if not isinstance(text, str):
        return ""
    block = last_block(text, "answer")
    return text if block is None else block


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    match = None
    for match in pattern.finditer(text):
        pass
    return match


def _number(token: str) -> float | None:
    value = float(token)
    return value if math.isfinite(value) else None


def parse_interval(text: str) -> tuple[float, float] | None:
    match = _last(INTERVAL, answer_region(text))
    if match is None:
        return None
    a, b = _number(match.group(1)), _number(match.group(2))
    if a is None or b is None:
        return None
    return (a, b) if a <= b else (b, a)


def parse_segments(text: str, pattern: re.Pattern = SEGMENT) -> list[tuple[float, float]] | None:
    """All ``a-b`` pairs of the region (``pattern=INTERVAL`` also takes ``(a, b)``); None when there is none."""
    segments = []
    for match in pattern.finditer(answer_region(text)):
        a, b = _number(match.group(1)), _number(match.group(2))
        if a is None or b is None:
            return None
        segments.append((a, b) if a <= b else (b, a))
    return segments or None


def _integer_runs(region: str, k: int, separators: str) -> list[int] | None:
    """The last maximal run of separated integers that has exactly k of them."""
    pattern = re.compile(r"(?<![\d.])\d{1,15}(?:[ \t]*[" + separators + r"][ \t]*\d{1,15})*(?![\d.])")
    found = None
    for match in pattern.finditer(region):
        values = re.findall(r"\d+", match.group(0))
        if len(values) == k:
            found = values
    return [int(v) for v in found] if found else None


def parse_counts(text: str, k: int) -> list[int] | None:
    region = answer_region(text)
    values = _integer_runs(region, k, ",;")
    if values is not None:
        return values
    numbers = INTEGER.findall(region)
    return [int(v) for v in numbers] if len(numbers) == k else None


def parse_order(text: str, n: int) -> list[int] | None:
    """The predicted positions as integers (not checked to be a permutation)."""
    region = answer_region(text)
    if n <= 9:
        match = _last(re.compile(r"(?<!\d)\d{" + str(n) + r"}(?!\d)"), region)
        if match is not None:
            return [int(d) for d in match.group(0)]
    return _integer_runs(region, n, ", ")


def parse_choice(text: str) -> str | None:
    region = answer_region(text).strip()
    match = CHOICE.search(region)
    if match is None:
        return None
    return next(g for g in match.groups() if g)


def parse_number(text: str) -> float | None:
    match = _last(ANY_NUMBER, answer_region(text))
    return _number(match.group(1)) if match else None


def parse_boxes(text: str) -> list[tuple[float, float, float, float]] | None:
    values = [_number(v) for v in ANY_NUMBER.findall(answer_region(text))]
    if not values or len(values) % 4 or any(v is None for v in values):
        return None
    return [tuple(values[i : i + 4]) for i in range(0, len(values), 4)]
