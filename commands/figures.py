"""What every command that draws shares: matplotlib without a display, and PNGs written whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path

from videolake.pipeline.shards import atomic_write_bytes


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display on build machines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path, **options) -> Path:
    """``figure`` into ``path`` (format from its suffix) in one atomic write: a killed run leaves the
    old picture or none, never half a PNG. The figure is closed (pyplot keeps every open one)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=path.suffix.lstrip(".") or "png", **options)
    finally:
        pyplot().close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path
