"""What tests share besides fixtures: the repository's root, clips and frames made in memory, one
sample of any task, media files written on purpose, the CLI run as a user runs it, a Hub stand-in."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
