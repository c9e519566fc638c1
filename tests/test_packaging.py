"""The built wheel holds every module and data file of every root folder, under ``videolake.*``
only, and building it warns about nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

from tests.helpers import REPO

ROOT_FOLDERS = {
    "videolake": "videolake",
    "pipeline": "videolake/pipeline",
    "commands": "videolake/commands",
    "generators": "videolake/generators",
    "schemas": "videolake/schemas",
    "manifests": "videolake/manifests",
    "rewards": "videolake/rewards",
    "trainer": "videolake/trainer",
}


def test_the_wheel_contains_every_module_and_its_build_warns_about_nothing(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    # setuptools' warnings (a data folder it would not ship, a deprecated setting) name their class;
    # --verbose shows the build backend's output, which pip hides otherwise
    output = built.stdout + built.stderr
    assert "Successfully built videolake" in output
    warnings = sorted(set(re.findall(r"\w+Warning: .*", output)))
    assert not warnings, warnings
    (wheel,) = tmp_path.glob("videolake-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{target}/{path.relative_to(REPO / folder).as_posix()}"
        for folder, target in ROOT_FOLDERS.items()
        for path in (REPO / folder).rglob("*")
        if path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts
    }
    assert expected and not expected - names, sorted(expected - names)
    top_level = {name.split("/")[0] for name in names if not name.startswith("videolake-")}
    assert top_level == {"videolake"}, top_level  # no generic top-level names such as `pipeline`


def test_the_core_never_imports_torch():
    """The training extra is optional: building, validating, scoring and exporting never need torch."""
    code = "import sys, videolake.commands.cli, videolake.pipeline.graph, videolake.commands.exports.verl, videolake.commands.score, videolake.rewards; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
