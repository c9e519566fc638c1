"""The six long-term scenarios (see longterm.py for the shared three-phase structure).

Why no answer can be read off one frame: states are drawn only during a reveal, and only one
reveal (S0 or S_T) is drawn; every question is about the other end, a state in between, or the
history, so it needs the operations, which are spread over many seconds and never drawn together.
The math expression is drawn one symbol at a time, each wiped before the next.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise
from typing import ClassVar

from videolake.generators.base import sample_range
from videolake.generators.synthetic import qa
from videolake.generators.synthetic.longterm import Game
from videolake.generators.synthetic.render import (
    INDEX,
    OBJECT_COLOURS,
    SHAPES,
    draw_shape,
    text,
)

ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def ordinal(n: int) -> str:
    return ORDINAL.get(n, f"{n}th")


def caption(draw, size: int, message: str, colour: str = "ink") -> None:
    text(draw, (size / 2, size * 0.93), message, size // 22, colour)


def lerp(a, b, t: float):
    return tuple(x + (y - x) * t for x, y in zip(a, b))


def smooth(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * t)


def historical_index(meta: dict, rng) -> int:
    return int(rng.integers(1, len(meta["operations"])))  # strictly between S0 and S_T


# ---- card pile -------------------------------------------------------------------------------

RANKS = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"]
SUITS = {"S": "Spades", "H": "Hearts", "D": "Diamonds", "C": "Clubs"}
RANK_NAMES = {"A": "Ace", "J": "Jack", "Q": "Queen", "K": "King"}
CARD_OPS = {
    "deal": "Deal the top card",
    "insert": "Put a new card on top",
    "to_bottom": "Move the top card to the bottom",
    "swap_top": "Swap the top two cards",
}


def card_name(code: str) -> str:
    return f"{RANK_NAMES.get(code[:-1], code[:-1])} of {SUITS[code[-1]]}"


class CardPile(Game):
    name = "card_pile"

    def initial(self, settings, rng):
        deck = [r + s for s in SUITS for r in RANKS]
        return [deck[i] for i in rng.permutation(len(deck))[: sample_range(rng, settings["items"], integer=True)]]

    def random_op(self, state, rng):
        choices = ["insert", "to_bottom"] + (
            ["deal", "swap_top"] if len(state) >= 3 else ["swap_top"] if len(state) == 2 else []
        )
        kind = qa.choose(rng, choices)
        if kind == "deal":
            return {"op": "deal", "card": state[0]}
        if kind == "insert":
            unused = [r + s for s in SUITS for r in RANKS if r + s not in state]
            return {"op": "insert", "card": qa.choose(rng, unused)}
        return {"op": kind}

    def apply(self, state, op):
        pile = list(state)
        if op["op"] == "deal":
            if not pile or pile[0] != op["card"]:
                raise ValueError("deal: that card is not on top")
            return pile[1:]
        if op["op"] == "insert":
            if op["card"] in pile:
                raise ValueError("insert: card already in the pile")
            return [op["card"]] + pile
        if len(pile) < 2:
            raise ValueError(f"{op['op']}: fewer than two cards")
        if op["op"] == "to_bottom":
            return pile[1:] + pile[:1]
        return [pile[1], pile[0]] + pile[2:]

    def ask(self, meta, rng):
        if meta["mode"] == "forward":
            return {
                "kind": "pile",
                "prompt": "What are the cards in the pile at the end, listed from top to bottom?",
            }, len(meta["states"]) - 1
        if meta["mode"] == "retrodictive":
            return {"kind": "pile", "prompt": "What cards were in the pile at the start, listed from top to bottom?"}, 0
        index = historical_index(meta, rng)
        return {
            "kind": "top",
            "prompt": f"Which card is on top of the pile right after the {ordinal(index)} operation?",
        }, index

    def value(self, state, query):
        if query["kind"] == "top":
            return card_name(state[0]) if state else "No card"
        return ", ".join(card_name(c) for c in state)

    def options(self, meta, query, truth, answers, count, rng):
        if query["kind"] == "top":  # any card the video showed, or none if the pile ever ran out
            seen = sorted({card for state in meta["states"] for card in state})
            empty = ["No card"] if any(not state for state in meta["states"]) else []
            return qa.uniform_options(truth, [card_name(c) for c in seen] + empty, count, rng)
        return qa.star_options(truth, qa.order_swaps(", "), count, rng)

    def describe_state(self, state):
        return "the pile from top to bottom is " + ", ".join(card_name(c) for c in state)

    def describe_op(self, op):
        if op["op"] == "deal":
            return f"the top card, the {card_name(op['card'])}, is dealt away face up"
        if op["op"] == "insert":
            return f"the {card_name(op['card'])} is put on top"
        return {"to_bottom": "the top card is moved to the bottom", "swap_top": "the top two cards are swapped"}[
            op["op"]
        ]

    @staticmethod
    def _slot(size: int, index: int, count: int):
        height = min(size * 0.11, size * 0.78 / max(count, 1))
        return (size * 0.25, size * 0.06 + index * height, size * 0.75, size * 0.06 + (index + 1) * height - 3)

    @staticmethod
    def _card(draw, box, code: str | None, size: int):
        x0, y0, x1, y1 = box
        if code is None:
            draw.rectangle(box, fill=INDEX["card_back"], outline=INDEX["white"], width=2)
            return
        draw.rectangle(box, fill=INDEX["white"], outline=INDEX["ink"], width=2)
        colour = "card_red" if code[-1] in "HD" else "ink"
        text(draw, ((x0 + x1) / 2, (y0 + y1) / 2), card_name(code), max(8, int((y1 - y0) * 0.6)), colour)

    def draw_state(self, draw, state, size):
        for i, code in enumerate(state):
            self._card(draw, self._slot(size, i, len(state) + 1), code, size)
        caption(draw, size, "Top of the pile is at the top")

    def draw_op(self, draw, op, before, progress, size):
        after = self.apply(before, op)
        slots = len(before) + 1
        t = smooth(progress)
        moving: list[tuple[int, int, str | None]] = []  # (from slot, to slot, face)
        if op["op"] == "deal":
            fixed = [(i, i) for i in range(1, len(before))]
            moving.append((0, -1, op["card"]))
        elif op["op"] == "insert":
            fixed = [(i, i + 1) for i in range(len(before))]
            moving.append((-1, 0, op["card"]))
        elif op["op"] == "to_bottom":
            fixed = [(i, i - 1) for i in range(1, len(before))]
            moving.append((0, len(after) - 1, None))
        else:
            fixed = [(i, i) for i in range(2, len(before))]
            moving += [(0, 1, None), (1, 0, None)]
        for a, b in fixed:
            box = lerp(self._slot(size, a, slots), self._slot(size, b, slots), t)
            self._card(draw, box, None, size)
        for a, b, face in moving:
            start = (
                self._slot(size, a, slots)
                if a >= 0
                else tuple(v + (size * 0.6 if k % 2 == 0 else 0) for k, v in enumerate(self._slot(size, 0, slots)))
            )
            end = (
                self._slot(size, b, slots)
                if b >= 0
                else tuple(v + (size * 0.6 if k % 2 == 0 else 0) for k, v in enumerate(self._slot(size, 0, slots)))
            )
            box = lerp(start, end, t)
            if a >= 0 and b >= 0:  # lift the travelling card sideways so it is seen passing the pile
                shift = size * 0.3 * math.sin(math.pi * t) * (1 if a == 0 else -1)
                box = (box[0] + shift, box[1], box[2] + shift, box[3])
            self._card(draw, box, face, size)
        caption(draw, size, CARD_OPS[op["op"]])


# ---- chips in cups ---------------------------------------------------------------------------

CHIP_VALUES = [5, 10, 20, 25, 50, 100, 500]
CUP_OPS = {"add": "Add a chip", "remove": "Take a chip out", "move": "Move a chip"}


def chips_text(chips: list[int]) -> str:
    return ", ".join(str(c) for c in chips) if chips else "No chips"


def chips_near(text: str) -> list[str]:
    """One chip's value misread: as many chips as the truth (so no option stands out by its
    length), and each mistake undoes itself."""
    chips = [int(c) for c in text.split(", ")]
    return [
        chips_text(sorted(chips[:i] + [value] + chips[i + 1 :]))
        for i in sorted(set(map(chips.index, chips)))
        for value in CHIP_VALUES
        if value != chips[i]
    ]


def chips_weight(chips: list[int]) -> float:
    """How often to keep a cup's chips as the truth, in (0, 1], so that every option is equally
    likely to be it: chips drawn independently make a set of different values likelier than one of
    repeated values (by its number of orderings), and a set with more different values has more
    neighbours in ``chips_near`` (which makes each of them less likely to be drawn around it)."""
    repeats = math.prod(math.factorial(chips.count(v)) for v in set(chips))
    return len(set(chips)) * repeats / math.factorial(len(chips))


class ChipCups(Game):
    name = "chip_cups"

    def initial(self, settings, rng):
        cups = "ABC"
        return {cup: sorted(int(v) for v in rng.choice(CHIP_VALUES, size=int(rng.integers(1, 4)))) for cup in cups}

    def random_op(self, state, rng):
        full = [c for c in state if state[c]]
        kind = qa.choose(rng, ["add", "remove", "move"] if full else ["add"])
        if kind == "add":
            return {"op": "add", "cup": qa.choose(rng, list(state)), "chip": int(qa.choose(rng, CHIP_VALUES))}
        source = qa.choose(rng, full)
        chip = int(qa.choose(rng, state[source]))
        if kind == "remove":
            return {"op": "remove", "cup": source, "chip": chip}
        return {"op": "move", "cup": source, "to": qa.choose(rng, [c for c in state if c != source]), "chip": chip}

    def apply(self, state, op):
        cups = {k: list(v) for k, v in state.items()}
        if op["op"] in ("remove", "move"):
            if op["chip"] not in cups[op["cup"]]:
                raise ValueError(f"no {op['chip']} chip in cup {op['cup']}")
            cups[op["cup"]].remove(op["chip"])
        target = op["cup"] if op["op"] == "add" else op.get("to")
        if target:
            cups[target] = sorted(cups[target] + [op["chip"]])
        return cups

    def ask(self, meta, rng):
        cup = qa.choose(rng, list(meta["states"][0]))
        if meta["mode"] == "forward":
            return {
                "kind": "chips",
                "cup": cup,
                "prompt": f"Which chips are in Cup {cup} at the end? (values, smallest first)",
            }, len(meta["states"]) - 1
        if meta["mode"] == "retrodictive":
            return {
                "kind": "chips",
                "cup": cup,
                "prompt": f"Which chips were in Cup {cup} at the start? (values, smallest first)",
            }, 0
        index = historical_index(meta, rng)
        return {
            "kind": "count",
            "cup": cup,
            "prompt": f"How many chips are in Cup {cup} right after the {ordinal(index)} operation?",
        }, index

    def value(self, state, query):
        chips = state[query["cup"]]
        return str(len(chips)) if query["kind"] == "count" else chips_text(chips)

    balanced_kinds = ("count",)

    def options(self, meta, query, truth, answers, count, rng):
        if query["kind"] == "count":
            return qa.uniform_options(truth, answers, count, rng)
        chips = meta["states"][query["state_index"]][query["cup"]]
        if not chips or rng.random() >= chips_weight(chips):
            raise qa.Unlucky
        return qa.star_options(truth, chips_near, count, rng)

    def describe_state(self, state):
        return "; ".join(f"Cup {cup}: {chips_text(chips)}" for cup, chips in state.items())

    def describe_op(self, op):
        if op["op"] == "add":
            return f"a {op['chip']} chip is put into Cup {op['cup']}"
        if op["op"] == "remove":
            return f"a {op['chip']} chip is taken out of Cup {op['cup']}"
        return f"a {op['chip']} chip is moved from Cup {op['cup']} to Cup {op['to']}"

    @staticmethod
    def _cup_centre(size, cup: str):
        return (size * (0.2 + 0.3 * "ABC".index(cup)), size * 0.68)

    def _cups(self, draw, size, state):
        for cup in state:
            cx, cy = self._cup_centre(size, cup)
            w, h = size * 0.11, size * 0.12
            draw.polygon(
                [(cx - w, cy - h), (cx + w, cy - h), (cx + w * 0.75, cy + h), (cx - w * 0.75, cy + h)],
                fill=INDEX["brown"],
            )
            text(draw, (cx, cy + h + size * 0.05), f"Cup {cup}", size // 20)

    @staticmethod
    def _chip(draw, centre, value: int, size: int):
        r = size * 0.04
        draw.ellipse(
            [centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r],
            fill=INDEX["yellow"],
            outline=INDEX["ink"],
            width=2,
        )
        text(draw, centre, str(value), size // 30)

    def draw_state(self, draw, state, size):
        self._cups(draw, size, state)
        for cup, chips in state.items():
            cx, cy = self._cup_centre(size, cup)
            for k, chip in enumerate(chips):
                self._chip(draw, (cx + (k % 2 - 0.5) * size * 0.085, cy - size * (0.2 + 0.085 * (k // 2))), chip, size)

    def draw_op(self, draw, op, before, progress, size):
        above = lambda cup: (self._cup_centre(size, cup)[0], size * 0.3)
        inside = lambda cup: self._cup_centre(size, cup)
        if op["op"] == "add":
            path = [(above(op["cup"])[0], -size * 0.05), above(op["cup"]), inside(op["cup"])]
        elif op["op"] == "remove":
            path = [inside(op["cup"]), above(op["cup"]), (above(op["cup"])[0], -size * 0.05)]
        else:
            path = [inside(op["cup"]), above(op["cup"]), above(op["to"]), inside(op["to"])]
        legs = len(path) - 1
        leg = min(int(progress * legs), legs - 1)
        self._chip(draw, lerp(path[leg], path[leg + 1], smooth(progress * legs - leg)), op["chip"], size)
        self._cups(draw, size, before)  # drawn last: a chip inside a cup is hidden by it
        caption(draw, size, CUP_OPS[op["op"]])


# ---- file system -----------------------------------------------------------------------------

FILE_NAMES = [
    "README.md",
    "main.py",
    "notes.txt",
    "data.csv",
    "config.yaml",
    "test.py",
    "todo.txt",
    "log.txt",
    "app.js",
    "index.html",
    "report.pdf",
    "setup.cfg",
    "Makefile",
    "style.css",
]


def files_text(files: list[str]) -> str:
    return ", ".join(files) if files else "No files"


def files_near(text: str) -> list[str]:
    """One file mistaken for another: as many files as the truth (so no option stands out by its
    length), every listing of that size has as many neighbours, and each mistake undoes itself."""
    files = set(text.split(", "))
    return [
        files_text(sorted(files - {name} | {other}))
        for name in sorted(files)
        for other in FILE_NAMES
        if other not in files
    ]


class FileSystem(Game):
    name = "file_system"

    def initial(self, settings, rng):
        count = sample_range(rng, settings["items"], integer=True)
        return {"files": sorted(FILE_NAMES[i] for i in rng.permutation(len(FILE_NAMES))[:count]), "deleted": []}

    def random_op(self, state, rng):
        files = state["files"]
        free = [f for f in FILE_NAMES if f not in files]
        kinds = (["touch"] if free else []) + (["rm"] if files else []) + (["mv", "cp"] if files and free else [])
        kind = qa.choose(rng, kinds)
        if kind == "touch":
            return {"op": "touch", "name": qa.choose(rng, free)}
        if kind == "rm":
            return {"op": "rm", "name": qa.choose(rng, files)}
        return {"op": kind, "name": qa.choose(rng, files), "to": qa.choose(rng, free)}

    def apply(self, state, op):
        files, deleted = set(state["files"]), set(state["deleted"])
        if op["op"] == "touch":
            if op["name"] in files:
                raise ValueError("touch: file exists")
            files.add(op["name"])
        else:
            if op["name"] not in files:
                raise ValueError(f"{op['op']}: no such file")
            if op["op"] in ("mv", "cp"):
                if op["to"] in files:
                    raise ValueError(f"{op['op']}: target exists")
                files.add(op["to"])
            if op["op"] in ("rm", "mv"):
                files.discard(op["name"])
            if op["op"] == "rm":
                deleted.add(op["name"])
        return {"files": sorted(files), "deleted": sorted(deleted)}

    def ask(self, meta, rng):
        last = len(meta["states"]) - 1
        if meta["mode"] == "forward":
            return {"kind": "files", "prompt": "Which files are in the directory at the end?"}, last
        if meta["mode"] == "retrodictive":
            return {"kind": "files", "prompt": "Which files were in the directory at the start?"}, 0
        if rng.random() < 0.5:
            touched = sorted({op["name"] for op in meta["operations"]})
            name = qa.choose(rng, touched)
            return {
                "kind": "deleted",
                "name": name,
                "count": 2,
                "prompt": f"During the process, was the file '{name}' ever deleted with rm?",
            }, last
        index = historical_index(meta, rng)
        return {
            "kind": "count",
            "prompt": f"How many files are in the directory right after the {ordinal(index)} command?",
        }, index

    def value(self, state, query):
        if query["kind"] == "deleted":
            return "Yes" if query["name"] in state["deleted"] else "No"
        if query["kind"] == "count":
            return str(len(state["files"]))
        return files_text(state["files"])

    balanced_kinds = ("deleted", "count")

    def options(self, meta, query, truth, answers, count, rng):
        if query["kind"] in ("deleted", "count"):
            return qa.uniform_options(truth, answers, count, rng)
        if not meta["states"][query["state_index"]]["files"]:
            raise qa.Unlucky  # an empty listing has no listing of its size to be mistaken for
        return qa.star_options(truth, files_near, count, rng)

    def describe_state(self, state):
        return "the directory holds " + files_text(state["files"])

    def describe_op(self, op):
        return f"the command '{self.command(op)}' runs"

    @staticmethod
    def command(op) -> str:
        return f"{op['op']} {op['name']}" + (f" {op['to']}" if "to" in op else "")

    def draw_state(self, draw, state, size):
        draw.rectangle([0, 0, size, size], fill=INDEX["terminal"])
        text(draw, (size * 0.08, size * 0.1), "$ ls", size // 16, "prompt", anchor="lm")
        for k, name in enumerate(state["files"] or ["(empty)"]):
            text(draw, (size * 0.12, size * (0.2 + 0.07 * k)), name, size // 18, "text", anchor="lm")

    def draw_op(self, draw, op, before, progress, size):
        draw.rectangle([0, 0, size, size], fill=INDEX["terminal"])
        command = self.command(op)
        typed = command[: math.ceil(progress * 1.4 * len(command))]  # typed in the first 70%, then read
        text(draw, (size * 0.08, size * 0.45), f"$ {typed}", size // 14, "prompt", anchor="lm")


# ---- math drawn by a ball --------------------------------------------------------------------

# Strokes per symbol in a unit cell (x right, y down); a ball traces them, leaving a trail.
A, B, C, D, E, F = (0, 0), (1, 0), (0, 0.5), (1, 0.5), (0, 1), (1, 1)
STROKES = {
    "0": [[A, B, F, E, A]],
    "1": [[B, F]],
    "2": [[A, B, D, C, E, F]],
    "3": [[A, B, D, C, D, F, E]],
    "4": [[A, C, D], [B, F]],
    "5": [[B, A, C, D, F, E]],
    "6": [[B, A, E, F, D, C]],
    "7": [[A, B, F]],
    "8": [[C, D, B, A, C, E, F, D]],
    "9": [[D, C, A, B, F, E]],
    "+": [[(0.5, 0.2), (0.5, 0.8)], [(0.15, 0.5), (0.85, 0.5)]],
    "-": [[(0.15, 0.5), (0.85, 0.5)]],
    "*": [[(0.2, 0.25), (0.8, 0.75)], [(0.8, 0.25), (0.2, 0.75)]],
    "/": [[(0.8, 0.1), (0.2, 0.9)]],
}
OPERATORS = "+-*/"


def evaluate(symbols: str, precedence: bool = True) -> Fraction:
    """The value of an expression of non-negative integers and + - * /, with or without precedence."""
    tokens, number = [], ""
    for ch in symbols:
        if ch.isdigit():
            number += ch
        else:
            tokens += [Fraction(int(number)), ch]
            number = ""
    tokens.append(Fraction(int(number)))
    if not precedence:
        total = tokens[0]
        for op, value in zip(tokens[1::2], tokens[2::2]):
            total = {
                "+": total + value,
                "-": total - value,
                "*": total * value,
                "/": total / value if value else total,
            }[op]
        return total
    terms, sign, product = [], 1, tokens[0]
    for op, value in zip(tokens[1::2], tokens[2::2]):
        if op in "*/":
            if op == "/" and value == 0:
                raise ZeroDivisionError
            product = product * value if op == "*" else product / value
        else:
            terms.append(sign * product)
            sign, product = (1 if op == "+" else -1), value
    return sum(terms, Fraction(0)) + sign * product


def number_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.2f}"


class MathTrail(Game):
    name = "math_trail"
    shown_for: ClassVar[dict] = {"forward": ("initial",), "historical": ("initial",)}

    def initial(self, settings, rng):
        return ""

    def plan(self, settings, rng, initial):
        for _ in range(100):
            terms = [int(rng.integers(1, 21))]
            ops = []
            for _ in range(sample_range(rng, settings["terms"], integer=True) - 1):
                op = qa.choose(rng, OPERATORS)
                if op == "/":  # divide exactly: pick a divisor of the running product
                    chain = terms[-1]
                    divisors = [d for d in range(2, 13) if chain % d == 0]
                    if not divisors:
                        op = "*"
                    else:
                        terms.append(qa.choose(rng, divisors))
                        ops.append(op)
                        continue
                terms.append(int(rng.integers(1, 13 if op == "*" else 21)))
                ops.append(op)
            symbols = str(terms[0]) + "".join(op + str(t) for op, t in zip(ops, terms[1:]))
            if evaluate(symbols).denominator == 1:
                return [{"op": "draw", "symbol": ch} for ch in symbols]
        raise ValueError("no integer expression found")

    def random_op(self, state, rng):
        return {"op": "draw", "symbol": qa.choose(rng, "0123456789")}

    def apply(self, state, op):
        return state + op["symbol"]

    def ask(self, meta, rng):
        last = len(meta["states"]) - 1
        if meta["mode"] == "historical":
            index = int(rng.integers(1, last + 1))
            return {
                "kind": "symbol",
                "position": index,
                "prompt": "A ball's trajectory draws a math problem one symbol at a time. What is the "
                f"{ordinal(index)} symbol drawn?",
            }, last
        return {
            "kind": "result",
            "prompt": "A ball's trajectory draws a math problem, which can include '+', '-', '*' and '/'. Following "
            "the standard order of operations, what is the final result?",
        }, last

    def value(self, state, query):
        if query["kind"] == "symbol":
            return state[query["position"] - 1]
        return number_text(evaluate(state))

    balanced_kinds = ("symbol",)

    def options(self, meta, query, truth, answers, count, rng):
        if query["kind"] == "symbol":  # a digit among digits, an operator among operators
            return qa.uniform_options(
                truth, [a for a in answers if (a in OPERATORS) == (truth in OPERATORS)], count, rng
            )
        return qa.number_window(int(truth), count, rng)  # plan() draws only whole results

    def describe_state(self, state):
        return f"the symbols so far read {state}" if state else "nothing has been drawn"

    def describe_op(self, op):
        return f"the ball traces the symbol '{op['symbol']}'"

    def narrate(self, meta):
        opening, steps, _ = super().narrate(meta)
        symbols = meta["states"][-1]
        conclusion = (
            f"Put together, the expression is {symbols}; with multiplication and division first it equals "
            f"{number_text(evaluate(symbols))}."
        )
        return opening, steps[1:-1], conclusion

    def hidden_text(self) -> str:
        return ""

    def draw_state(self, draw, state, size):
        return None  # S0 is the empty expression: a blank screen

    def draw_op(self, draw, op, before, progress, size):
        strokes = STROKES[op["symbol"]]
        cell = size * 0.36
        origin = ((size - cell * 0.7) / 2, (size - cell) / 2)
        to_px = lambda p: (origin[0] + p[0] * cell * 0.7, origin[1] + p[1] * cell)
        lengths = [[math.dist(a, b) for a, b in pairwise(s)] for s in strokes]
        total = sum(sum(leg) for leg in lengths)
        remaining = progress * total
        ball = to_px(strokes[0][0])
        for stroke, legs in zip(strokes, lengths):
            for (a, b), leg in zip(pairwise(stroke), legs):
                if remaining <= 0:
                    break
                t = min(1.0, remaining / leg)
                end = lerp(a, b, t)
                draw.line([to_px(a), to_px(end)], fill=INDEX["ink"], width=max(3, size // 40))
                ball, remaining = to_px(end), remaining - leg
        r = size * 0.03
        draw.ellipse([ball[0] - r, ball[1] - r, ball[0] + r, ball[1] + r], fill=INDEX["red"])


# ---- shell game on a grid --------------------------------------------------------------------

GRID = 4
CELLS = [f"{col}{row}" for row in range(1, GRID + 1) for col in "abcd"]


class ShellGrid(Game):
    name = "grid_shell"

    def initial(self, settings, rng):
        count = sample_range(rng, settings["objects"], integer=True)
        colours = [list(OBJECT_COLOURS)[i] for i in rng.permutation(len(OBJECT_COLOURS))[:count]]
        cells = [CELLS[i] for i in rng.permutation(len(CELLS))[:count]]
        return {
            "cells": {cell: f"{colour} {qa.choose(rng, list(SHAPES))}" for cell, colour in zip(cells, colours)},
            "covered": bool(settings["occlusion"]),
        }

    def random_op(self, state, rng):
        first = qa.choose(rng, sorted(state["cells"]))
        second = qa.choose(rng, [c for c in CELLS if c != first])
        return {"op": "swap", "pos1": first, "pos2": second}

    def apply(self, state, op):
        cells = dict(state["cells"])
        a, b = cells.pop(op["pos1"], None), cells.pop(op["pos2"], None)
        if a:
            cells[op["pos2"]] = a
        if b:
            cells[op["pos1"]] = b
        return {"cells": dict(sorted(cells.items())), "covered": state["covered"]}

    def ask(self, meta, rng):
        names = sorted(meta["states"][0]["cells"].values())
        target = qa.choose(rng, names)
        if meta["mode"] == "forward":
            return {"kind": "where", "object": target, "prompt": f"Where is the {target} at the end?"}, len(
                meta["states"]
            ) - 1
        if meta["mode"] == "retrodictive":
            return {"kind": "where", "object": target, "prompt": f"Where was the {target} at the start?"}, 0
        index = historical_index(meta, rng)
        cell = qa.choose(rng, sorted({op[k] for op in meta["operations"] for k in ("pos1", "pos2")}))
        return {
            "kind": "what",
            "cell": cell,
            "prompt": f"What is in cell {cell} right after the {ordinal(index)} swap?",
        }, index

    def value(self, state, query):
        if query["kind"] == "what":
            return state["cells"].get(query["cell"], "Nothing")
        return next(cell for cell, name in state["cells"].items() if name == query["object"])

    balanced_kinds = ("what", "where")

    def answer_key(self, meta):
        """For "what", the contents by role - nothing, or the k-th object by name - among worlds
        with as many objects: "Nothing" then comes up as often as each object does."""
        if meta["query"]["kind"] != "what":
            return super().answer_key(meta)
        names = sorted(meta["states"][0]["cells"].values())
        truth = self._truth(meta)
        return ("what", len(names)), "Nothing" if truth == "Nothing" else f"object {names.index(truth)}"

    def options(self, meta, query, truth, answers, count, rng):
        if query["kind"] == "what":
            return qa.uniform_options(truth, sorted(meta["states"][0]["cells"].values()) + ["Nothing"], count, rng)
        return qa.uniform_options(truth, answers, count, rng)

    def describe_state(self, state):
        return ", ".join(f"the {name} at {cell}" for cell, name in state["cells"].items())

    def describe_op(self, op):
        return f"the cups at {op['pos1']} and {op['pos2']} swap places"

    @staticmethod
    def _centre(cell: str, size: int):
        step = size * 0.8 / GRID
        return (size * 0.1 + step * ("abcd".index(cell[0]) + 0.5), size * 0.1 + step * (int(cell[1]) - 0.5))

    def _board(self, draw, size):
        step = size * 0.8 / GRID
        for k in range(GRID + 1):
            draw.line(
                [(size * 0.1 + k * step, size * 0.1), (size * 0.1 + k * step, size * 0.9)], fill=INDEX["grey"], width=2
            )
            draw.line(
                [(size * 0.1, size * 0.1 + k * step), (size * 0.9, size * 0.1 + k * step)], fill=INDEX["grey"], width=2
            )
        for k in range(GRID):
            text(draw, (size * 0.1 + (k + 0.5) * step, size * 0.05), "abcd"[k], size // 22)
            text(draw, (size * 0.05, size * 0.1 + (k + 0.5) * step), str(k + 1), size // 22)

    def _thing(self, draw, name: str | None, centre, size, covered: bool):
        if covered:
            r = size * 0.8 / GRID * 0.38
            draw.rectangle([centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r], fill=INDEX["wall"])
        elif name:
            colour, shape = name.split(" ")
            draw_shape(draw, shape, centre, size * 0.8 / GRID * 0.32, colour)

    def draw_state(self, draw, state, size):
        self._board(draw, size)
        for cell, name in state["cells"].items():
            self._thing(draw, name, self._centre(cell, size), size, covered=False)

    def draw_op(self, draw, op, before, progress, size):
        self._board(draw, size)
        covered = before["covered"]
        t = smooth(progress)
        for cell in CELLS if covered else before["cells"]:
            if cell not in (op["pos1"], op["pos2"]):
                self._thing(draw, before["cells"].get(cell), self._centre(cell, size), size, covered)
        a, b = self._centre(op["pos1"], size), self._centre(op["pos2"], size)
        lift = size * 0.06 * math.sin(math.pi * t)
        for start, end, cell, sign in ((a, b, op["pos1"], 1), (b, a, op["pos2"], -1)):
            point = lerp(start, end, t)
            self._thing(
                draw, before["cells"].get(cell), (point[0] + sign * lift, point[1] - sign * lift), size, covered
            )


# ---- sliding puzzle --------------------------------------------------------------------------

SIDE = 3
POSITIONS = [
    "top-left",
    "top-middle",
    "top-right",
    "middle-left",
    "centre",
    "middle-right",
    "bottom-left",
    "bottom-middle",
    "bottom-right",
]


class SlidingPuzzle(Game):
    name = "sliding_puzzle"
    shown_for: ClassVar[dict] = {"retrodictive": ("final",), "forward": ("initial",), "historical": ("final",)}

    def initial(self, settings, rng):
        return [int(v) for v in rng.permutation(SIDE * SIDE)]

    def random_op(self, state, rng):
        blank_at = state.index(0)
        row, col = divmod(blank_at, SIDE)
        neighbours = [
            (row + dr) * SIDE + col + dc
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= row + dr < SIDE and 0 <= col + dc < SIDE
        ]
        tile_at = qa.choose(rng, neighbours)
        return {"op": "slide", "from": POSITIONS[tile_at], "to": POSITIONS[blank_at]}

    def apply(self, state, op):
        source, target = POSITIONS.index(op["from"]), POSITIONS.index(op["to"])
        (r1, c1), (r2, c2) = divmod(source, SIDE), divmod(target, SIDE)
        if state[target] != 0 or abs(r1 - r2) + abs(c1 - c2) != 1:
            raise ValueError("slide: the tile is not next to the empty cell")
        board = list(state)
        board[target], board[source] = board[source], 0
        return board

    def ask(self, meta, rng):
        position = qa.choose(rng, POSITIONS)
        if meta["mode"] == "retrodictive":
            return {
                "kind": "tile",
                "position": position,
                "prompt": f"Which number was in the {position} cell at the start? (0 means the empty cell)",
            }, 0
        if meta["mode"] == "forward":
            return {
                "kind": "tile",
                "position": position,
                "prompt": f"Which number is in the {position} cell at the end? (0 means the empty cell)",
            }, len(meta["states"]) - 1
        index = historical_index(meta, rng)
        return {
            "kind": "tile",
            "position": position,
            "prompt": f"Which number is in the {position} cell right after the {ordinal(index)} move? (0 means the "
            "empty cell)",
        }, index

    def value(self, state, query):
        return str(state[POSITIONS.index(query["position"])])

    balanced_kinds = ("tile",)

    def options(self, meta, query, truth, answers, count, rng):
        return qa.uniform_options(truth, answers, count, rng)

    def describe_state(self, state):
        rows = [" ".join(str(v) if v else "_" for v in state[r * SIDE : (r + 1) * SIDE]) for r in range(SIDE)]
        return "rows " + " / ".join(rows)

    def describe_op(self, op):
        return f"the tile in the {op['from']} cell slides into the empty {op['to']} cell"

    @staticmethod
    def _box(index, size, offset=(0.0, 0.0)):
        step = size * 0.7 / SIDE
        row, col = divmod(index, SIDE)
        x0, y0 = size * 0.15 + (col + offset[0]) * step, size * 0.15 + (row + offset[1]) * step
        return [x0 + 3, y0 + 3, x0 + step - 3, y0 + step - 3]

    def _frame(self, draw, size):
        draw.rectangle(
            [size * 0.15 - 4, size * 0.15 - 4, size * 0.85 + 4, size * 0.85 + 4], outline=INDEX["ink"], width=3
        )

    def draw_state(self, draw, state, size):
        self._frame(draw, size)
        for index, value in enumerate(state):
            if value:
                box = self._box(index, size)
                draw.rectangle(box, fill=INDEX["light"], outline=INDEX["ink"], width=2)
                text(draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), str(value), size // 10)

    def draw_op(self, draw, op, before, progress, size):
        self._frame(draw, size)
        source, target = POSITIONS.index(op["from"]), POSITIONS.index(op["to"])
        for index, value in enumerate(before):
            if value and index != source:
                draw.rectangle(self._box(index, size), fill=INDEX["grey"], outline=INDEX["ink"], width=2)
        (r1, c1), (r2, c2) = divmod(source, SIDE), divmod(target, SIDE)
        t = smooth(progress)
        draw.rectangle(
            self._box(source, size, ((c2 - c1) * t, (r2 - r1) * t)), fill=INDEX["orange"], outline=INDEX["ink"], width=2
        )


GAMES = [CardPile(), ChipCups(), FileSystem(), MathTrail(), ShellGrid(), SlidingPuzzle()]
