"""Hostile completions: the shapes that make a backtracking parser quadratic, at any size.

A trainer feeds every rollout's text to the rewards, thousands of times per step, and nothing
bounds what a policy writes. The tests and ``make bench`` run every reward on these.
"""

from __future__ import annotations

MEGABYTE = 1_000_000


def _fill(unit: str, size: int, head: str = "", tail: str = "") -> str:
    body = size - len(head) - len(tail)
    return head + (unit * (body // len(unit) + 1))[: max(0, body)] + tail


def hostile_completions(size: int = MEGABYTE) -> dict[str, str]:
    """Named completions of about ``size`` characters."""
    return {
        "digit then spaces": _fill(" ", size, "1", "x"),
        "spaces between numbers": _fill(" ", size, "1.5", "2.5"),
        "digit run": _fill("9", size),
        "dotted digits": _fill("1.", size),
        "dash chain": _fill("1-", size),
        "comma chain": _fill("1,", size),
        "to chain": _fill("1 to ", size),
        "unit chain": _fill("1 s ", size),
        "sign chain": _fill("-", size, "", "1"),
        "open tags": _fill("<answer>", size),
        "nested tags": _fill("<think><answer>", size, "", "1-2</answer></think>"),
        "close tags": _fill("</answer>", size),
        "think then answer": _fill("1.0 ", size, "<think>", "</think><answer>1.0-2.0 3.0-4.0</answer>"),
        "many segments": _fill("1.0-2.0 ", size, "<think>1.0 2.0</think><answer>", "</answer>"),
        "brackets": _fill("[", size, "", "]"),
        "box lists": _fill("[[1,2,3,4],", size, "<think>t</think><answer>[", "]]</answer>"),
        "glue pairs": _fill("(1, 2), ", size, "<think>t</think><answer>A</answer><glue>[", "]</glue>"),
        "parentheses": _fill("(", size, "", "B)"),
        "letters": _fill("A ", size),
        "option words": _fill("option ", size, "", "C"),
        "unicode": _fill("\u00e9\u4e2d1", size),
        "newlines": _fill("\n", size, "1", "-2"),
    }
