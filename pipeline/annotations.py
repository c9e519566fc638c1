"""Annotated sets the papers trained on, read from the user's disk and joined to their videos.

Formats (each a recipe entry's ``subtype``; its ``annotations:`` names the files, relative to
``--sources``):

- ``charades_sta``: ``charades_sta_{train,test}.txt``, lines ``VIDEOID start end##query``;
- ``activitynet``: ActivityNet-Captions-style JSON ``{video: {duration, timestamps, sentences}}``;
- ``got10k``: a folder of GOT-10k sequences, each a folder of frames with ``groundtruth.txt``
  (one ``x,y,w,h`` box per frame) and optionally ``meta_info.ini`` (``object_class: ...``);
- ``nextgqa``: NExT-QA's question CSV (``video, question, answer, qid, a0..a4``) and NExT-GQA's
  grounding JSON (``{video: {duration, location: {qid: [[s, e], ...]}}}``);
- ``llava_video``: LLaVA-Video-178K ``*_qa_processed.json`` (``{video, conversations}`` items).

Annotation files and GOT-10k folders resolve inside ``--sources``: an absolute path, ``..`` or a
symlink that leads out of it is refused unless the build is run with
``--annotations-outside-sources``, and even then rows and source ids name such a file by its last
path component, never by a path of the build machine.

Every row names the file and line it came from, and every field is type-checked as it is read, so
the generators only ever see well-typed rows. Rows that cannot be read (a field missing, of the
wrong type, not finite), or name a video that is not among the sources (or several), go to the
build report with that reason and the build goes on; a file that is not of its format at all (not
JSON, not a CSV with the NExT-QA columns) is one error. Checks that need the video itself (an
interval inside its duration, a box inside its frame) run when the sample is made.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

from videolake import VideolakeError
from videolake.pipeline.ingest import Skipped, SourceRef

FRAME_EXTENSIONS = {".jpg", ".jpeg", ".png"}
GOT10K_FPS = 10  # GOT-10k sequences are 10 fps frame folders
NEXTQA_COLUMNS = ("video", "question", "answer", "qid", "a0", "a1", "a2", "a3", "a4")
JSON_TYPES = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


@dataclass(frozen=True)
class AnnotatedSample:
    """One sample's worth of annotation: its video and the rows' content (JSON-able)."""

    source: SourceRef
    annotation: dict


def _json_type(value) -> str:
    """How a message names a value: by its JSON type, never by its (possibly huge) content."""
    return JSON_TYPES.get(type(value), type(value).__name__)


def _finite(value: float, what: str) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} is not a finite number")
    return value


def _number(text: str, what: str = "value") -> float:
    """A number written as text (Charades-STA lines, GOT-10k boxes)."""
    try:
        return _finite(float(text), what)
    except ValueError:
        raise ValueError(f"{what} is not a finite number: {text[:40]!r}") from None


def _json_number(value, what: str) -> float:
    """A JSON number (not a boolean, not a string holding one), finite and within float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {_json_type(value)}")
    try:
        return _finite(float(value), what)
    except OverflowError:
        raise ValueError(f"{what} is too large") from None


def _json_text(value, what: str) -> str:
    """A JSON string with something in it besides white space."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {_json_type(value)}")
    if not value.strip():
        raise ValueError(f"{what} is empty")
    return value


def _json_of(value, kind: type, what: str):
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be {JSON_TYPES[kind]}, got {_json_type(value)}")
    return value


def _interval(value, what: str) -> list[float]:
    """``[start, end]`` in seconds; whether it fits the video is checked when the sample is made."""
    pair = _json_of(value, list, what)
    if len(pair) != 2:
        raise ValueError(f"{what} must be [start, end], got {len(pair)} values")
    return [_json_number(pair[0], f"{what} start"), _json_number(pair[1], f"{what} end")]


def _clean_query(text: str) -> str:
    """As VideoChat-R1 reads queries: stripped, lower-case, without a final period."""
    text = text.strip().lower()
    return text[:-1] if text.endswith(".") else text


def _read_text(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise VideolakeError(f"{where}: cannot read ({err.strerror or err})") from err


def read_charades_sta(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    rows, skipped = [], []
    for number, line in enumerate(_read_text(path, where).splitlines(), 1):
        if not line.strip():
            continue
        head, sep, query = line.partition("##")
        parts = head.split()
        try:
            if not sep or len(parts) != 3 or not query.strip():
                raise ValueError("expected 'VIDEOID start end##query'")
            rows.append(
                {
                    "video": parts[0],
                    "start": _number(parts[1], "start"),
                    "end": _number(parts[2], "end"),
                    "query": _clean_query(query),
                    "where": f"{where}:{number}",
                }
            )
        except ValueError as err:
            skipped.append(Skipped(f"{where}:{number}", str(err)))
    return rows, skipped


def read_activitynet(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    """One row per sentence; a video entry of the wrong shape is reported whole, a bad sentence alone."""
    document = _json(path, where)
    if not isinstance(document, dict):
        raise VideolakeError(f"{where}: expected a JSON object of videos, got {_json_type(document)}")
    rows, skipped = [], []
    for video, item in document.items():
        try:
            item = _json_of(item, dict, "the entry")
            timestamps = _json_of(item.get("timestamps"), list, "timestamps")
            sentences = _json_of(item.get("sentences"), list, "sentences")
            if len(timestamps) != len(sentences):
                raise ValueError(f"{len(timestamps)} timestamps for {len(sentences)} sentences")
            duration = _json_number(item.get("duration"), "duration")
        except ValueError as err:
            skipped.append(Skipped(f"{where}:{video}", f"unreadable entry: {err}"))
            continue
        for k, (interval, sentence) in enumerate(zip(timestamps, sentences)):
            here = f"{where}:{video}[{k}]"
            try:
                start, end = _interval(interval, f"timestamps[{k}]")
                query = _clean_query(_json_text(sentence, f"sentences[{k}]"))
            except ValueError as err:
                skipped.append(Skipped(here, f"unreadable sentence: {err}"))
                continue
            rows.append(
                {"video": video, "start": start, "end": end, "query": query, "duration": duration, "where": here}
            )
    return rows, skipped


def read_got10k(path: Path, where: str, refuse_outside=None) -> tuple[list[dict], list[Skipped]]:
    """Every sequence folder under ``path`` that holds a groundtruth.txt (symlinked folders are not
    followed). ``refuse_outside(path, name)``: raises when a sequence's text file is a symlink out
    of the sources (None: no check)."""
    if not path.is_dir():
        raise VideolakeError(f"{where}: GOT-10k annotations are a folder of sequences")
    rows, skipped = [], []
    try:
        truths = sorted(path.rglob("groundtruth.txt"))
    except OSError as err:
        raise VideolakeError(f"{where}: cannot list the sequences ({err.strerror or err})") from err
    for truth in truths:
        folder = truth.parent
        name = f"{where}/{folder.relative_to(path).as_posix()}" if folder != path else where
        for text in (truth, folder / "meta_info.ini"):
            if refuse_outside is not None and os.path.lexists(text):
                refuse_outside(text, f"{name}/{text.name}")
        try:
            frames = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS)
            lines = truth.read_text(encoding="utf-8", errors="replace").splitlines()
            boxes = [
                [_number(v, "box value") for v in re.split(r"[,\s]+", line.strip())] for line in lines if line.strip()
            ]
            if any(len(box) != 4 for box in boxes):
                raise ValueError("expected one x,y,w,h box per line")
            if not boxes:
                raise ValueError("no boxes")
            if len(boxes) != len(frames):
                raise ValueError(f"{len(boxes)} boxes for {len(frames)} frames")
            obj = _object_class(folder)
        except (OSError, ValueError) as err:
            skipped.append(
                Skipped(name, f"groundtruth.txt: {err.strerror if isinstance(err, OSError) and err.strerror else err}")
            )
            continue
        rows.append(
            {
                "video": name,
                "frames": frames,
                "boxes": boxes,
                "object": obj,
                "fps": GOT10K_FPS,
                "where": f"{name}/groundtruth.txt",
                "folder": str(folder),
            }
        )
    return rows, skipped


def _object_class(folder: Path) -> str:
    info = folder / "meta_info.ini"
    if info.is_file():
        for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "object_class" and value.strip():
                return value.strip()
    return "object"


def _grounding(document, name: str) -> tuple[dict, list[Skipped]]:
    """NExT-GQA's grounding by video; a file that is not an object of videos is reported, and its
    questions are read without grounding."""
    if isinstance(document, dict):
        return document, []
    return {}, [
        Skipped(
            name,
            f"expected a JSON object of videos, got {_json_type(document)}: its questions are read without grounding",
        )
    ]


def _grounded(grounding: dict, video: str, qid: str) -> dict:
    """The question's segments and video duration, when the grounding JSON has them."""
    if video not in grounding:
        return {}
    entry = _json_of(grounding[video], dict, f"grounding of video {video!r}")
    location = _json_of(entry.get("location", {}), dict, f"grounding of video {video!r}: location")
    if qid not in location:
        return {}
    segments = [
        _interval(s, f"segment {k}") for k, s in enumerate(_json_of(location[qid], list, f"location of {qid!r}"))
    ]
    return {"segments": segments, "duration": _json_number(entry.get("duration"), "duration")}


def read_nextgqa(paths: list[Path], where: list[str]) -> tuple[list[dict], list[Skipped]]:
    """The question CSV, and (for grounding) the grounding JSON; rows carry segments when it has them."""
    csv_paths = [(p, w) for p, w in zip(paths, where) if p.suffix.lower() == ".csv"]
    json_paths = [(p, w) for p, w in zip(paths, where) if p.suffix.lower() == ".json"]
    if len(csv_paths) != 1 or len(json_paths) > 1 or len(csv_paths) + len(json_paths) != len(paths):
        raise VideolakeError(
            f"nextgqa annotations are one question CSV and at most one grounding JSON, got {', '.join(where)}"
        )
    grounding, skipped = _grounding(_json(*json_paths[0]), json_paths[0][1]) if json_paths else ({}, [])
    rows = []
    path, name = csv_paths[0]
    try:
        handle = path.open(newline="", encoding="utf-8", errors="replace")
    except OSError as err:
        raise VideolakeError(f"{name}: cannot read ({err.strerror or err})") from err
    with handle:
        reader = csv.DictReader(handle)
        try:
            missing = [c for c in NEXTQA_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise VideolakeError(f"{name}: not a NExT-QA question CSV (no column {missing[0]!r} in its header)")
            for number, line in enumerate(reader, 2):
                here = f"{name}:{number}"
                try:
                    short = [c for c in NEXTQA_COLUMNS if line[c] is None]
                    if short:
                        raise ValueError(f"short row: no value for {short[0]!r}")
                    options = [line[f"a{k}"].strip() for k in range(5)]
                    answer = int(line["answer"])
                    if not 0 <= answer < len(options) or not all(options):
                        raise ValueError(f"answer {answer} is not one of 5 non-empty options")
                    video, qid, question = line["video"].strip(), line["qid"].strip(), line["question"].strip()
                    if not video or not question:
                        raise ValueError("no video or no question")
                    rows.append(
                        {
                            "video": video,
                            "qid": qid,
                            "question": question,
                            "options": options,
                            "answer": answer,
                            "where": here,
                            **_grounded(grounding, video, qid),
                        }
                    )
                except ValueError as err:
                    skipped.append(Skipped(here, f"unreadable question: {err}"))
        except csv.Error as err:
            raise VideolakeError(f"{name}: line {reader.line_num + 1}: not readable as CSV ({err})") from err
    return rows, skipped


OPTION_LINE = re.compile(r"^\(?([A-H])[.):]\s*(.+)$")


def read_llava_video(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    """Question/answer pairs: each human turn and the gpt turn after it. Multiple choice when the
    question lists options ``A. ...`` and the answer starts with a listed letter. An item with one
    bad turn is reported whole."""
    document = _json(path, where)
    if not isinstance(document, list):
        raise VideolakeError(
            f"{where}: expected a JSON list of {{video, conversations}} items, got {_json_type(document)}"
        )
    rows, skipped = [], []
    for index, item in enumerate(document):
        here = f"{where}[{index}]"
        try:
            item = _json_of(item, dict, "the item")
            video = _json_text(item.get("video"), "video")
            turns = _json_of(item.get("conversations"), list, "conversations")
            pairs = []
            for k in range(0, len(turns) - 1, 2):
                human, gpt = _json_of(turns[k], dict, f"turn {k}"), _json_of(turns[k + 1], dict, f"turn {k + 1}")
                if human.get("from") != "human" or gpt.get("from") != "gpt":
                    raise ValueError("turns must alternate human, gpt")
                question = (
                    _json_text(human.get("value"), f"turn {k} value")
                    .replace("<image>", "")
                    .replace("<video>", "")
                    .strip()
                )
                answer = _json_text(gpt.get("value"), f"turn {k + 1} value").strip()
                if not question:
                    raise ValueError(f"turn {k} holds no question")
                pairs.append({"video": video, "where": f"{here}.{k // 2}", **_question_and_answer(question, answer)})
        except ValueError as err:
            skipped.append(Skipped(here, f"unreadable item: {err}"))
            continue
        rows += pairs
    return rows, skipped


def _question_and_answer(question: str, answer: str) -> dict:
    lines = question.splitlines()
    options = [(m.group(1), m.group(2).strip()) for m in (OPTION_LINE.match(line.strip()) for line in lines) if m]
    letters = [letter for letter, _ in options]
    if len(options) >= 2 and letters == list("ABCDEFGH"[: len(options)]):
        chosen = re.match(r"^\(?([A-H])(?:[.):]|$|\s)", answer)
        if chosen and chosen.group(1) in letters:
            stem = "\n".join(line for line in lines if not OPTION_LINE.match(line.strip())).strip()
            return {
                "question": stem,
                "options": [text for _, text in options],
                "answer": letters.index(chosen.group(1)),
            }
    return {"question": question, "answer_text": answer}


def _json(path: Path, where: str):
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as err:
        raise VideolakeError(f"{where}: cannot read ({err.strerror or err})") from err
    except RecursionError as err:
        raise VideolakeError(f"{where}: not valid JSON (nested too deeply)") from err
    except (ValueError, UnicodeDecodeError) as err:
        raise VideolakeError(f"{where}: not valid JSON ({err})") from err


def _read(fmt: str, paths: list[Path], names: list[str], refuse_outside) -> tuple[list[dict], list[Skipped]]:
    if fmt == "nextgqa":
        return read_nextgqa(paths, names)
    if fmt == "got10k":
        return _concatenated([read_got10k(path, name, refuse_outside) for path, name in zip(paths, names)])
    reader = {"charades_sta": read_charades_sta, "activitynet": read_activitynet, "llava_video": read_llava_video}[fmt]
    return _concatenated([reader(path, name) for path, name in zip(paths, names)])


def _concatenated(results: list[tuple[list[dict], list[Skipped]]]) -> tuple[list[dict], list[Skipped]]:
    return [row for rows, _ in results for row in rows], [skip for _, skips in results for skip in skips]


FORMATS = ("charades_sta", "activitynet", "got10k", "nextgqa", "llava_video")


class VideoIndex:
    """Source lookup by the ids annotation files use: a file stem (Charades, ActivityNet with or
    without its ``v_`` prefix, NExT-QA) or a relative path (LLaVA-Video)."""

    def __init__(self, sources: list[SourceRef]):
        self.by_id = {s.source_id: s for s in sources}
        self.by_stem: dict[str, list[SourceRef]] = {}
        for source in sources:
            self.by_stem.setdefault(PurePosixPath(source.source_id).stem, []).append(source)

    def find(self, video: str) -> SourceRef:
        if video in self.by_id:
            return self.by_id[video]
        suffix = [s for s in self.by_id.values() if s.source_id.endswith("/" + video)]
        stem = PurePosixPath(video).stem
        found = (
            suffix or self.by_stem.get(stem) or (self.by_stem.get(stem[2:]) if stem.startswith("v_") else None) or []
        )
        if len(found) != 1:
            raise LookupError(
                f"video {video!r} is {'not among the sources' if not found else f'ambiguous ({len(found)} sources match)'}"
            )
        return found[0]


class SourcesRoot:
    """Where annotation files may be read from: inside ``--sources`` (after following symlinks), or
    anywhere when the user allows it. A Hub snapshot's files are symlinks into the repository's
    own ``blobs`` folder, which counts as inside."""

    def __init__(self, root: Path, outside_allowed: bool = False):
        self.root = root
        self.outside_allowed = outside_allowed
        snapshot = root.parent.name == "snapshots" and root.parent.parent.name.startswith("datasets--")
        self.folders = [os.path.realpath(root)] + ([os.path.realpath(root.parent.parent / "blobs")] if snapshot else [])

    def contains(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return any(real == folder or real.startswith(folder.rstrip(os.sep) + os.sep) for folder in self.folders)

    def refuse_outside(self, path: Path, name: str) -> None:
        if not self.outside_allowed and not self.contains(path):
            raise VideolakeError(
                f"annotation file {name} leads outside --sources ({self.root}) through a symlink; pass --annotations-outside-sources to read it anyway"
            )

    def resolve(self, name: str) -> tuple[Path, str]:
        """(the path to read, the name rows and the report give it: relative to the root, or for a
        file outside it (allowed) its last path component, never a path of the build machine)."""
        normal = os.path.normpath(name)
        lexically_outside = PurePath(normal).is_absolute() or normal == ".." or normal.startswith(".." + os.sep)
        if lexically_outside and not self.outside_allowed:
            raise VideolakeError(
                f"annotation file {name} is outside --sources ({self.root}): give a path inside it, or pass --annotations-outside-sources"
            )
        path = Path(normal) if PurePath(normal).is_absolute() else self.root / normal
        if not path.exists():
            raise VideolakeError(f"annotation file not found: {name} (looked in {self.root})")
        self.refuse_outside(path, name)
        shown = (
            (PurePath(os.path.realpath(path)).name or "annotations")
            if lexically_outside
            else PurePath(normal).as_posix()
        )
        return path, shown


def annotated_samples(
    fmt: str, files: list[str], root: SourcesRoot, sources: list[SourceRef], select=None
) -> tuple[list[AnnotatedSample], list[Skipped]]:
    """The entry's samples: rows read from ``files`` (relative to ``root``), selected or grouped by the
    task's ``select`` hook (every segment of one query; only the questions with options), joined
    to their videos."""
    resolved = [root.resolve(f) for f in files]
    for (path, _), name in zip(resolved, files):
        if fmt != "got10k" and not path.is_file():
            raise VideolakeError(f"annotation file {name} is not a file ({fmt} annotations are files)")
    rows, skipped = _read(fmt, [p for p, _ in resolved], [shown for _, shown in resolved], root.refuse_outside)
    if select is not None:
        rows = select(rows)
    index = VideoIndex(sources)
    samples = []
    for row in rows:
        if fmt == "got10k":
            source = SourceRef(row["video"], row.pop("folder"))
        else:
            try:
                source = index.find(row["video"])
            except LookupError as err:
                skipped.append(Skipped(row["where"] if isinstance(row["where"], str) else row["where"][0], str(err)))
                continue
        samples.append(AnnotatedSample(source, row))
    return samples, skipped


def read_recipe_annotations(
    recipe, root: Path | None, sources: list[SourceRef], outside_allowed: bool = False
) -> tuple[dict[tuple[str, int], list[AnnotatedSample]], list[Skipped]]:
    """Every annotated entry's samples, keyed (split, entry index); rows that fail, with reasons.
    ``outside_allowed``: annotation files may lie outside ``root`` (``--annotations-outside-sources``)."""
    from videolake.generators import TASKS

    entries = recipe.annotated_entries()
    if entries and root is None:
        raise VideolakeError(
            f"recipe {recipe.name} reads annotated sets: pass --sources (the folder holding the videos and annotation files)"
        )
    found, skipped = {}, []
    for split, index, entry in entries:
        task = TASKS[entry.task]
        found[(split, index)], bad = annotated_samples(
            task.annotation_format(entry.subtype),
            list(entry.annotations),
            SourcesRoot(root, outside_allowed),
            sources,
            task.select_annotations,
        )
        skipped += bad
    return found, sorted(set(skipped), key=lambda s: s.source_id)


def digest(samples: list[AnnotatedSample]) -> str:
    """What the build fingerprint records of an entry's annotations."""
    text = json.dumps([[s.source.source_id, s.annotation] for s in samples], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
