"""SynRL scenarios: answers against the simulation, distractors, traces, determinism, and the pixels."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from videolake.generators import synthetic
from videolake.generators.synthetic import games, motion, qa
from videolake.generators.synthetic.render import (
    INDEX,
    OBJECT_COLOURS,
    PALETTE_RGB,
    clock,
)
from videolake.pipeline.encode import decode_mp4, encode_mp4

SCENARIOS = list(synthetic.SCENARIOS)
SEEDS = range(6)


def make(name: str, seed: int, **params):
    return synthetic.generate(None, name, params, np.random.default_rng(seed))


def expected_from_simulation(meta: dict) -> str:
    """The answer from the simulation's own record (event log, chosen profile, logged states),
    a different path from ``solve``, which reads the per-frame tracks or replays operations."""
    name, events, query = meta["scenario"], meta["events"], meta["query"]
    kinds = [e["type"] for e in events]
    if name == "collision_count":
        return str(kinds.count("wall"))
    if name == "direction":
        start, turn = events
        return f"First {start['heading']}, then {turn['heading']}."
    if name == "trajectory_shape":
        return motion.SHAPE_TEXT[meta["profile"]]
    if name == "speed_perception":
        return motion.SPEED_TEXT[meta["profile"]]
    if name == "motion_count":
        return str(kinds.count("move_start"))
    if name == "attribute_change":
        changes = [e for e in events if e["type"] == "change"]
        return motion.ATTRIBUTE_TEXT[changes[0]["attribute"] if changes else "none"]
    if name == "rotation":
        return (
            str(kinds.count("turn_completed")) if query["kind"] == "turns" else motion.SPIN_TEXT[events[0]["direction"]]
        )
    if name == "relative_position":
        return str(kinds.count("crossing"))
    if name == "acceleration_detection":
        return meta["objects"][0]["name"]
    if name == "velocity_comparison":
        return " > ".join(o["name"] for o in sorted(meta["objects"], key=lambda o: -o["speed"]))
    if name == "distance_estimation":
        return motion.TREND_TEXT[meta["profile"]]
    if name == "event_ordering":
        names = {o["id"]: o["name"] for o in meta["objects"]}
        return ", then ".join(names[e["object"]] for e in events)
    game = next(g for g in games.GAMES if g.name == name)
    return game.value(meta["states"][query["state_index"]], query)


@pytest.mark.parametrize("name", SCENARIOS)
def test_answer_matches_the_simulation(name):
    for seed in SEEDS:
        sample = make(name, seed)
        truth = expected_from_simulation(sample.meta)
        assert sample.answer == qa.answer_for(sample.meta["query"], truth), (name, seed)
        assert synthetic.derive_answer(sample.meta) == sample.answer


@pytest.mark.parametrize("name", SCENARIOS)
def test_distractors_are_distinct_and_never_the_answer(name):
    for seed in range(25):
        query = make(name, seed).meta["query"]
        if query["options"] is None:
            continue
        options = query["options"]
        assert len(options) == len(set(options)) >= 2
        truth = expected_from_simulation(make(name, seed).meta)
        assert options.count(truth) == 1
        assert all(f"{letter}. {option}" in query["text"] for letter, option in zip(qa.LETTERS, options))


@pytest.mark.parametrize("name", SCENARIOS)
def test_traces_cite_only_logged_events_in_time_order_and_end_with_the_answer(name):
    for seed in SEEDS:
        sample = make(name, seed)
        logged = {clock(e["ms"]) for e in sample.meta["events"]} | {
            clock(op["start_ms"]) for op in sample.meta.get("operations", [])
        }
        cited = qa.trace_timestamps(sample.reasoning)
        assert cited, "a trace quotes at least one moment"
        assert set(cited) <= logged, (name, seed, sorted(set(cited) - logged))
        assert cited == sorted(cited)
        assert sample.reasoning.splitlines()[-1] == f"Answer: {qa.answer_text(sample.meta['query'], sample.answer)}"


def test_every_scenario_changes_over_time():
    """Cheap guard: some frame differs from the first, so the video shows motion at all."""
    for name in SCENARIOS:
        video = make(name, 0, size=64).clips[0]
        frames = video.rgb()
        assert (frames != frames[:1]).any(axis=(1, 2, 3)).sum() > video.num_frames // 4, name


def test_same_seed_same_sample_and_bytes():
    for name in ("collision_count", "grid_shell"):
        a, b = make(name, 7, size=96), make(name, 7, size=96)
        assert (a.meta, a.question, a.answer, a.reasoning) == (b.meta, b.question, b.answer, b.reasoning)
        assert encode_mp4(a.clips[0], Fraction(30)) == encode_mp4(b.clips[0], Fraction(30))
    assert make("collision_count", 7).meta != make("collision_count", 8).meta


def test_difficulty_is_a_parameter():
    short = make("card_pile", 3, operations=[2, 2])
    long = make("card_pile", 3, operations=[9, 9], op_seconds=[1.0, 1.0])
    assert len(short.meta["operations"]) == 2 and len(long.meta["operations"]) == 9
    assert long.meta["num_frames"] > short.meta["num_frames"]
    assert make("collision_count", 1, duration=[8.0, 8.0]).meta["num_frames"] == 240
    with pytest.raises(ValueError, match="unknown synrl parameter"):
        make("rotation", 0, sped=2)
    with pytest.raises(ValueError, match="even integer"):
        make("rotation", 0, size=101)


# ---- hand-checked state operations -----------------------------------------------------------


def test_math_expression_order_of_operations():
    assert games.evaluate("3+4*2") == 11
    assert games.evaluate("8/2*3-1") == 11
    assert games.evaluate("153+12+24/8+3*4+5") == 185
    assert games.evaluate("3+4*2", precedence=False) == 14
    assert games.number_text(games.evaluate("7/2")) == "3.50"


def test_each_card_operation_moves_the_pile_as_its_rule_says():
    pile = games.CardPile()
    state = ["8S", "10C", "JC"]
    assert pile.apply(state, {"op": "to_bottom"}) == ["10C", "JC", "8S"]
    assert pile.apply(state, {"op": "swap_top"}) == ["10C", "8S", "JC"]
    assert pile.apply(state, {"op": "deal", "card": "8S"}) == ["10C", "JC"]
    assert pile.apply(state, {"op": "insert", "card": "AH"}) == ["AH", "8S", "10C", "JC"]
    with pytest.raises(ValueError):
        pile.apply(state, {"op": "deal", "card": "JC"})
    assert games.card_name("10D") == "10 of Diamonds" and games.card_name("AH") == "Ace of Hearts"


def test_cup_file_grid_and_puzzle_operations():
    cups = games.ChipCups()
    state = {"A": [5, 20], "B": [], "C": [100]}
    assert cups.apply(state, {"op": "move", "cup": "A", "to": "B", "chip": 20}) == {"A": [5], "B": [20], "C": [100]}
    assert cups.apply(state, {"op": "add", "cup": "C", "chip": 5}) == {"A": [5, 20], "B": [], "C": [5, 100]}
    with pytest.raises(ValueError):
        cups.apply(state, {"op": "remove", "cup": "B", "chip": 5})

    files = games.FileSystem()
    fs = {"files": ["README.md", "main.py"], "deleted": []}
    fs = files.apply(fs, {"op": "mv", "name": "main.py", "to": "app.js"})
    fs = files.apply(fs, {"op": "rm", "name": "README.md"})
    assert fs == {"files": ["app.js"], "deleted": ["README.md"]}
    assert files.value(fs, {"kind": "deleted", "name": "README.md"}) == "Yes"
    assert files.value(fs, {"kind": "deleted", "name": "main.py"}) == "No"  # moved, not deleted

    grid = games.ShellGrid()
    board = {"cells": {"b1": "orange circle", "c2": "blue square"}, "covered": True}
    board = grid.apply(board, {"op": "swap", "pos1": "b1", "pos2": "a1"})
    board = grid.apply(board, {"op": "swap", "pos1": "a1", "pos2": "c2"})
    assert board["cells"] == {"a1": "blue square", "c2": "orange circle"}  # Figure 3's first two swaps

    puzzle = games.SlidingPuzzle()
    start = [1, 2, 3, 4, 0, 5, 6, 7, 8]
    moved = puzzle.apply(start, {"op": "slide", "from": "middle-right", "to": "centre"})
    assert moved == [1, 2, 3, 4, 5, 0, 6, 7, 8]
    with pytest.raises(ValueError):
        puzzle.apply(start, {"op": "slide", "from": "top-left", "to": "centre"})


def test_validate_catches_a_tampered_state_history():
    meta = make("card_pile", 2).meta
    meta["states"][-1] = list(reversed(meta["states"][-1]))
    with pytest.raises(ValueError, match="logged state"):
        synthetic.derive_answer(meta)


# ---- the pixels agree with the metadata (encoded, then decoded) -------------------------------

SIZE = 192


def decoded(sample) -> np.ndarray:
    return decode_mp4(encode_mp4(sample.clips[0], Fraction(30))).astype(int)


def colour_close(pixel, name: str, tolerance: int = 45) -> bool:
    return bool(np.abs(pixel - PALETTE_RGB[INDEX[name]].astype(int)).max() <= tolerance)


@pytest.mark.parametrize("name", [s for s in SCENARIOS if synthetic.SCENARIOS[s].horizon == "short"])
def test_motion_objects_are_where_the_track_says(name):
    """At the first, middle and last frame and at every logged event, each object's logged centre
    shows its logged colour; a bad track, bad render or bad timing fails this."""
    sample = make(name, 4, size=SIZE)
    frames, meta = decoded(sample), sample.meta
    assert len(frames) == meta["num_frames"]
    moments = {0, meta["num_frames"] // 2, meta["num_frames"] - 1} | {e["frame"] for e in meta["events"]}
    for frame in sorted(moments):
        for obj in meta["objects"]:
            x, y, _ = obj["track"][frame]
            colour = motion.attributes_at(obj, frame)["colour"]
            assert colour_close(frames[frame, round(y * SIZE), round(x * SIZE)], colour), (name, frame, obj["name"])


def test_rotation_orientation_is_visible():
    """The tee's / arrow's pixel centroid lies towards its head, at the logged angle."""
    for seed in range(4):
        sample = make("rotation", seed, size=SIZE)
        frames, obj = decoded(sample), sample.meta["objects"][0]
        for frame in (0, len(frames) // 2, len(frames) - 1):
            x, y, angle = obj["track"][frame]
            mask = np.all(np.abs(frames[frame] - PALETTE_RGB[INDEX[obj["colour"]]].astype(int)) < 45, axis=-1)
            rows, cols = np.nonzero(mask)
            near = np.hypot(cols - x * SIZE, rows - y * SIZE) <= obj["radius"] * SIZE * 1.5  # the object, not the walls
            dx, dy = cols[near].mean() - x * SIZE, rows[near].mean() - y * SIZE
            # "up" (0, -1) rotated clockwise on screen by the logged angle
            heading = np.array([np.sin(np.radians(angle)), -np.cos(np.radians(angle))])
            assert np.dot([dx, dy], heading) / np.hypot(dx, dy) > 0.7  # within 45 degrees: the right quadrant


def revealed(sample) -> tuple[np.ndarray, object]:
    """A decoded frame in the middle of the shown reveal, and the state it shows."""
    meta = sample.meta
    start, end = meta["reveal"][meta["shown"]]
    state = meta["states"][0] if meta["shown"] == "initial" else meta["states"][-1]
    return decoded(sample)[(start + end) // 2], state


def test_grid_reveal_shows_the_logged_cells():
    for seed in range(3):
        sample = make("grid_shell", seed, size=SIZE)
        frame, state = revealed(sample)
        for cell in games.CELLS:
            pixel = frame[tuple(round(v) for v in games.ShellGrid._centre(cell, SIZE))[::-1]]
            if cell in state["cells"]:
                assert colour_close(pixel, state["cells"][cell].split(" ")[0]), (seed, cell)
            else:
                assert colour_close(pixel, "background"), (seed, cell)


def test_card_reveal_shows_the_logged_pile():
    """One card per logged card, red lettering exactly on hearts and diamonds."""
    for seed in range(3):
        sample = make("card_pile", seed, size=SIZE)
        frame, pile = revealed(sample)
        slots = len(pile) + 1
        for k in range(slots):
            x0, y0, x1, y1 = (round(v) for v in games.CardPile._slot(SIZE, k, slots))
            box = frame[y0 + 4 : y1 - 3, x0 + 4 : x1 - 3]
            red = np.any(np.all(np.abs(box - PALETTE_RGB[INDEX["card_red"]]) < 60, axis=-1))
            dark = np.any(np.all(box < 90, axis=-1))
            assert (red or dark) == (k < len(pile)), (seed, k)
            if k < len(pile):
                assert red == (pile[k][-1] in "HD"), (seed, k, pile[k])


def test_cups_reveal_shows_the_logged_chips():
    for seed in range(3):
        sample = make("chip_cups", seed, size=SIZE)
        frame, cups = revealed(sample)
        for cup, chips in cups.items():
            cx, cy = games.ChipCups._cup_centre(SIZE, cup)
            for k in range(len(chips) + 1):
                x, y = cx + (k % 2 - 0.5) * SIZE * 0.085, cy - SIZE * (0.2 + 0.085 * (k // 2))
                r = round(SIZE * 0.04)
                disc = frame[round(y) - r : round(y) + r, round(x) - r : round(x) + r]
                yellow = np.mean(np.all(np.abs(disc - PALETTE_RGB[INDEX["yellow"]]) < 60, axis=-1))
                assert (yellow > 0.15) == (k < len(chips)), (seed, cup, k, yellow)
                assert yellow > 0.15 or yellow < 0.05


def test_file_listing_reveal_has_one_line_per_logged_file():
    for seed in range(3):
        sample = make("file_system", seed, size=SIZE)
        frame, state = revealed(sample)
        lit = np.all(frame > 180, axis=-1)
        for k in range(len(state["files"]) + 1):
            y = round(SIZE * (0.2 + 0.07 * k))
            band = lit[y - 4 : y + 5, round(SIZE * 0.1) :]
            assert band.any() == (k < max(1, len(state["files"]))), (seed, k)


def test_sliding_puzzle_reveal_and_moves():
    for seed in range(3):
        sample = make("sliding_puzzle", seed, size=SIZE)
        frame, board = revealed(sample)
        for index, value in enumerate(board):
            x0, y0, x1, y1 = games.SlidingPuzzle._box(index, SIZE)
            corner = frame[round(y0) + 3, round(x0) + 3]
            assert colour_close(corner, "light" if value else "background"), (seed, index)
        frames = decoded(sample)
        for op in sample.meta["operations"]:
            for frame_index, cell in ((op["start_frame"], op["from"]), (op["end_frame"] - 1, op["to"])):
                x0, y0, x1, y1 = games.SlidingPuzzle._box(games.POSITIONS.index(cell), SIZE)
                assert colour_close(frames[frame_index, round((y0 + y1) / 2), round((x0 + x1) / 2)], "orange")


def test_math_symbols_are_drawn_one_at_a_time():
    """Ink appears by the end of each symbol and is wiped before the next; '-' is flat, digits tall."""
    sample = make("math_trail", 5, size=SIZE)
    frames = decoded(sample)
    for op in sample.meta["operations"]:
        ink = np.all(frames[op["end_frame"] - 1] < 90, axis=-1)
        rows, cols = np.nonzero(ink)
        assert len(rows), op
        height, width = np.ptp(rows), np.ptp(cols)
        if op["symbol"] == "-":
            assert height < width / 3
        elif op["symbol"].isdigit() and op["symbol"] != "1":
            assert height > width
    for op, following in zip(sample.meta["operations"], sample.meta["operations"][1:]):
        for pause in range(op["end_frame"], following["start_frame"] + 1):
            assert not np.all(frames[pause] < 90, axis=-1).any(), (op, pause)


def test_object_colours_stay_distinguishable_after_encoding():
    """Every named colour survives H.264 within the tolerance the pixel tests use."""
    from videolake.generators.synthetic.render import PalettedVideo, blank

    def draw(frame):
        image, canvas = blank(SIZE)
        for k, name in enumerate(OBJECT_COLOURS):
            canvas.rectangle([k * 20, 40, k * 20 + 18, 120], fill=INDEX[name])
        return image

    frame = decode_mp4(encode_mp4(PalettedVideo(2, SIZE, draw), Fraction(30)))[0].astype(int)
    for k, name in enumerate(OBJECT_COLOURS):
        assert colour_close(frame[80, k * 20 + 9], name, 25), name


def test_incremental_yuv_equals_whole_frame_conversion():
    from videolake.pipeline.encode import paletted_to_yuv420p, rgb_to_yuv420p

    for name in ("velocity_comparison", "file_system"):
        video = make(name, 2, size=96).clips[0]
        whole = rgb_to_yuv420p(video.rgb())
        incremental = [planes.copy() for planes in paletted_to_yuv420p(video.index_frames(), video.palette)]
        assert np.array_equal(np.stack(incremental), whole)
