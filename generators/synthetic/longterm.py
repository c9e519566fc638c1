"""Long-term state tracking: a hidden state changed by a sequence of visible operations.

Each video has three phases: an initial reveal (``reveal_seconds``; S0 or a blank screen), one
animated operation after another (``op_seconds`` each, a short pause between), and a final reveal
(S_T or blank). Exactly one of S0 and S_T is shown, the operations always are, and no state is
ever drawn during the operations, so every answer needs the operations to be followed in order:

- forward: S0 shown, the question is about S_T;
- retrodictive: S_T shown, the question is about S0 (undo the operations in reverse);
- historical: either shown, the question is about a state in between or the operations' history.

A game says how to draw a state and an operation, which operations are legal, and which questions
it asks. ``solve`` replays the logged operations from S0, checks every logged state on the way,
and evaluates the question on the replayed state.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np

from videolake.generators.base import CannotGenerate, sample_range
from videolake.generators.synthetic import qa
from videolake.generators.synthetic.qa import Step
from videolake.generators.synthetic.render import PalettedVideo, blank, fps_of, frame_ms, text

MODES = ("forward", "retrodictive", "historical")
PAUSE_SECONDS = 0.25


class Game:
    """One long-term scenario. Subclasses implement the state, the operations and the questions."""

    name: str
    # Which reveal is shown per mode; historical picks one at random when both are listed.
    shown_for: ClassVar[dict] = {
        "forward": ("initial",),
        "retrodictive": ("final",),
        "historical": ("initial", "final"),
    }

    def initial(self, settings, rng):
        raise NotImplementedError

    def random_op(self, state, rng) -> dict:
        raise NotImplementedError

    def apply(self, state, op: dict):
        """The state after ``op``; raises ValueError when ``op`` is not legal in ``state``."""
        raise NotImplementedError

    def plan(self, settings, rng, initial) -> list[dict]:
        """The operation sequence: ``operations`` random legal operations by default."""
        state, ops = initial, []
        for _ in range(sample_range(rng, settings["operations"], integer=True)):
            ops.append(self.random_op(state, rng))
            state = self.apply(state, ops[-1])
        return ops

    def ask(self, meta: dict, rng) -> tuple[dict, int]:
        """(query without options, index of the state it is about); the query carries the template."""
        raise NotImplementedError

    def value(self, state, query: dict) -> str:
        """The answer text for ``query`` evaluated on ``state``."""
        raise NotImplementedError

    def describe_state(self, state) -> str:
        raise NotImplementedError

    def describe_op(self, op: dict) -> str:
        raise NotImplementedError

    def draw_state(self, draw, state, size: int) -> None:
        raise NotImplementedError

    def draw_op(self, draw, op: dict, before, progress: float, size: int) -> None:
        raise NotImplementedError

    def hidden_text(self) -> str:
        return "?"

    # ---- shared machinery -------------------------------------------------------------------

    def options(self, meta: dict, query: dict, truth: str, answers: list[str] | None, count: int, rng) -> list[str]:
        """``count`` option texts holding ``truth``, built so the truth is exchangeable among
        them (``qa.star_options``, ``qa.number_window`` or ``qa.uniform_options``); ``answers``:
        for a balanced kind, the answers the truth was drawn uniformly from."""
        raise NotImplementedError

    # Kinds of question whose answers ``qa.balanced`` flattens (a small set of answers, some of
    # which random worlds reach far more often); the others have too many answers to repeat.
    balanced_kinds: ClassVar[tuple[str, ...]] = ()

    # ---- shared machinery -------------------------------------------------------------------

    def simulate(self, settings: dict, rng: np.random.Generator) -> dict:
        modes = [m for m in settings["modes"] if m in self.shown_for]
        mode = qa.choose(rng, modes)
        shown = qa.choose(rng, list(self.shown_for[mode]))
        for _ in range(qa.TRIES):
            meta, answers = self._pose(settings, rng, mode, shown), None
            if meta["query"]["kind"] in self.balanced_kinds:
                meta, answers = qa.balanced(
                    lambda: self._pose(settings, rng, mode, shown),
                    self.answer_key,
                    rng,
                    pilots=qa.PILOTS - 1,
                    first=meta,
                )
            query = meta["query"]
            count, prompt = query.pop("count", settings["options"]), query.pop("prompt")
            try:
                options = self.options(meta, query, self._truth(meta), answers, count, rng)
            except qa.Unlucky:
                continue
            meta["query"] = qa.multiple_choice(query.pop("kind"), prompt, options, **query)
            return meta
        raise CannotGenerate(
            f"{self.name}: no world in {qa.TRIES} draws has enough distinct options; loosen the parameters"
        )

    def _pose(self, settings: dict, rng, mode: str, shown: str) -> dict:
        """The world and its question, without options."""
        fps = settings["fps"]
        states = [self.initial(settings, rng)]
        operations = []
        frame = round(settings["reveal_seconds"] * fps)
        for index, op in enumerate(self.plan(settings, rng, states[0])):
            length = round(sample_range(rng, settings["op_seconds"]) * fps)
            op.update(
                index=index + 1,
                start_frame=frame,
                end_frame=frame + length,
                start_ms=frame_ms(frame, fps),
                end_ms=frame_ms(frame + length, fps),
            )
            operations.append(op)
            states.append(self.apply(states[-1], op))
            frame += length + round(PAUSE_SECONDS * fps)
        final_start = frame
        meta = {
            "scenario": self.name,
            "fps": f"{fps}/1",
            "num_frames": final_start + round(settings["reveal_seconds"] * fps),
            "size": settings["size"],
            "mode": mode,
            "shown": shown,
            "reveal": {
                "initial": [0, operations[0]["start_frame"]],
                "final": [final_start, final_start + round(settings["reveal_seconds"] * fps)],
            },
            "states": states,
            "operations": operations,
            "events": [{"type": "reveal", "frame": 0, "ms": 0, "state": "initial", "shown": shown == "initial"}]
            + [
                {"type": "operation", "frame": op["start_frame"], "ms": op["start_ms"], "index": op["index"]}
                for op in operations
            ]
            + [
                {
                    "type": "reveal",
                    "frame": final_start,
                    "ms": frame_ms(final_start, fps),
                    "state": "final",
                    "shown": shown == "final",
                }
            ],
        }
        query, state_index = self.ask(meta, rng)
        query["state_index"] = state_index
        meta["query"] = query
        return meta

    def _truth(self, meta: dict) -> str:
        return self.value(meta["states"][meta["query"]["state_index"]], meta["query"])

    def answer_key(self, meta: dict) -> tuple:
        """(kind, answer) that ``qa.balanced`` flattens; a game whose answers are names drawn per
        world (objects, cards) says instead which role the answer plays in its world."""
        return meta["query"]["kind"], self._truth(meta)

    def replay(self, meta: dict) -> list:
        """States from S0 by the logged operations; a logged state that disagrees is an error."""
        states = [copy.deepcopy(meta["states"][0])]
        for op, logged in zip(meta["operations"], meta["states"][1:]):
            states.append(self.apply(states[-1], op))
            if states[-1] != logged:
                raise ValueError(f"operation {op['index']} does not lead to the logged state")
        return states

    def solve(self, meta: dict) -> str:
        query = meta["query"]
        return self.value(self.replay(meta)[query["state_index"]], query)

    def narrate(self, meta: dict):
        states = self.replay(meta)
        final_ms = frame_ms(meta["reveal"]["final"][0], fps_of(meta))
        steps = []
        if meta["shown"] == "initial":
            opening = "I note the initial state, then follow every operation in order."
            steps.append(Step(0, f"the initial state is shown: {self.describe_state(states[0])}."))
            for op, after in zip(meta["operations"], states[1:]):
                steps.append(
                    Step(
                        op["start_ms"],
                        f"operation {op['index']}: {self.describe_op(op)}. Now: {self.describe_state(after)}.",
                    )
                )
            steps.append(Step(final_ms, "the final state is not shown."))
            conclusion = f"After all {len(meta['operations'])} operations: {self.describe_state(states[-1])}."
        else:
            opening = "The initial state is hidden, so I note every operation and work backwards from the final state."
            steps.append(Step(0, "the initial state is not shown."))
            for op in meta["operations"]:
                steps.append(Step(op["start_ms"], f"operation {op['index']}: {self.describe_op(op)}."))
            steps.append(Step(final_ms, f"the final state is shown: {self.describe_state(states[-1])}."))
            undo = [
                f"Undoing operation {op['index']} gives: {self.describe_state(before)}."
                for op, before in zip(reversed(meta["operations"]), reversed(states[:-1]))
            ]
            conclusion = "\n".join(undo)
        index = meta["query"]["state_index"]
        where = (
            "the start" if index == 0 else "the end" if index == len(states) - 1 else f"the end of operation {index}"
        )
        conclusion += f"\nThe question is about the state at {where}: {self.describe_state(states[index])}."
        return opening, steps, conclusion

    def render(self, meta: dict) -> PalettedVideo:
        size = meta["size"]
        operations, states = meta["operations"], meta["states"]
        initial_end, (final_start, _) = meta["reveal"]["initial"][1], meta["reveal"]["final"]

        def draw_frame(frame: int):
            image, draw = blank(size)
            if frame < initial_end or frame >= final_start:
                phase = "initial" if frame < initial_end else "final"
                if meta["shown"] == phase:
                    self.draw_state(draw, states[0] if phase == "initial" else states[-1], size)
                else:
                    text(draw, (size / 2, size / 2), self.hidden_text(), size // 6, "grey")
                return image
            for op, before in zip(operations, states):
                if frame < op["end_frame"]:
                    progress = max(0.0, (frame - op["start_frame"]) / max(1, op["end_frame"] - op["start_frame"] - 1))
                    self.draw_op(draw, op, before, min(progress, 1.0) if frame >= op["start_frame"] else 0.0, size)
                    return image
            self.draw_op(draw, operations[-1], states[-2], 1.0, size)
            return image

        return PalettedVideo(meta["num_frames"], size, draw_frame)
