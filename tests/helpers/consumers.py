"""verl's and LLaMA-Factory's own environment (.venv-consumers, made by ``make test``), where tests
load our exports with those tools' loaders; a test that uses it is marked ``consumers``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO

CONSUMERS_PYTHON = os.path.abspath(
    os.environ.get("VIDEOLAKE_CONSUMERS_PYTHON", REPO / ".venv-consumers" / "bin" / "python")
)  # not resolve(): that leaves the venv


def run_in_consumers_env(script: str, *args, cwd: Path) -> None:
    """Run tests/consumers/SCRIPT in verl's and LLaMA-Factory's own environment (they pin
    transformers below what the trainer needs), which ``make test`` makes."""
    if not Path(CONSUMERS_PYTHON).exists():
        pytest.fail(f"the consumers' environment is missing at {CONSUMERS_PYTHON}: `make test` makes it")
    command = [CONSUMERS_PYTHON, str(REPO / "tests" / "consumers" / script), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
