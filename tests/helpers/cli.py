"""Run the ``videolake`` command line as a user would: a separate process, stdout and stderr captured."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


def run_cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "videolake.commands.cli", *map(str, args)], capture_output=True, text=True, **kwargs
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit 1, and stderr is a single ``error: ...`` line holding every fragment."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def tree_hashes(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its sha256: equal before and after a
    command means the command left the folder byte-identical (and added nothing to it)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(Path(folder).rglob("*"))
    }
