"""Answer extraction that real model output survives, in time linear in the output's length.

Nothing here runs a regular expression that can backtrack: the answer region is cut to a bounded
tail, split into tokens by one linear pattern, and every format is read from the tokens.
Anything not accepted parses to None. The README lists the accepted forms; in short:

- The answer region: the last complete ``<answer>...</answer>`` block (tags case-insensitive); else
  the text after the last ``</think>``; else the whole text. Numbers in the reasoning never leak in.
- Only the region's last ``MAX_REGION`` characters are read (answers are short; a trainer feeds
  this untrusted output thousands of times per step). Lists that must be read whole (segments,
  boxes, glue) are unparseable when the region is longer.
- Numbers: plain decimals (``14``, ``14.5``, ``.5``), at most 15 digits a side; a trailing period
  is punctuation (``3,1,4.``). A ``-`` glued to a number that follows no number is a sign: the
  number is negative, and a negative time or count is never read as its absolute value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REGION = 4096  # characters of the answer region that are read
MAX_SEGMENTS = 16  # MUSEG: longer segment lists are unparseable (keeps the timestamp term bounded)
NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,15})?|\.\d{1,15}")
TOKEN = re.compile(r"[0-9.]+|[A-Za-z]+|\S")
UNITS = {"s", "sec", "secs", "second", "seconds"}
INTERVAL_SEPARATORS = {"-", "–", "—", "~", "to", "and", "until", "till", ","}


@dataclass(frozen=True)
class Token:
    text: str  # words are lower-cased; a single upper-case letter keeps its case (choices)
    start: int
    end: int
    value: float | None = None  # set for numbers (negative when signed)
    integer: bool = False

    @property
    def is_number(self) -> bool:
        return self.value is not None


def last_block(text: str, tag: str) -> str | None:
    """The content of the last complete ``<tag>...</tag>`` block (tags case-insensitive), else None."""
    lowered = text.lower()
    end = lowered.rfind(f"</{tag}>")
    start = lowered.rfind(f"<{tag}>", 0, end) if end != -1 else -1
    return text[start + len(tag) + 2 : end] if start != -1 else None


def answer_region(text: str) -> str:
    """The last <answer> block's content; else what follows the last </think>; else the whole text."""
    if not isinstance(text, str):
        return ""
    block = last_block(text, "answer")
    if block is not None:
        return block
    cut = text.lower().rfind("</think>")
    return text if cut == -1 else text[cut + len("</think>") :]


def _tail(region: str) -> str:
    """The last MAX_REGION characters, starting after a whitespace so no token is cut in half."""
    if len(region) <= MAX_REGION:
        return region
    tail = region[-MAX_REGION:]
    space = re.search(r"\s", tail)
    return tail[space.end() :] if space else ""


def _number_tokens(run: str, start: int) -> list[Token]:
    """A run of digits and dots: one number (a trailing period split off), or an unreadable run."""
    body = run.rstrip(".")
    tokens = []
    if body:
        if NUMBER.fullmatch(body):
            tokens.append(Token(body, start, start + len(body), float(body), "." not in body))
        else:
            tokens.append(Token(body, start, start + len(body)))
    tokens.extend(Token(".", start + i, start + i + 1) for i in range(len(body), len(run)))
    return tokens


def tokenize(text: str) -> list[Token]:
    """Numbers (with their sign), words, and single symbols of the tail of ``text``."""
    tokens: list[Token] = []
    for match in TOKEN.finditer(_tail(text)):
        word, start = match.group(0), match.start()
        if word[0].isdigit() or word[0] == ".":
            for token in _number_tokens(word, start):
                tokens.append(_signed(tokens, token))
        elif len(word) == 1 and word.isupper():
            tokens.append(Token(word, start, match.end()))
        else:
            tokens.append(Token(word.lower(), start, match.end()))
    return tokens


def _signed(tokens: list[Token], number: Token) -> Token:
    """Fold a ``-`` glued to the number into its value unless the ``-`` joins two values."""
    if not number.is_number or not tokens or tokens[-1].text != "-" or tokens[-1].end != number.start:
        return number
    before = tokens[-2] if len(tokens) >= 2 else None
    if before is not None and (before.is_number or before.text in UNITS):
        return number
    tokens.pop()
    return Token("-" + number.text, number.start - 1, number.end, -number.value, number.integer)


def _skip_unit(tokens: list[Token], i: int) -> int:
    return i + 1 if i < len(tokens) and tokens[i].text in UNITS else i


def parse_interval(text: str) -> tuple[float, float] | None:
    """The last ``a-b`` / ``a to b`` / ``(a, b)`` / ``from a s to b s`` pair of the region.
    A reversed or negative pair is not an interval (the authors score both 0)."""
    tokens = tokenize(answer_region(text))
    found = None
    for i, first in enumerate(tokens):
        if not first.is_number:
            continue
        j = _skip_unit(tokens, i + 1)
        if j + 1 < len(tokens) and tokens[j].text in INTERVAL_SEPARATORS and tokens[j + 1].is_number:
            found = (first.value, tokens[j + 1].value)
    if found is None or found[0] < 0 or found[1] < found[0]:
        return None
    return found


def _integer_runs(tokens: list[Token], separators: set[str]) -> list[list[int]]:
    """Maximal runs of non-negative integers, each joined to the next by one separator or by whitespace."""
    runs: list[list[int]] = []
    current: list[int] = []
    after_separator = False
    for token in tokens:
        if token.is_number and token.integer and token.value >= 0:
            current.append(int(token.value))
            after_separator = False
        elif token.text in separators and current and not after_separator:
            after_separator = True
        else:
            if current:
                runs.append(current)
            current, after_separator = [], False
    if current:
        runs.append(current)
    return runs


def parse_counts(text: str, k: int) -> list[int] | None:
    """The last run of exactly k integers separated by commas or semicolons (``3,1,4``, ``3, 1, 4.``);
    else every integer of the region when there are exactly k (``3 circles, 1 square and 4 triangles``)."""
    tokens = tokenize(answer_region(text))
    runs = [r for r in _integer_runs(tokens, {",", ";"}) if len(r) == k]
    if runs:
        return runs[-1]
    integers = [t for t in tokens if t.is_number and t.integer]
    if len(integers) == k and all(t.value >= 0 for t in integers):
        return [int(t.value) for t in integers]
    return None


def parse_order(text: str, n: int) -> list[int] | None:
    """The last run of exactly n digits (n <= 9, ``341562``), else the last run of exactly n integers
    separated by commas or spaces (``3, 4, 1, 5, 6, 2``). Not checked to be a permutation."""
    tokens = tokenize(answer_region(text))
    if n <= 9:
        digits = [t.text for t in tokens if t.is_number and t.integer and t.value >= 0 and len(t.text) == n]
        if digits:
            return [int(d) for d in digits[-1]]
    runs = [r for r in _integer_runs(tokens, {","}) if len(r) == n]
    return runs[-1] if runs else None


CHOICE_CLOSERS = {".", ")", ":"}
DECORATION = {"*", '"', "'", "`", "_"}
CHOICE_CUES = {"option", "answer"}


def _choice_at(tokens: list[Token], i: int) -> tuple[str, int, bool] | None:
    """An option letter ``X`` or ``(X)`` at ``i``: (letter, index after, bracketed)."""
    if i + 2 < len(tokens) and tokens[i].text == "(" and tokens[i + 2].text == ")" and _is_letter(tokens[i + 1]):
        return tokens[i + 1].text, i + 3, True
    if i < len(tokens) and _is_letter(tokens[i]):
        return tokens[i].text, i + 1, False
    return None


def _is_letter(token: Token) -> bool:
    return len(token.text) == 1 and token.text.isupper() and token.text.isalpha()


def parse_choice(text: str) -> str | None:
    """An option letter: the whole answer or its start (``C``, ``(C)``, ``C.``, ``C. the man opens
    the door``, ``C) ...``), else the last ``Option C`` / ``answer is C`` / ``answer: (C)``, else the
    last ``(C)``. A capital inside prose (``Based on the video, D``) is not an answer."""
    tokens = [t for t in tokenize(answer_region(text)) if t.text not in DECORATION]
    first = _choice_at(tokens, 0)
    if first is not None:
        letter, after, bracketed = first
        if bracketed or after == len(tokens) or tokens[after].text in CHOICE_CLOSERS:
            return letter
    cued = bracketed_anywhere = None
    for i, token in enumerate(tokens):
        if token.text in CHOICE_CUES:
            j = i + 2 if i + 1 < len(tokens) and tokens[i + 1].text in ("is", ":") else i + 1
            if (read := _choice_at(tokens, j)) is not None:
                cued = read[0]
        elif token.text == "(" and (read := _choice_at(tokens, i)) is not None and read[2]:
            bracketed_anywhere = read[0]
    return cued or bracketed_anywhere


def parse_number(text: str) -> float | None:
    """The last number of the region (SynRL's open counting questions)."""
    numbers = [t.value for t in tokenize(answer_region(text)) if t.is_number]
    return numbers[-1] if numbers else None


def _whole(text: str) -> list[Token] | None:
    """The tokens of a region that must be read whole (a list), or None when it is too long."""
    return tokenize(text) if len(text) <= MAX_REGION else None


def _read_list(tokens: list[Token], i: int, open_: str, close: str, item) -> tuple[list, int] | None:
    """``open_ item (, item)* [,] close`` (or an empty list) from ``i``: (items, index after)."""
    if i >= len(tokens) or tokens[i].text != open_:
        return None
    items, i = [], i + 1
    while i < len(tokens) and tokens[i].text != close:
        read = item(tokens, i)
        if read is None:
            return None
        value, i = read
        items.append(value)
        if i < len(tokens) and tokens[i].text == ",":
            i += 1
        elif i < len(tokens) and tokens[i].text != close:
            return None
    return (items, i + 1) if i < len(tokens) else None


def _number_at(tokens: list[Token], i: int):
    return (tokens[i].value, i + 1) if i < len(tokens) and tokens[i].is_number else None


def _box(tokens: list[Token], i: int):
    read = _read_list(tokens, i, "[", "]", _number_at)
    return read if read is not None and len(read[0]) == 4 else None


def _pair(tokens: list[Token], i: int):
    read = _read_list(tokens, i, "(", ")", _number_at)
    return read if read is not None and len(read[0]) == 2 else None


def parse_boxes(text: str) -> list[tuple[float, float, float, float]] | None:
    """``[[x1, y1, x2, y2], ...]`` (VideoChat-R1's tracking answer), the whole region; None otherwise."""
    tokens = _whole(answer_region(text).strip())
    read = _read_list(tokens, 0, "[", "]", _box) if tokens else None
    if read is None or read[1] != len(tokens):
        return None
    return [tuple(box) for box in read[0]]


def parse_glue(text: str) -> list[tuple[float, float]] | None:
    """``[(s, e), ...]`` with 0 <= s <= e (VideoChat-R1's glue), the whole text; None otherwise."""
    tokens = _whole(text.strip())
    read = _read_list(tokens, 0, "[", "]", _pair) if tokens else None
    if read is None or read[1] != len(tokens) or any(s < 0 or e < s for s, e in read[0]):
        return None
    return [tuple(pair) for pair in read[0]]


def segment_tokens(region: str) -> list[tuple[str, str]] | None:
    """MUSEG: the whitespace-separated ``s-e`` tokens of a region as (s, e) texts; None when a token
    has no two numbers around its first ``-``, when there are none, or more than MAX_SEGMENTS."""
    if len(region) > MAX_REGION:
        return None
    items = region.split()
    if not items or len(items) > MAX_SEGMENTS:
        return None
    pairs = []
    for item in items:
        parts = item.split("-")
        if len(parts) < 2 or not NUMBER.fullmatch(parts[0]) or not NUMBER.fullmatch(parts[1]):
            return None
        pairs.append((parts[0], parts[1]))
    return pairs


def parse_segments(text: str) -> list[tuple[float, float]] | None:
    """MUSEG: every ``s-e`` of the region, in the order written; None unless each has 0 <= s < e."""
    pairs = segment_tokens(answer_region(text))
    if pairs is None:
        return None
    segments = [(float(s), float(e)) for s, e in pairs]
    return segments if all(s < e for s, e in segments) else None


ARTICLES = {"a", "an", "the"}


def normalise_text(text: str) -> str:
    """Lower-case words without punctuation or articles, single-spaced (SQuAD-style), from the last
    MAX_REGION characters."""
    words = re.findall(r"[0-9a-z]+", _tail(text).lower())
    return " ".join(w for w in words if w not in ARTICLES)
