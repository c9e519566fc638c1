"""Prompt text shared by several tasks, written once: VideoChat-R1's system prompt and its request
for timestamped thinking, and the number words prompts spell counts with."""

from __future__ import annotations

VIDEOCHAT_SYSTEM_PROMPT = "You are a video analysis expert."  # VideoChat-R1's
VIDEOCHAT_THINKING = (
    "Output your thought process within the <think> </think> tags, including analysis with either specific timestamps "
    "(xx.xx) or time ranges (xx.xx to xx.xx) in <timestep> </timestep> tags.\n\n"
)
NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    16: "sixteen",
}


def number_word(count: int) -> str:
    """The word for ``count`` where prompts spell it, else its digits."""
    return NUMBER_WORDS.get(count, str(count))


def quoted(text: str) -> str:
    """Text from meta (an annotated question, an option) quoted inside a thinking block, its angle
    brackets turned into look-alikes so that no tag in it can close the block or open another."""
    return '"' + text.replace("<", "\u2039").replace(">", "\u203a") + '"'
