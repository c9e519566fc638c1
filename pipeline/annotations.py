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

Every row names the file and line it came from. Rows that cannot be read, or name a video that is
not among the sources (or several), go to the build report with that reason; checks that need the
video itself (an interval inside its duration, a box inside its frame) run when the sample is made.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from videolake import VideolakeError
from videolake.pipeline.ingest import Skipped, SourceRef

FRAME_EXTENSIONS = {".jpg", ".jpeg", ".png"}
GOT10K_FPS = 10  # GOT-10k sequences are 10 fps frame folders


@dataclass(frozen=True)
class AnnotatedSample:
    """One sample's worth of annotation: its video and the rows' content (JSON-able)."""

    source: SourceRef
    annotation: dict


def _number(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {text}")
    return value


def _clean_query(text: str) -> str:
    """As VideoChat-R1 reads queries: stripped, lower-case, without a final period."""
    text = text.strip().lower()
    return text[:-1] if text.endswith(".") else text


def read_charades_sta(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    rows, skipped = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, query = line.partition("##")
        parts = head.split()
        try:
            if not sep or len(parts) != 3 or not query.strip():
                raise ValueError("expected 'VIDEOID start end##query'")
            rows.append({"video": parts[0], "start": _number(parts[1]), "end": _number(parts[2]), "query": _clean_query(query), "where": f"{where}:{number}"})
        except ValueError as err:
            skipped.append(Skipped(f"{where}:{number}", str(err)))
    return rows, skipped


def read_activitynet(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    document = _json(path, where)
    if not isinstance(document, dict):
        raise VideolakeError(f"{where}: expected a JSON object of videos")
    rows, skipped = [], []
    for video, item in document.items():
        try:
            timestamps, sentences = item["timestamps"], item["sentences"]
            if len(timestamps) != len(sentences):
                raise ValueError(f"{len(timestamps)} timestamps for {len(sentences)} sentences")
            duration = _number(str(item["duration"]))
            for k, ((start, end), sentence) in enumerate(zip(timestamps, sentences)):
                rows.append({"video": video, "start": _number(str(start)), "end": _number(str(end)), "query": _clean_query(sentence), "duration": duration, "where": f"{where}:{video}[{k}]"})
        except (KeyError, TypeError, ValueError) as err:
            skipped.append(Skipped(f"{where}:{video}", f"unreadable entry: {err}"))
    return rows, skipped


def read_got10k(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    """Every sequence folder under ``path`` that holds a groundtruth.txt."""
    if not path.is_dir():
        raise VideolakeError(f"{where}: GOT-10k annotations are a folder of sequences")
    rows, skipped = [], []
    for truth in sorted(path.rglob("groundtruth.txt")):
        folder = truth.parent
        name = f"{where}/{folder.relative_to(path).as_posix()}" if folder != path else where
        frames = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS)
        try:
            boxes = [[_number(v) for v in re.split(r"[,\s]+", line.strip())] for line in truth.read_text().splitlines() if line.strip()]
            if any(len(box) != 4 for box in boxes):
                raise ValueError("expected one x,y,w,h box per line")
            if len(boxes) != len(frames):
                raise ValueError(f"{len(boxes)} boxes for {len(frames)} frames")
        except ValueError as err:
            skipped.append(Skipped(name, f"groundtruth.txt: {err}"))
            continue
        rows.append({"video": name, "frames": frames, "boxes": boxes, "object": _object_class(folder), "fps": GOT10K_FPS, "where": f"{name}/groundtruth.txt", "folder": str(folder)})
    return rows, skipped


def _object_class(folder: Path) -> str:
    info = folder / "meta_info.ini"
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "object_class" and value.strip():
                return value.strip()
    return "object"


def read_nextgqa(paths: list[Path], where: list[str]) -> tuple[list[dict], list[Skipped]]:
    """The question CSV, and (for grounding) the grounding JSON; rows carry segments when it has them."""
    csv_paths = [(p, w) for p, w in zip(paths, where) if p.suffix.lower() == ".csv"]
    json_paths = [(p, w) for p, w in zip(paths, where) if p.suffix.lower() == ".json"]
    if len(csv_paths) != 1 or len(json_paths) > 1:
        raise VideolakeError(f"nextgqa annotations are one question CSV and at most one grounding JSON, got {', '.join(where)}")
    grounding = _json(*json_paths[0]) if json_paths else {}
    rows, skipped = [], []
    path, name = csv_paths[0]
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(csv.DictReader(handle), 2):
            here = f"{name}:{number}"
            try:
                options = [line[f"a{k}"].strip() for k in range(5)]
                answer = int(line["answer"])
                if not 0 <= answer < len(options) or not all(options):
                    raise ValueError(f"answer {answer} is not one of 5 non-empty options")
                video, qid = line["video"].strip(), str(line["qid"]).strip()
                row = {"video": video, "qid": qid, "question": line["question"].strip(), "options": options, "answer": answer, "where": here}
                found = grounding.get(video, {})
                if qid in found.get("location", {}):
                    row["segments"] = [[_number(str(s)), _number(str(e))] for s, e in found["location"][qid]]
                    row["duration"] = _number(str(found["duration"]))
                rows.append(row)
            except (KeyError, TypeError, ValueError) as err:
                skipped.append(Skipped(here, f"unreadable question: {err}"))
    return rows, skipped


OPTION_LINE = re.compile(r"^\(?([A-H])[.):]\s*(.+)$")


def read_llava_video(path: Path, where: str) -> tuple[list[dict], list[Skipped]]:
    """Question/answer pairs: each human turn and the gpt turn after it. Multiple choice when the
    question lists options ``A. ...`` and the answer starts with a listed letter."""
    document = _json(path, where)
    if not isinstance(document, list):
        raise VideolakeError(f"{where}: expected a JSON list of {{video, conversations}} items")
    rows, skipped = [], []
    for index, item in enumerate(document):
        here = f"{where}[{index}]"
        try:
            turns = item["conversations"]
            for k in range(0, len(turns) - 1, 2):
                human, gpt = turns[k], turns[k + 1]
                if human["from"] != "human" or gpt["from"] != "gpt":
                    raise ValueError("turns must alternate human, gpt")
                question = human["value"].replace("<image>", "").replace("<video>", "").strip()
                rows.append({"video": str(item["video"]), "where": f"{here}.{k // 2}", **_question_and_answer(question, gpt["value"].strip())})
        except (KeyError, TypeError, ValueError) as err:
            skipped.append(Skipped(here, f"unreadable item: {err}"))
    return rows, skipped


def _question_and_answer(question: str, answer: str) -> dict:
    lines = question.splitlines()
    options = [(m.group(1), m.group(2).strip()) for m in (OPTION_LINE.match(line.strip()) for line in lines) if m]
    letters = [letter for letter, _ in options]
    if len(options) >= 2 and letters == list("ABCDEFGH"[: len(options)]):
        chosen = re.match(r"^\(?([A-H])(?:[.):]|$|\s)", answer)
        if chosen and chosen.group(1) in letters:
            stem = "\n".join(line for line in lines if not OPTION_LINE.match(line.strip())).strip()
            return {"question": stem, "options": [text for _, text in options], "answer": letters.index(chosen.group(1))}
    return {"question": question, "answer_text": answer}


def _json(path: Path, where: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise VideolakeError(f"{where}: not valid JSON ({err})") from err


def _read(fmt: str, paths: list[Path], names: list[str]) -> tuple[list[dict], list[Skipped]]:
    if fmt == "nextgqa":
        return read_nextgqa(paths, names)
    reader = {"charades_sta": read_charades_sta, "activitynet": read_activitynet, "got10k": read_got10k, "llava_video": read_llava_video}[fmt]
    rows, skipped = [], []
    for path, name in zip(paths, names):
        more, bad = reader(path, name)
        rows += more
        skipped += bad
    return rows, skipped


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
        found = suffix or self.by_stem.get(stem) or (self.by_stem.get(stem[2:]) if stem.startswith("v_") else None) or []
        if len(found) != 1:
            raise LookupError(f"video {video!r} is {'not among the sources' if not found else f'ambiguous ({len(found)} sources match)'}")
        return found[0]


def annotated_samples(fmt: str, files: list[str], root: Path, sources: list[SourceRef], select=None) -> tuple[list[AnnotatedSample], list[Skipped]]:
    """The entry's samples: rows read from ``files`` (relative to ``root``), selected or grouped by the
    task's ``select`` hook (every segment of one query; only the questions with options), joined
    to their videos."""
    paths = [(root / f) if not Path(f).is_absolute() else Path(f) for f in files]
    for path, name in zip(paths, files):
        if not path.exists():
            raise VideolakeError(f"annotation file not found: {name} (looked in {root})")
    rows, skipped = _read(fmt, paths, list(files))
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


def read_recipe_annotations(recipe, root: Path | None, sources: list[SourceRef]) -> tuple[dict[tuple[str, int], list[AnnotatedSample]], list[Skipped]]:
    """Every annotated entry's samples, keyed (split, entry index); rows that fail, with reasons."""
    from videolake.generators import TASKS

    entries = recipe.annotated_entries()
    if entries and root is None:
        raise VideolakeError(f"recipe {recipe.name} reads annotated sets: pass --sources (the folder holding the videos and annotation files)")
    found, skipped = {}, []
    for split, index, entry in entries:
        task = TASKS[entry.task]
        found[(split, index)], bad = annotated_samples(task.annotation_format(entry.subtype), list(entry.annotations), root, sources, task.select_annotations)
        skipped += bad
    return found, sorted(set(skipped), key=lambda s: s.source_id)


def digest(samples: list[AnnotatedSample]) -> str:
    """What the build fingerprint records of an entry's annotations."""
    text = json.dumps([[s.source.source_id, s.annotation] for s in samples], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
