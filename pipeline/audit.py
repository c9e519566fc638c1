"""`videolake audit DIR`: blind baselines that prove a question needs the video.

Nothing a model receives besides the frames (the question text, the option set, the number of
videos, their frame count and duration, the answer's own prior) may predict the answer above
chance. Per task/subtype/tier, every baseline below guesses from those alone and is scored with the
task's own reward in ``score``'s strict mode (``benchmark_metric``), so its accuracy reads like a
model's on the benchmark:

- option-only pickers (multiple choice): centrality (the option closest to all others: numbers by
  |a - b|, equal-length token lists by Hamming distance, other text by edit distance over
  characters, or over words when an option is a sentence), odd one out (the farthest), longest
  and shortest text;
- fitted on one half of the group (ids split by CRC-32, so the split is the same on every host) and
  scored on the other: the letter prior, the option-text prior, an n-gram naive Bayes
  text-only classifier, the majority answer, the best constant count / interval (in fractions of
  the video) / box (in fractions of the frame), and a frame-count predictor (the fitted majority
  answer of the records with the same number of videos and frames, else the nearest frame count);
- for tracking, copying the first box, which the question states: reported, never flagged.

Chance is the task's random row (``TASKS[task].random_guess``, the baseline of ``videolake score``),
averaged over seeded draws (CHANCE_DRAWS per record, fewer in large groups), on the scored half.
A baseline flags its group as answerable without the video when the lower end of its Wilson 95 %
interval (the score's mean taken as a success rate over the scored records: conservative for a
score in [0, 1]) exceeds chance + margin, over at least MIN_SCORED scored records.
Only text columns are read (never the video bytes), so a 30K-record dataset audits in seconds.
"""

from __future__ import annotations

import json
import math
import re
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.pipeline.dataset import (
    META_ERRORS,
    composition_key,
    reading_record,
    record_meta,
)
from videolake.pipeline.shards import read_shard
from videolake.rewards import benchmark_metric, compute_score, ideal_completion, parse, truth_interval
from videolake.rewards.scores import merge_intervals

COLUMNS = ["id", "task", "subtype", "tier", "question", "answer", "fps", "meta"]
MARGIN = 0.05  # a baseline is flagged above chance + 5 points
# Fewer scored questions than this never flag: with a handful, one lucky picker among eight clears the
# Wilson bound (one card_pile question of a 1-per-subtype build "was answerable" at 1 of 1).
MIN_SCORED = 20
WILSON_Z = 1.959964  # two-sided 95 %
CHANCE_DRAWS = 8
CHANCE_DRAWS_PER_GROUP = 4_000
LETTERS = "ABCDEFGH"
INTERVAL_FORMS = ("interval", "interval_to", "segments")  # Task.answer_form of the interval tasks
PARTIAL_CREDIT = INTERVAL_FORMS + ("boxes", "counts")  # scored by overlap or per shape: the random guess is their floor
INTERVAL_GRID = np.round(
    np.arange(0, 1.0001, 0.05), 2
)  # candidate starts/ends of the best constant interval, as fractions of the video
MAX_ANSWER_CLASSES = (
    64  # the text classifier of free answers learns the most common ones (memory: classes x vocabulary)
)
STEM_WORDS, OPTION_WORDS = 8, 3  # the classifier pairs the question's first words with each option's first words
WORD = re.compile(r"[a-z0-9]+")
# Reported but never flagged: the question itself gives what it copies.
REFERENCE_BASELINES = ("first_box",)


@dataclass(frozen=True)
class Item:
    """One record as a blind model sees it: text, options, and how many videos and frames."""

    id: str
    task: str
    subtype: str
    tier: str
    question: str
    answer: str
    fps: float
    meta_text: str
    meta: dict
    options: tuple[str, ...] | None
    videos: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.fps else 0.0

    @property
    def group(self) -> tuple[str, str, str]:
        return (self.task, self.subtype, self.tier)


def form(task: str) -> str:
    """The task's answer form (``Task.answer_form``): what a blind guess of it looks like."""
    return TASKS[task].answer_form


def fitting_half(record_id: str) -> bool:
    """Which half of a group fits the baselines: a hash of the id, the same on every host."""
    return zlib.crc32(record_id.encode()) % 2 == 0


def options_of(meta: dict) -> tuple[str, ...] | None:
    """The option texts a multiple-choice record lists (synthetic query or annotated row), else None."""
    for holder in (meta.get("annotation"), meta.get("query")):
        if isinstance(holder, dict) and isinstance(holder.get("options"), list):
            return tuple(str(option) for option in holder["options"])
    return None


def make_item(row: dict) -> Item | None:
    """None for a record of a task this videolake does not know; meta of the wrong shape is one line naming the record."""
    task = TASKS.get(row["task"])
    if task is None:
        return None
    meta = record_meta(row)
    with reading_record(row):
        lengths = task.video_lengths(meta)
    return Item(
        row["id"],
        row["task"],
        row["subtype"],
        row["tier"],
        row["question"],
        row["answer"],
        float(row["fps"]),
        row["meta"],
        meta,
        options_of(meta),
        len(lengths),
        int(sum(lengths)),
    )


def read_rows(paths: Iterable[Path]) -> list[dict]:
    """The audit's columns of shard files (``build`` audits its shards before the manifest exists);
    the video bytes stay on disk (memory-mapped, never touched)."""
    rows = []
    for path in paths:
        rows.extend(read_shard(path).select(COLUMNS).to_pylist())
    return rows


# ---- scoring ---------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 17)
def metric(task: str, completion: str, truth: str, meta_text: str | None) -> float:
    """The benchmark metric of one completion, in [0, 1], as ``videolake score`` computes it.
    Cached: blind guesses repeat (a letter, a constant) and the reward parses every call."""
    return benchmark_metric(task, compute_score(task, completion, truth, {"reward_mode": "strict", "meta": meta_text}))


def score_completion(item: Item, completion: str) -> float:
    # Only MUSEG's reward reads meta (its stage, for the format term): other tasks share cache entries across records.
    try:
        return metric(item.task, completion, item.answer, item.meta_text if form(item.task) == "segments" else None)
    except META_ERRORS as err:
        raise VideolakeError(
            f"{item.id}: its answer {item.answer[:60]!r} cannot be scored ({type(err).__name__}: {str(err)[:120]})"
        ) from err


def score_guess(item: Item, guess: str) -> float:
    """A guess written like the ground truth, scored as the task's prompt asks it to be written."""
    try:
        completion = ideal_completion(item.task, guess)
    except (ValueError, KeyError, TypeError):
        return 0.0
    return score_completion(item, completion)


def wilson_lower(mean: float, n: int, z: float = WILSON_Z) -> float:
    """Lower end of the Wilson score interval for a success rate ``mean`` over ``n`` trials."""
    if n == 0:
        return 0.0
    centre = mean + z * z / (2 * n)
    spread = z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def chance_score(items: list[Item], seed: int = 0) -> float:
    """Expected score of the task's random guesser over ``items``: the mean of about CHANCE_DRAWS_PER_GROUP
    seeded draws (at least one, at most CHANCE_DRAWS per record): a standard error under a point."""
    rng = np.random.default_rng(seed)
    draws = min(CHANCE_DRAWS, max(1, math.ceil(CHANCE_DRAWS_PER_GROUP / len(items))))
    total = 0.0
    for item in items:
        guess = TASKS[item.task].random_guess
        guesses = Counter(guess(item.meta, item.fps, rng) for _ in range(draws))  # a deterministic guess is scored once
        total += sum(count * score_completion(item, completion) for completion, count in guesses.items()) / draws
    return total / len(items)


COMMON_ANSWER_SHARE = 0.01  # answers rarer than this are the tails of an open answer's range


def range_guess_score(items: list[Item]) -> float:
    """The blind floor of an open answer: one of the answers the group gives (those that recur and
    hold at least 1 % of it) guessed uniformly. A model that knows only the range scores this
    without watching, so an open question is answerable without the video when a baseline beats
    it, not when it beats the task's random guess (a digit 0-9 for a SynRL count, whatever the
    range). No answer recurring (few records, or answers of many values) leaves the random guess."""
    answers = Counter(item.answer for item in items)
    common = [a for a, n in answers.items() if n >= max(2, COMMON_ANSWER_SHARE * len(items))]
    return 1 / len(common) if common else 0.0


# ---- option-only pickers -----------------------------------------------------------------------


CHARACTER_EDIT_LIMIT = (
    24  # options all up to this long compare by characters; a set with a longer one (sentences) by words
)


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance of two sequences, bit-parallel (Myers 1999, Hyyrö's form): one pass over
    ``b`` with ``a``'s columns as the bits of Python integers, ten times faster than the table."""
    if not a or not b:
        return len(a) + len(b)
    match: dict = {}
    for i, symbol in enumerate(a):
        match[symbol] = match.get(symbol, 0) | (1 << i)
    full, last = (1 << len(a)) - 1, 1 << (len(a) - 1)
    plus, minus, distance = full, 0, len(a)
    for symbol in b:
        equal = match.get(symbol, 0)
        vertical = equal | minus
        horizontal = ((((equal & plus) + plus) & full) ^ plus) | equal
        horizontal_plus = (minus | ~(horizontal | plus)) & full
        horizontal_minus = plus & horizontal
        distance += (horizontal_plus & last != 0) - (horizontal_minus & last != 0)
        horizontal_plus = ((horizontal_plus << 1) | 1) & full
        horizontal_minus = (horizontal_minus << 1) & full
        plus = (horizontal_minus | ~(vertical | horizontal_plus)) & full
        minus = horizontal_plus & vertical
    return distance


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def option_distances(options: tuple[str, ...]) -> np.ndarray:
    """Pairwise distances: numbers by |a - b|, equal-length token lists (orders) by Hamming, else edit
    distance over characters, or over words for options longer than CHARACTER_EDIT_LIMIT."""
    numbers = [as_number(option) for option in options]
    tokens = [WORD.findall(option.lower()) for option in options]
    if all(n is not None for n in numbers):
        measure = lambda i, j: abs(numbers[i] - numbers[j])  # noqa: E731
    elif len({len(t) for t in tokens}) == 1 and len(tokens[0]) > 1:
        measure = lambda i, j: sum(x != y for x, y in zip(tokens[i], tokens[j]))  # noqa: E731
    else:
        by_words = max(len(option) for option in options) > CHARACTER_EDIT_LIMIT
        sequences = tokens if by_words else options
        measure = lambda i, j: edit_distance(sequences[i], sequences[j])  # noqa: E731
    k = len(options)
    distance = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            distance[i, j] = distance[j, i] = measure(i, j)
    return distance


def tie_broken_best(values: Iterable[float], record_id: str) -> int:
    """Index of the largest value; a tie goes to the candidate the record's id hashes to, so no letter is favoured."""
    values = list(values)
    top = max(values)
    best = [k for k, value in enumerate(values) if value >= top - 1e-12]
    return best[zlib.crc32(record_id.encode()) % len(best)] if len(best) > 1 else best[0]


def picker(rule: Callable[[tuple[str, ...]], Iterable[float]]) -> Callable[[Item], str | None]:
    def pick(item: Item) -> str | None:
        return LETTERS[tie_broken_best(rule(item.options), item.id)] if item.options else None

    return pick


OPTION_PICKERS = {
    "central": picker(lambda options: -option_distances(options).sum(axis=1)),
    "odd_one_out": picker(lambda options: option_distances(options).sum(axis=1)),
    "longest": picker(lambda options: [len(option) for option in options]),
    "shortest": picker(lambda options: [-len(option) for option in options]),
}


# ---- fitted baselines --------------------------------------------------------------------------


def truth_letter(item: Item) -> str:
    return json.loads(item.answer)["answer"] if form(item.task) == "letter_glue" else item.answer


def majority(values: Iterable[str]) -> str | None:
    """The most common value; ties go to the smallest, so the fit is the same in every run."""
    counts = Counter(values)
    if not counts:
        return None
    top = max(counts.values())
    return min(value for value, count in counts.items() if count == top)


def words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("<video>", " "))


def ngrams(tokens: list[str], prefix: str) -> list[str]:
    return [f"{prefix}{t}" for t in tokens] + [f"{prefix}{a}_{b}" for a, b in zip(tokens, tokens[1:])]


def question_stem(item: Item) -> str:
    """The question without its option lines, so option words are not counted twice."""
    text = item.question
    for letter, option in zip(LETTERS, item.options or ()):
        text = text.replace(f"{letter}. {option}", " ")
    return text


class NaiveBayes:
    """Multinomial naive Bayes over n-grams with add-one smoothing: small, deterministic, numpy only.
    Features never seen in fitting are left out of a prediction."""

    def __init__(self, documents: list[list[str]], labels: list[str]):
        self.classes = sorted(set(labels))
        self.vocabulary: dict[str, int] = {}
        index = {label: k for k, label in enumerate(self.classes)}
        rows, columns = [], []
        for features, label in zip(documents, labels):
            rows += [index[label]] * len(features)
            columns += [self.vocabulary.setdefault(feature, len(self.vocabulary)) for feature in features]
        counts = np.ones((len(self.classes), max(1, len(self.vocabulary))))
        np.add.at(counts, (np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64)), 1)
        self.log_likelihood = np.log(counts / counts.sum(axis=1, keepdims=True))
        prior = Counter(labels)
        self.log_prior = np.log(np.array([prior[c] for c in self.classes]) / len(labels))

    def log_posterior(self, features: list[str]) -> np.ndarray:
        known = [self.vocabulary[feature] for feature in features if feature in self.vocabulary]
        return self.log_prior + self.log_likelihood[:, known].sum(axis=1)


def option_features(item: Item) -> list[list[str]]:
    """What a text-only reader sees of each option: its words, its letter, and its words next to the question's."""
    stem = words(question_stem(item))[:STEM_WORDS]
    features = []
    for letter, text in zip(LETTERS, item.options):
        option = words(text)
        features.append(
            ngrams(option, "o:")
            + [f"letter:{letter}", f"whole:{text.lower()}"]
            + [f"q:{q}|o:{o}" for q in stem for o in option[:OPTION_WORDS]]
        )
    return features


def fit_text_classifier(fit: list[Item]) -> Callable[[Item], str | None] | None:
    """Multiple choice: NB of right vs wrong option from the option's text in the question's context,
    the best-scoring option picked. Other answers: NB of the answer string from the question's words."""
    if all(item.options for item in fit):
        documents, labels = [], []
        for item in fit:
            right = truth_letter(item)
            for letter, features in zip(LETTERS, option_features(item)):
                documents.append(features)
                labels.append("right" if letter == right else "wrong")
        if len(set(labels)) < 2:
            return None
        model = NaiveBayes(documents, labels)
        right_class = model.classes.index("right")

        def pick(item: Item) -> str | None:
            if not item.options:
                return None
            posteriors = [model.log_posterior(features) for features in option_features(item)]
            return LETTERS[tie_broken_best([p[right_class] - p[1 - right_class] for p in posteriors], item.id)]

        return pick
    common = {answer for answer, _ in Counter(item.answer for item in fit).most_common(MAX_ANSWER_CLASSES)}
    kept = [item for item in fit if item.answer in common]
    model = NaiveBayes([ngrams(words(item.question), "q:") for item in kept], [item.answer for item in kept])
    return lambda item: model.classes[int(np.argmax(model.log_posterior(ngrams(words(item.question), "q:"))))]


def fit_letter_prior(fit: list[Item]) -> Callable[[Item], str | None]:
    letter = majority(truth_letter(item) for item in fit)
    return lambda item: letter if LETTERS.index(letter) < len(item.options) else None


def fit_option_text_prior(fit: list[Item]) -> Callable[[Item], str | None]:
    """How often each option text was right when it was offered (one pseudo-offer at 1/k smooths it)."""
    right, offered = Counter(), Counter()
    for item in fit:
        if item.options:
            offered.update(item.options)
            right[item.options[LETTERS.index(truth_letter(item))]] += 1

    def pick(item: Item) -> str | None:
        if not item.options:
            return None
        rates = [(right[o] + 1 / len(item.options)) / (offered[o] + 1) for o in item.options]
        return LETTERS[tie_broken_best(rates, item.id)]

    return pick


def fit_majority(fit: list[Item]) -> Callable[[Item], str | None]:
    answer = majority(item.answer for item in fit)
    return lambda item: answer


def fit_best_counts(fit: list[Item]) -> Callable[[Item], str | None] | None:
    """Counting: the most common count of each shape (the best constant under exact match per shape)."""
    fields = [item.answer.split(",") for item in fit]
    if (
        not fields
        or len({len(f) for f in fields}) != 1
        or len(fields[0]) < 2
        or not all(v.strip().isdigit() for f in fields for v in f)
    ):
        return None
    best = ",".join(majority(f[i] for f in fields) for i in range(len(fields[0])))
    return lambda item: best


def fit_by_frame_count(fit: list[Item], label: Callable[[Item], str]) -> Callable[[Item], str | None] | None:
    """The fitted majority label of records with the same (videos, frames); an unseen count takes the
    nearest one's. None when every record has the same count: it would only repeat the majority."""
    if len({(item.videos, item.frames) for item in fit}) < 2:
        return None
    by_key: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item in fit:
        by_key[item.videos][item.frames].append(label(item))
    modes = {
        videos: (np.array(sorted(frames)), [majority(frames[f]) for f in sorted(frames)])
        for videos, frames in by_key.items()
    }

    def predict(item: Item) -> str | None:
        if item.videos not in modes:
            return None
        counts, labels = modes[item.videos]
        nearest = int(np.argmin(np.abs(counts - item.frames)))
        return labels[nearest]

    return predict


def interval_text(task: str, intervals: list[tuple[float, float]]) -> str:
    if form(task) == "interval_to":
        return f"{intervals[0][0]:.2f} to {intervals[0][1]:.2f}"
    return " ".join(f"{s:.2f}-{e:.2f}" for s, e in intervals)


def truth_fractions(item: Item) -> list[tuple[float, float]]:
    """The answer's segments as fractions of the video (merged where they overlap)."""
    segments = parse.parse_segments(item.answer) if form(item.task) == "segments" else [truth_interval(item.answer)]
    return [(s / item.duration, e / item.duration) for s, e in merge_intervals(segments or [])] if item.duration else []


def fit_best_interval(fit: list[Item]) -> Callable[[Item], str | None] | None:
    """The constant [a, b] (fractions of the video, on a 0.05 grid) with the best mean IoU against
    the fitting half's answers (the single-interval reward itself; MUSEG's reward then scores the
    chosen one). The grid is searched with numpy: the reward parses text and would take minutes."""
    if not fit:
        return None
    starts, ends = np.meshgrid(INTERVAL_GRID, INTERVAL_GRID, indexing="ij")
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    total = np.zeros(len(starts))
    for item in fit:
        truth = truth_fractions(item)
        inter = (
            sum(np.clip(np.minimum(ends, e) - np.maximum(starts, s), 0, None) for s, e in truth)
            if truth
            else np.zeros(len(starts))
        )
        union = (ends - starts) + sum(e - s for s, e in truth) - inter
        total += np.divide(inter, union, out=np.zeros(len(starts)), where=union > 0)
    best = tie_broken_best(total.tolist(), "best-interval")
    a, b = float(starts[best]), float(ends[best])
    return lambda item: interval_text(item.task, [(a * item.duration, b * item.duration)])


def frame_size(meta: dict) -> tuple[float, float]:
    w, h = (meta["world"]["size"],) * 2 if "world" in meta else meta["frame_size"]
    return float(w), float(h)


def fit_best_box(fit: list[Item]) -> Callable[[Item], str | None] | None:
    """Tracking: the mean box of the fitting half in fractions of the frame, on every asked frame."""
    relative = []
    for item in fit:
        w, h = frame_size(item.meta)
        relative += [[x1 / w, y1 / h, x2 / w, y2 / h] for x1, y1, x2, y2 in json.loads(item.answer)]
    if not relative:
        return None
    box = np.mean(relative, axis=0)

    def predict(item: Item) -> str:
        w, h = frame_size(item.meta)
        return json.dumps(
            [[round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)]]
            * len(json.loads(item.answer))
        )

    return predict


def copy_first_box(item: Item) -> str:
    """The first box, stated in the question, on every asked frame."""
    boxes = json.loads(item.answer)
    return json.dumps([boxes[0]] * len(boxes))


def with_whole_video_glue(letter_guess: Callable[[Item], str | None]) -> Callable[[Item], str | None]:
    """Grounding QA: the guessed letter with the whole video as its glue (as the random row's)."""

    def guess(item: Item) -> str | None:
        letter = letter_guess(item)
        return None if letter is None else json.dumps({"answer": letter, "segments": [[0.0, round(item.duration, 2)]]})

    return guess


def baselines_for(task: str, fit: list[Item], multiple_choice: bool) -> dict[str, Callable[[Item], str | None]]:
    """Every blind guesser that applies to the group (truth-formatted guesses): the option-only
    pickers and the stated first box always, the others when ``fit`` has records to fit on."""
    found: dict[str, Callable[[Item], str | None] | None]
    if multiple_choice:
        found = dict(OPTION_PICKERS)
        if fit:
            found |= {
                "letter_prior": fit_letter_prior(fit),
                "option_text": fit_option_text_prior(fit),
                "text_nb": fit_text_classifier(fit),
                "frame_count": fit_by_frame_count(fit, truth_letter),
            }
        found = {name: guess for name, guess in found.items() if guess is not None}
        return (
            {name: with_whole_video_glue(guess) for name, guess in found.items()}
            if form(task) == "letter_glue"
            else found
        )
    if form(task) == "boxes":
        found = {"best_box": fit_best_box(fit), "first_box": copy_first_box}
    elif not fit:
        found = {}
    else:
        found = {"majority": fit_majority(fit), "frame_count": fit_by_frame_count(fit, lambda item: item.answer)}
        if form(task) in INTERVAL_FORMS:
            found["best_interval"] = fit_best_interval(fit)
        else:
            found |= {"best_counts": fit_best_counts(fit), "text_nb": fit_text_classifier(fit)}
    return {name: guess for name, guess in found.items() if guess is not None}


# ---- the audit ---------------------------------------------------------------------------------


def audit_group(items: list[Item], margin: float = MARGIN) -> dict:
    """Chance and every baseline of one task/subtype/tier (scores in percent)."""
    items = sorted(items, key=lambda item: item.id)
    fit = [item for item in items if fitting_half(item.id)]
    scored = [item for item in items if not fitting_half(item.id)]
    task, subtype, tier = items[0].group
    row = {
        "task": task,
        "subtype": subtype,
        "tier": tier,
        "n_fit": len(fit),
        "n_scored": len(scored),
        "chance": None,
        "baselines": {},
        "flagged": [],
    }
    if not scored:
        return row
    multiple_choice = all(item.options for item in items)
    chance = (
        chance_score(scored)
        if multiple_choice or form(task) in PARTIAL_CREDIT
        else max(chance_score(scored), range_guess_score(scored))
    )
    row["chance"] = round(100 * chance, 2)
    for name, guess in baselines_for(task, fit, multiple_choice).items():
        guesses = [guess(item) for item in scored]
        accuracy = float(np.mean([score_guess(item, g) if g is not None else 0.0 for item, g in zip(scored, guesses)]))
        lower = wilson_lower(accuracy, len(scored))
        flagged = name not in REFERENCE_BASELINES and len(scored) >= MIN_SCORED and lower > chance + margin
        row["baselines"][name] = {
            "accuracy": round(100 * accuracy, 2),
            "lower": round(100 * lower, 2),
            "flagged": flagged,
            **({"reference": True} if name in REFERENCE_BASELINES else {}),
        }
        if flagged:
            row["flagged"].append(name)
    return row


def audit_rows(rows: list[dict], margin: float = MARGIN) -> dict:
    """The audit of records (the dict ``audit.json`` holds)."""
    started = time.perf_counter()
    groups: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    unknown = 0
    for row in rows:
        item = make_item(row)
        if item is None:
            unknown += 1
        else:
            groups[item.group].append(item)
    order = list(TASKS)
    results = []
    for key in sorted(groups, key=lambda key: (order.index(key[0]), key[1], key[2])):
        try:
            results.append(audit_group(groups[key], margin))
        except META_ERRORS as err:
            raise VideolakeError(
                f"{composition_key(*key)}: a record's meta or answer does not fit its task ({type(err).__name__}: {str(err)[:120]})"
            ) from err
    return {
        "records": len(rows),
        "not_audited": unknown,
        "margin": round(100 * margin, 2),
        "rule": "flagged: the Wilson 95% lower bound of a baseline's accuracy (mean strict score over the scored half) "
        f"exceeds chance + margin, over at least {MIN_SCORED} scored records; "
        "chance = the task's random guess (score --baseline random), for an open answer scored whole, at least a uniform guess among the answers that recur and hold 1% of the group; baselines are fitted on the records whose CRC-32 of the id is even and scored on the others",
        "groups": results,
        "flagged": [composition_key(g["task"], g["subtype"], g["tier"]) for g in results if g["flagged"]],
        "seconds": round(time.perf_counter() - started, 3),
    }


def strongest(group: dict) -> tuple[str, dict] | None:
    """The group's best non-reference baseline by its lower bound."""
    ranked = [(name, b) for name, b in group["baselines"].items() if not b.get("reference")]
    return max(ranked, key=lambda nb: (nb[1]["lower"], nb[1]["accuracy"])) if ranked else None


def warnings(audited: dict) -> list[str]:
    """One line per flagged task/subtype of a ``summary`` (its strongest baseline over its tiers)."""
    worst: dict[str, tuple[float, str]] = {}
    for group in audited["groups"]:
        if group["flagged"]:
            best, key = group["best"], f"{group['task']}/{group['subtype']}"
            line = f"warning: {key}: answerable without the video ({best['baseline']} {best['accuracy']:.1f}% vs chance {group['chance']:.1f}%)"
            if key not in worst or best["lower"] > worst[key][0]:
                worst[key] = (best["lower"], line)
    return [line for _, line in worst.values()]


def summary(result: dict) -> dict:
    """What ``build_report.json`` keeps: per group chance and the strongest baseline (a flagged group's
    strongest baseline is flagged: it has the highest lower bound)."""
    groups = []
    for group in result["groups"]:
        best = strongest(group)
        entry = {key: group[key] for key in ("task", "subtype", "tier", "n_scored", "chance", "flagged")}
        if best:
            entry["best"] = {"baseline": best[0], **{k: best[1][k] for k in ("accuracy", "lower")}}
        groups.append(entry)
    return {"margin": result["margin"], "groups": groups, "flagged": result["flagged"], "seconds": result["seconds"]}
