"""Format rewards: does the output have the structure the task asks for? Linear-time checks; and the
writers of the two structures the prompts ask for, which those checks accept."""

from __future__ import annotations

from videolake.rewards import parse


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


def bare_answer(answer: str, reasoning: str) -> str:
    """VideoSSR's prompts ask for the answer directly: no thinking shown."""
    return answer


def think_answer(answer: str, reasoning: str) -> str:
    """``<think>`` reasoning ``</think>`` then ``<answer>`` answer ``</answer>`` (VideoChat-R1, MUSEG, SynRL)."""
    return f"<think>\n{reasoning}\n</think>\n<answer>{answer}</answer>"


def think_answer_format(text: str) -> float:
    """VideoChat-R1: 1.0 for ``<think>..</think><answer>..</answer>`` and nothing else, else 0.0.
    (The paper's Eq. 3 prints the two cases swapped; we follow its text.)"""
    return 1.0 if isinstance(text, str) and _blocks(text, ("think", "answer")) is not None else 0.0


def tracking_format(text: str, boxes: int) -> float:
    """VideoChat-R1 tracking: think/answer, and the answer is a list of exactly ``boxes`` boxes."""
    blocks = _blocks(text, ("think", "answer")) if isinstance(text, str) else None
    found = parse.parse_boxes(blocks[1]) if blocks is not None else None
    return 1.0 if found is not None and len(found) == boxes else 0.0


def glue_format(text: str) -> float:
    """VideoChat-R1 grounding QA: think/answer/glue, and the glue reads as ``[(s, e), ...]``."""
    blocks = _blocks(text, ("think", "answer", "glue")) if isinstance(text, str) else None
    return 1.0 if blocks is not None and parse.parse_glue(blocks[2]) is not None else 0.0


def museg_format(text: str, timestamp_term: bool) -> float:
    """MUSEG: 1.0 when one think and one answer block hold ``s-e`` tokens that all read; 0.2 when one
    does not; with the stage-1 timestamp term, 0.6 when an answer timestamp (as ``str(float(t))``)
    does not occur between 1 and 10 times in the think text; 0.0 without the two blocks."""
    blocks = _blocks(text, ("think", "answer")) if isinstance(text, str) else None
    if blocks is None:
        return 0.0
    think, answer = blocks
    pairs = parse.segment_tokens(answer)
    if pairs is None:
        return 0.2
    if timestamp_term:
        for stamp in dict.fromkeys(str(float(t)) for pair in pairs for t in pair):
            if not 1 <= think.count(stamp) <= 10:
                return 0.6
    return 1.0
