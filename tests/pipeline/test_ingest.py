import io
import os
import tarfile

import pytest

from tests.helpers.media import add_bytes
from videolake import VideolakeError
from videolake.pipeline.ingest import (
    discover,
    list_archive,
    read_archive_members,
    resolve_root,
)


def make_layout(root, clip_bytes):
    """A miniature LLaVA-Video-178K subset: archives of mp4s and annotation JSONs."""
    subset = root / "0_30_s_academic_v0_1"
    subset.mkdir(parents=True)
    (subset / "0_30_s_academic_v0_1_cap_processed.json").write_text("[]")
    with tarfile.open(subset / "0_30_s_academic_v0_1_videos_1.tar.gz", "w:gz") as tar:
        add_bytes(tar, "academic_source/ego4d/a.mp4", clip_bytes)
        add_bytes(tar, "academic_source/ego4d/readme.txt", b"hi")
        add_bytes(tar, "/etc/evil.mp4", clip_bytes)
        add_bytes(tar, "../escape.mp4", clip_bytes)
        add_bytes(tar, "academic_source/link.mp4", b"", tarfile.SYMTYPE, "/etc/passwd")
        add_bytes(tar, "academic_source/dev.mp4", b"", tarfile.CHRTYPE)
    with tarfile.open(subset / "0_30_s_academic_v0_1_videos_2.tar.gz", "w:gz") as tar:
        add_bytes(tar, "academic_source/ego4d/b.mp4", clip_bytes)
    return subset


def test_folder_sources_have_relative_ids(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ["x.mp4", "sub/y.mkv", "sub/z.webm", "notes.txt", ".hidden.mp4"]:
        (tmp_path / name).write_bytes(b"0")
    sources, skipped = discover(tmp_path)
    assert [s.source_id for s in sources] == ["sub/y.mkv", "sub/z.webm", "x.mp4"]
    assert not skipped


def test_llava_layout_is_streamed_and_unsafe_members_refused(tmp_path, clips_dir):
    clip = (clips_dir / "carphone_distorted.mp4").read_bytes()
    make_layout(tmp_path / "llava", clip)
    before = set(tmp_path.rglob("*"))
    sources, skipped = discover(tmp_path / "llava")
    assert [s.source_id for s in sources] == [
        "0_30_s_academic_v0_1/academic_source/ego4d/a.mp4",
        "0_30_s_academic_v0_1/academic_source/ego4d/b.mp4",
    ]
    reasons = {s.source_id.split(":", 1)[1]: s.reason for s in skipped}
    assert reasons["/etc/evil.mp4"].endswith("absolute path")
    assert reasons["../escape.mp4"].endswith("'..'")
    assert reasons["academic_source/link.mp4"].endswith("link")
    assert reasons["academic_source/dev.mp4"].endswith("device or fifo")
    members = {
        name: data for name, data, _ in read_archive_members(sources[0].container, {"academic_source/ego4d/a.mp4"})
    }
    assert members["academic_source/ego4d/a.mp4"] == clip
    assert set(tmp_path.rglob("*")) == before  # nothing was extracted anywhere


def test_truncated_archive_reports_instead_of_failing(tmp_path, clips_dir):
    clip = (clips_dir / "carphone_distorted.mp4").read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        add_bytes(tar, "a.mp4", clip)
        add_bytes(tar, "b.mp4", os.urandom(len(clip) * 4))  # incompressible: the cut lands inside b
    broken = tmp_path / "x_videos_1.tar.gz"
    broken.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    members, refused = list_archive(str(broken))
    assert refused and "unreadable" in refused[-1][1]
    results = {name: error for name, _, error in read_archive_members(str(broken), {"a.mp4", "b.mp4"})}
    assert results["a.mp4"] is None and "unreadable" in results["b.mp4"]


def test_archive_listing_is_cached_for_resumed_builds(tmp_path, clips_dir):
    make_layout(tmp_path / "llava", (clips_dir / "carphone_distorted.mp4").read_bytes())
    calls = []

    def counting_list(paths):
        calls.append(len(paths))
        return [list_archive(str(p)) for p in paths]

    first = discover(tmp_path / "llava", tmp_path / "cache", counting_list)
    second = discover(tmp_path / "llava", tmp_path / "cache", counting_list)
    assert first == second and calls == [2, 0]


def test_missing_sources_folder_is_a_user_error(tmp_path):
    with pytest.raises(VideolakeError, match="sources folder not found"):
        resolve_root(str(tmp_path / "nope"), tmp_path)


def test_hub_sources_download_only_the_named_subfolder(tmp_path, monkeypatch, clips_dir):
    """The Hub path is exercised against a local snapshot: no test touches the network."""
    import huggingface_hub

    snapshot = tmp_path / "snapshot"
    make_layout(snapshot, (clips_dir / "carphone_distorted.mp4").read_bytes())
    calls = []

    def fake_snapshot_download(repo_id, repo_type, cache_dir, allow_patterns):
        calls.append((repo_id, repo_type, allow_patterns))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    (snapshot / "other_subset").mkdir()
    (snapshot / "other_subset" / "x.mp4").write_bytes(b"0")  # downloaded earlier: not part of this build
    root, under = resolve_root("hf://lmms-lab/LLaVA-Video-178K/0_30_s_academic_v0_1", tmp_path / "cache")
    assert calls == [("lmms-lab/LLaVA-Video-178K", "dataset", ["0_30_s_academic_v0_1/**"])]
    sources, _ = discover(root, under=under)
    # the same ids as a build from the whole layout, so holdouts agree across recipes
    assert [s.source_id for s in sources] == [
        "0_30_s_academic_v0_1/academic_source/ego4d/a.mp4",
        "0_30_s_academic_v0_1/academic_source/ego4d/b.mp4",
    ]


def test_hub_failure_is_one_line(tmp_path, monkeypatch):
    import huggingface_hub

    def offline(*args, **kwargs):
        raise OSError("offline\nsecond line")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(VideolakeError, match="^cannot download a/b from the Hub: offline$"):
        resolve_root("hf://a/b", tmp_path)
    with pytest.raises(VideolakeError, match="expected hf://OWNER/NAME"):
        resolve_root("hf://justone", tmp_path)


def test_a_file_and_an_archive_member_with_the_same_id_keep_one(tmp_path, clips_dir):
    clip = (clips_dir / "carphone_distorted.mp4").read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.mp4").write_bytes(clip)
    with tarfile.open(tmp_path / "sub" / "x_videos_1.tar.gz", "w:gz") as tar:
        add_bytes(tar, "a.mp4", clip)
    sources, skipped = discover(tmp_path)
    assert [(s.source_id, s.member) for s in sources] == [("sub/a.mp4", None)]
    assert [s.source_id for s in skipped] == ["sub/a.mp4"] and "duplicate source id" in skipped[0].reason
