"""Publishing, without network: the staged folder loads with `load_dataset` to exactly the build's
rows, the card parses, re-publishing plans no upload, no token is written, recipes share a repo."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.commands.test_exports import JSON_VALUES
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.hub_standin import Hub
from videolake.commands import publish as hub
from videolake.generators import TASKS
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe


def recipe(tmp_path: Path, name: str, **extra) -> Path:
    document = {
        "name": name,
        "shard_size": 2,
        "splits": {
            "train": [
                {"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}},
                {"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 64}},
            ],
            "test": [{"task": "synrl", "subtype": "direction", "count": 1, "params": {"size": 64}}],
        },
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("publish")
    return build(
        load_recipe(str(recipe(folder, "tiny-a", license="apache-2.0"))),
        None,
        folder / "out",
        workers=1,
        progress=False,
    )


@pytest.fixture(autouse=True)
def own_datasets_cache(tmp_path, monkeypatch):
    """A cache per test: datasets keys a local folder's cache by its card's configs, not by the
    files' bytes, so a shared cache hands a re-staged folder the rows of an earlier staging."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))


def rows_by_id(dataset) -> dict:
    table = dataset.with_format("arrow")[:]
    return {row["id"]: row for row in table.to_pylist()}


def test_staged_parquet_loads_to_exactly_the_build(built, tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_for_the_test")
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    original = datasets.load_from_disk(str(built))
    for config in ("default", "tiny-a"):
        loaded = datasets.load_dataset(str(staging), config)
        assert set(loaded) == set(original)
        for split in original:
            theirs, ours = rows_by_id(loaded[split]), rows_by_id(original[split])
            assert theirs.keys() == ours.keys()
            for record_id, row in ours.items():
                assert theirs[record_id]["answer"] == row["answer"] and theirs[record_id]["meta"] == row["meta"]
                assert [v["bytes"] for v in theirs[record_id]["videos"]] == row["videos"]
    assert str(loaded["train"].features["videos"]).startswith("List(Video(")
    per_task = datasets.load_dataset(str(staging), "tiny-a-synrl")
    assert len(per_task["train"]) == 3
    written = b"".join(p.read_bytes() for p in staging.rglob("*") if p.is_file())
    assert b"hf_secret_token_for_the_test" not in written
    assert not list(Path(built).rglob("cache-*.arrow"))  # the build folder is never written to


def test_the_card_parses_and_says_what_the_dataset_is(built, tmp_path):
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    card = DatasetCard.load(staging / hub.CARD)
    data = card.data.to_dict()
    assert (
        data["license"] == "apache-2.0"
        and data["task_categories"] == ["video-text-to-text"]
        and data["size_categories"] == ["n<1K"]
    )
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert set(configs) == {"default", "tiny-a", "tiny-a-synrl"}
    features = {f["name"]: f for f in data["dataset_info"][0]["features"]}
    assert features["videos"] == {"name": "videos", "list": "video"}
    assert (
        "| synrl | chip\\_cups | default | train | 2 |" in card.text
        and 'load_dataset("someone/tiny", "tiny-a")' in card.text
    )
    for image in ("images/tiny-a/composition.png",):
        assert (staging / image).exists() and f"]({image})" in card.text


def python_block_after(text: str, marker: str) -> str:
    return re.search(re.escape(marker) + r".*?```python\n(.*?)```", text, re.S).group(1)


def test_the_cards_load_snippet_runs_on_a_stock_install(built, tmp_path, monkeypatch):
    """The snippet as the card shows it, the Hub id swapped for the staged folder: it loads and
    decodes frames without torchcodec (blocked here, so a host that has it proves nothing else)."""
    import io
    import sys

    import av
    import datasets

    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    snippet = python_block_after((staging / hub.CARD).read_text(), "Load it")
    assert '"someone/tiny"' in snippet
    monkeypatch.setitem(sys.modules, "torchcodec", None)  # import torchcodec raises ImportError
    names: dict = {}
    exec(snippet.replace('"someone/tiny"', json.dumps(str(staging))), names)
    row, frames = names["row"], names["frames"]
    original = {r["id"]: r for r in datasets.load_from_disk(str(built))["train"]}[row["id"]]
    with av.open(io.BytesIO(original["videos"][0])) as video:
        expected = [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]
    assert len(frames) == len(expected) > 0 and all((a == b).all() for a, b in zip(frames, expected))
    assert row["answer"] == original["answer"] and row["fps"] == original["fps"]


def test_the_card_says_what_each_task_asks_cites_its_papers_and_states_real_sizes(built, tmp_path):
    import pyarrow.parquet as pq
    from huggingface_hub import DatasetCard

    from videolake.rewards import ideal_completion

    assert {task.paper for task in TASKS.values()} == set(hub.PAPERS) == set(hub.PAPER_TITLES)
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    card = DatasetCard.load(staging / hub.CARD)
    first = min(datasets_rows(built), key=lambda row: row["id"])
    line = next(line for line in card.text.splitlines() if line.startswith("| `synrl` (SynRL) |"))
    assert hub.markdown_code(ideal_completion("synrl", first["answer"], "…")) in line and "0–1 |" in line
    assert (
        hub.PAPERS["jiang2026synrl"] in card.text and hub.PAPERS["he2026videossr"] not in card.text
    )  # the papers of its tasks
    parquet = sorted((staging / "data" / "tiny-a").rglob("*.parquet"))
    info = {entry["config_name"]: entry for entry in card.data.to_dict()["dataset_info"]}["tiny-a"]
    assert info["download_size"] == sum(path.stat().st_size for path in parquet)
    for split in info["splits"]:
        tables = [pq.read_table(path) for path in parquet if path.name.startswith(f"{split['name']}-")]
        assert split["num_examples"] == sum(t.num_rows for t in tables) and split["num_bytes"] > 0
    assert info["dataset_size"] == sum(split["num_bytes"] for split in info["splits"])


def datasets_rows(dataset_dir: Path) -> list[dict]:
    import datasets

    return [row for split in datasets.load_from_disk(str(dataset_dir)).values() for row in split]


def test_licence_other_needs_a_sources_note(tmp_path):
    from huggingface_hub import DatasetCard

    from videolake.pipeline.recipes import RecipeError, builtin_names

    unnamed = build(
        load_recipe(str(recipe(tmp_path, "unnamed", license="other"))),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
    )
    assert_one_line_error(
        run_cli("publish", unnamed, "someone/x", "--dry-run", "--staging", tmp_path / "st"),
        "`license: other` without naming its sources",
        "sources:",
    )
    assert not (tmp_path / "st").exists()
    note = "clips from the [X] archive (CC0), <b>drawn</b> over"
    named = build(
        load_recipe(str(recipe(tmp_path, "named", license="other", sources=note))),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
    )
    staging = hub.stage(named, tmp_path / "staging", "someone/x")
    assert f"Sources: {hub.markdown_text(note)}." in DatasetCard.load(staging / hub.CARD).text
    with pytest.raises(RecipeError, match="sources must be text"):
        load_recipe(str(recipe(tmp_path, "bad", license="other", sources=["a"])))
    for name in builtin_names():  # every shipped recipe can be published once built
        document = load_recipe(name).document
        assert document["license"] != "other" or document["sources"], name


def test_staging_shows_progress_on_a_terminal(built, tmp_path, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for progress in (True, False):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        hub.stage(built, tmp_path / f"staging-{progress}", "someone/tiny", progress=progress)
        assert ("staging tiny-a: 100%" in terminal.getvalue() and "4/4" in terminal.getvalue()) == progress


def test_republishing_plans_no_upload(built, tmp_path):
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    first = hub.local_files(staging)
    assert hub.upload_plan(staging, {}) == sorted(first)  # an empty repository gets everything
    remote = {
        path: hashes[0] if path.endswith((".parquet", ".png")) else hashes[1] for path, hashes in first.items()
    }  # as the Hub reports them
    hub.stage(built, staging, "someone/tiny")  # staged again: same bytes
    assert hub.local_files(staging) == first
    assert hub.upload_plan(staging, remote) == []
    remote["README.md"] = "0" * 40
    assert hub.upload_plan(staging, remote) == ["README.md"]
    assert not any(name.startswith(".") for name in first)  # the staging state never goes up


def test_two_recipes_share_one_repository(built, tmp_path):
    import datasets

    folder = tmp_path / "second"
    folder.mkdir()
    other = build(
        load_recipe(str(recipe(folder, "tiny-b", license="cc-by-4.0", seed=3))),
        None,
        folder / "out",
        workers=1,
        progress=False,
    )
    staging = hub.stage(built, tmp_path / "staging", "someone/both")
    hub.stage(other, staging, "someone/both")
    assert len(datasets.load_dataset(str(staging), "tiny-b")["train"]) == 3
    assert len(datasets.load_dataset(str(staging), "default")["train"]) == 3  # still the first dataset
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(staging / hub.CARD)
    assert (
        sorted(card.data.to_dict()["license"]) == ["apache-2.0", "cc-by-4.0"]
        and "## tiny\\-a" in card.text
        and "## tiny\\-b" in card.text
    )


def test_publish_needs_a_licence_and_dry_run_needs_no_network(tmp_path):
    out = build(load_recipe(str(recipe(tmp_path, "nolicence"))), None, tmp_path / "out", workers=1, progress=False)
    assert_one_line_error(run_cli("publish", out, "someone/x", "--dry-run"), "states no licence")
    dataset = build(
        load_recipe(str(recipe(tmp_path, "withlicence", license="apache-2.0"))),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
    )
    result = run_cli("publish", dataset, "someone/x", "--dry-run", "--staging", tmp_path / "st")
    assert result.returncode == 0 and (tmp_path / "st" / "README.md").exists(), result.stderr
    assert json.loads((tmp_path / "st" / hub.STATE).read_text())["default"] == "withlicence"


def tree_digest(folder: Path) -> dict[str, str]:
    import hashlib

    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("repo_id", ["..", "../x", "a/../b", "a/b/c", "x--y", "", "a" * 97, "a/.", "name with space"])
def test_repository_ids_huggingface_hub_refuses_are_refused(built, tmp_path, repo_id):
    from videolake import VideolakeError

    for call in (
        lambda: hub.default_staging(built, repo_id),
        lambda: hub.stage(built, tmp_path / "st", repo_id),
        lambda: hub.upload(tmp_path, repo_id, False, api=object()),
    ):
        with pytest.raises(VideolakeError, match="invalid repository id"):
            call()
    assert not (tmp_path / "st").exists()


def test_dot_dot_never_stages_into_the_output_folder(built):
    before = tree_digest(built.parent)
    assert_one_line_error(run_cli("publish", built, "..", "--dry-run"), "invalid repository id")
    assert tree_digest(built.parent) == before and not (built.parent / "README.md").exists()


@pytest.mark.parametrize("where", ["build", "inside", "shard folder", "around"])
def test_staging_in_or_around_the_build_is_refused(built, where):
    staging = {"build": built, "inside": built / "staging", "shard folder": built / "train", "around": built.parent}[
        where
    ]
    before = tree_digest(built.parent)
    assert_one_line_error(run_cli("publish", built, "someone/x", "--dry-run", "--staging", staging), "the input")
    assert tree_digest(built.parent) == before


def test_a_different_dataset_of_the_same_name_is_refused(built, tmp_path):
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    before = tree_digest(staging)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    other = build(
        load_recipe(str(recipe(folder, "tiny-a", license="apache-2.0", seed=5))),
        None,
        folder / "out",
        workers=1,
        progress=False,
    )
    assert_one_line_error(
        run_cli("publish", other, "someone/tiny", "--dry-run", "--staging", staging),
        "already holds a different dataset named 'tiny-a'",
        str(Path(built).resolve()),
    )
    assert tree_digest(staging) == before


def test_a_smaller_rebuild_restaged_leaves_no_stale_parquet_here_or_on_the_hub(tmp_path, stand_in, api):
    import shutil

    import datasets

    bigger = {
        "train": [
            {"task": "synrl", "subtype": "chip_cups", "count": 5, "params": {"size": 64}},
            {"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 64}},
        ]
    }
    smaller = {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 1, "params": {"size": 64}}]}
    first = build(
        load_recipe(str(recipe(tmp_path, "shrink", license="mit", splits=bigger))),
        None,
        tmp_path / "first",
        workers=1,
        progress=False,
    )
    staging = hub.stage(first, tmp_path / "staging", "someone/shrink")
    assert (
        len(list((staging / "data" / "shrink").rglob("*.parquet"))) == 3
    )  # two shards of chip_cups, rotation in the last
    hub.upload(staging, "someone/shrink", False, api=api)
    other = "data/someone-else/synrl/train-00000.parquet"  # a dataset not staged here: not ours to delete
    stand_in.repos["someone/shrink"].files[other] = b"not ours"
    second = build(
        load_recipe(str(recipe(tmp_path, "shrink", license="mit", splits=smaller))),
        None,
        tmp_path / "second",
        workers=1,
        progress=False,
    )
    shutil.rmtree(first)
    second.rename(first)  # the same build folder, rebuilt smaller
    hub.stage(first, staging, "someone/shrink")
    assert [p.relative_to(staging).as_posix() for p in sorted((staging / "data").rglob("*.parquet"))] == [
        "data/shrink/synrl/train-00000.parquet"
    ]
    assert (
        len(datasets.load_dataset(str(staging), "shrink")["train"]) == 1
    )  # NonMatchingSplitsSizesError if a stale file stayed
    hub.upload(staging, "someone/shrink", False, api=api)
    last = stand_in.repos["someone/shrink"].commits[-1]
    assert {"data/shrink/synrl/train-00001.parquet", "data/shrink/synrl/train-00002.parquet"} <= set(last["deleted"])
    assert "README.md" in last["added"]  # the new card and the deletions land in one commit
    assert stand_in.repos["someone/shrink"].files == {**staged_bytes(staging), other: b"not ours"}


def staged_bytes(staging: Path) -> dict[str, bytes]:
    """What a repository holding exactly the staged files holds (the dot-file stays local)."""
    return {path: (staging / path).read_bytes() for path in hub.local_files(staging)}


@pytest.fixture
def stand_in():
    with Hub() as running:
        yield running


@pytest.fixture
def api(stand_in, monkeypatch):
    """huggingface_hub's client on the stand-in, through its LFS path (the stand-in speaks no Xet)."""
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    return HfApi(endpoint=stand_in.url, token="hf_token_of_the_stand_in")


def hub_env(stand_in: Hub) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "HF_ENDPOINT": stand_in.url,
        "HF_TOKEN": "hf_token_of_the_stand_in",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }


def test_publish_uploads_and_publishing_again_uploads_nothing(built, tmp_path, stand_in):
    staging = tmp_path / "staging"
    first = run_cli("publish", built, "someone/tiny", "--staging", staging, env=hub_env(stand_in))
    assert first.returncode == 0, first.stderr
    files = staged_bytes(staging)
    assert f"uploaded {len(files)} file(s) to {stand_in.url}/datasets/someone/tiny" in first.stdout
    repo = stand_in.repos["someone/tiny"]
    assert repo.files == files and not repo.private
    assert {path for path in files if path.endswith((".parquet", ".png"))} == repo.lfs  # as LFS objects
    assert [commit["added"][-1] for commit in repo.commits][-1] == "README.md"  # the card goes last
    assert len(stand_in.requests("PUT", "^/lfs-storage/")) == len(repo.lfs)
    assert not [r for r in stand_in.log if r.status == 404]  # every call huggingface_hub made is served
    before = len(stand_in.log)
    again = run_cli("publish", built, "someone/tiny", "--staging", staging, env=hub_env(stand_in))
    assert again.returncode == 0 and "nothing to upload" in again.stdout, again.stderr
    second = stand_in.log[before:]
    assert [(r.method, r.path.split("?")[0]) for r in second] == [
        ("POST", "/api/repos/create"),
        ("GET", "/api/datasets/someone/tiny/tree/main"),
    ]  # no pre-upload, no object, no commit
    assert stand_in.repos["someone/tiny"].files == files
    assert b"hf_token_of_the_stand_in" not in b"".join(p.read_bytes() for p in staging.rglob("*") if p.is_file())


def test_a_second_recipe_is_added_as_a_config(built, tmp_path, stand_in, api):
    from huggingface_hub import DatasetCard

    folder = tmp_path / "second"
    folder.mkdir()
    other = build(
        load_recipe(str(recipe(folder, "tiny-b", license="cc-by-4.0", seed=3))),
        None,
        folder / "out",
        workers=1,
        progress=False,
    )
    staging = hub.stage(built, tmp_path / "staging", "someone/both")
    hub.upload(staging, "someone/both", False, api=api)
    stored, since = set(stand_in.objects), len(stand_in.log)
    hub.stage(other, staging, "someone/both")
    planned = hub.upload(staging, "someone/both", False, api=api)
    assert planned == ["README.md", *sorted(p for p in staged_bytes(staging) if "/tiny-b/" in p)]
    assert stand_in.objects_sent(since) and not stand_in.objects_sent(since) & stored  # only tiny-b's files went up
    repo = stand_in.repos["someone/both"]
    assert repo.files == staged_bytes(staging)
    card = DatasetCard(repo.files["README.md"].decode())
    configs = {c["config_name"] for c in card.data.to_dict()["configs"]}
    assert {"default", "tiny-a", "tiny-a-synrl", "tiny-b", "tiny-b-synrl"} == configs
    assert "## tiny\\-a" in card.text and "## tiny\\-b" in card.text


def test_an_interrupted_upload_resumes_to_the_same_files(built, tmp_path, stand_in, api):
    from videolake import VideolakeError

    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    hub.upload(staging, "someone/whole", False, api=api)  # uninterrupted, for comparison
    whole = stand_in.repos["someone/whole"].files
    stand_in.objects.clear()  # the interrupted upload starts from nothing stored
    puts = []

    def third_put_fails(method: str, path: str) -> bool:
        if method == "PUT" and path.startswith("/lfs-storage/"):
            puts.append(path)
            return len(puts) == 3
        return False

    stand_in.fail_when = third_put_fails
    with pytest.raises(VideolakeError, match="run the same publish again to resume") as failed:
        hub.upload(staging, "someone/tiny", False, api=api)
    assert "\n" not in str(failed.value) and "the stand-in was told to fail" in str(failed.value)
    assert "README.md" not in stand_in.repos["someone/tiny"].files  # no card names files that are not there
    stored = set(stand_in.objects)
    assert stored  # some objects went up before the failure
    stand_in.fail_when = lambda method, path: False
    since = len(stand_in.log)
    hub.upload(staging, "someone/tiny", False, api=api)
    assert stand_in.objects_sent(since) and not stand_in.objects_sent(since) & stored  # nothing stored is sent again
    assert stand_in.repos["someone/tiny"].files == whole == staged_bytes(staging)


def test_a_refused_token_is_one_line(built, tmp_path, stand_in):
    env = {key: value for key, value in hub_env(stand_in).items() if key != "HF_TOKEN"}
    env["HF_HOME"] = str(tmp_path / "no-login")  # no saved token either
    result = run_cli("publish", built, "someone/tiny", "--staging", tmp_path / "st", env=env)
    assert_one_line_error(result, "the Hub refused the token for someone/tiny (401)", "HF_TOKEN")
    assert "someone/tiny" not in stand_in.repos


INJECTIONS = {
    "name": "tiny`` [a](https-x) {c} _e_ ![i](j) # h",  # no <>:/\\|?*: datasets refuses those in a config name (tested below)
    "description": '<script>alert("d")</script>\n# Not a heading\n| not | a table |\n```python\nimport os; os.system("rm -rf ~")\n```\n---\n[link](javascript:alert(3))',
    "license": "apache-2.0` <b>bold</b> ``",
}


def html_tags(html: str) -> list[tuple[str, list]]:
    """Every start tag in rendered HTML, with its attributes."""
    from html.parser import HTMLParser

    found = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, attrs))
    parser.feed(html)
    return found


def test_recipe_text_reaches_the_card_escaped(tmp_path):
    import datasets
    from huggingface_hub import DatasetCard
    from markdown_it import MarkdownIt

    dataset = build(
        load_recipe(
            str(
                recipe(
                    tmp_path, INJECTIONS["name"], license=INJECTIONS["license"], description=INJECTIONS["description"]
                )
            )
        ),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
    )
    staging = hub.stage(dataset, tmp_path / "staging", "someone/tiny")
    card = DatasetCard.load(staging / hub.CARD)
    data = card.data.to_dict()
    assert (
        data["license"] == INJECTIONS["license"] and data["pretty_name"] == f"videolake: {INJECTIONS['name']}"
    )  # safe_dump: the YAML holds the text as it is
    assert {c["config_name"] for c in data["configs"]} == {"default", INJECTIONS["name"], f"{INJECTIONS['name']}-synrl"}
    html = MarkdownIt("commonmark", {"html": True}).render(card.text)
    tags = html_tags(html)
    assert {tag for tag, _ in tags} <= {
        "h1",
        "h2",
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "pre",
        "img",
    }  # no script, b, a, hr
    assert not [name for _, attrs in tags for name, _ in attrs if name.startswith("on")]
    assert all(dict(attrs)["src"].startswith("images/") for tag, attrs in tags if tag == "img")
    assert "<h1>Not" not in html and "<td>not" not in html
    assert not any(
        "os.system" in block for block in re.findall(r"<pre>.*?</pre>", html, re.S)
    )  # the recipe's code fence is text
    assert "&lt;script&gt;alert(&quot;d&quot;)&lt;/script&gt;" in html and "# Not a heading" in html  # shown as text
    assert "<code>" + INJECTIONS["license"].replace("<", "&lt;").replace(">", "&gt;") + "</code>" in html
    assert f'ds = datasets.load_dataset("someone/tiny", {json.dumps(INJECTIONS["name"])})' in unescape(
        html
    )  # the load line quotes it
    assert len(datasets.load_dataset(str(staging), INJECTIONS["name"])["train"]) == 3


def test_a_name_datasets_cannot_load_as_a_config_is_refused(tmp_path):
    dataset = build(
        load_recipe(str(recipe(tmp_path, "<img src=x onerror=alert(1)>", license="mit"))),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
    )
    assert_one_line_error(
        run_cli("publish", dataset, "someone/x", "--dry-run", "--staging", tmp_path / "st"),
        "cannot be a Hub config name",
    )
    assert not (tmp_path / "st").exists()


def test_curation_that_would_leave_nothing_is_refused_in_one_line(built, tmp_path):
    """Every group zero-variance: curate says so and writes no empty dataset (which nothing could
    open, publish included)."""
    import datasets

    ids = [row["id"] for split in datasets.load_from_disk(str(built)).values() for row in split]
    rollouts = tmp_path / "rollouts.jsonl"
    rollouts.write_text(
        "".join(json.dumps({"id": record_id, "completion": "no answer"}) + "\n" for record_id in ids for _ in range(2))
    )
    assert_one_line_error(
        run_cli("curate", built, "--rollouts", rollouts, "--k", 2, "--out", tmp_path / "curated"), "would be empty"
    )
    assert not list((tmp_path / "curated").glob("*-curated"))


def test_a_dataset_of_empty_shards_is_refused_in_one_line(built, tmp_path):
    import shutil

    from videolake.pipeline.shards import serialize_shard, sha256_file

    empty = tmp_path / "empty"
    shutil.copytree(built, empty)
    manifest = json.loads((empty / "manifest.json").read_text())
    for key in manifest["shards"]:
        (empty / key).write_bytes(serialize_shard([]))
        manifest["shards"][key] = {"rows": 0, "bytes": (empty / key).stat().st_size, "sha256": sha256_file(empty / key)}
    manifest["counts"] = {split: {} for split in manifest["counts"]}
    (empty / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(
        run_cli("publish", empty, "someone/x", "--dry-run", "--staging", tmp_path / "st"), "holds no records"
    )
    assert not (tmp_path / "st").exists()


@pytest.mark.parametrize(
    "content", ["nope", "[1]", "{}", '{"default": "x", "datasets": {"x": 5}}', '{"default": "y", "datasets": {}}']
)
def test_a_broken_staging_state_is_one_line(built, tmp_path, content):
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / hub.STATE).write_text(content)
    assert_one_line_error(run_cli("publish", built, "someone/x", "--dry-run", "--staging", tmp_path / "st"), hub.STATE)
    assert [p.name for p in (tmp_path / "st").iterdir()] == [hub.STATE]


@settings(max_examples=150, deadline=None)
@given(content=JSON_VALUES.map(json.dumps).map(str.encode) | st.binary(max_size=64))
def test_any_content_of_the_staging_state_is_used_whole_or_one_error(content):
    """What stage and upload read back from the staging dot-file has the shape they rely on."""
    import tempfile

    from videolake import VideolakeError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / hub.STATE
        path.write_bytes(content)
        try:
            state = hub.read_state(path)
        except VideolakeError as err:
            assert str(path) in str(err)
            return
        assert state["default"] in state["datasets"]
        assert all(set(staged) == hub.STAGED_FIELDS for staged in state["datasets"].values())
        hub.card_text(state)  # what the card is written from


SIZES = st.fixed_dictionaries({field: st.integers(min_value=-1, max_value=10**12) for field in hub.SIZE_FIELDS})
STAGED = st.fixed_dictionaries(
    {
        "splits": st.dictionaries(
            st.sampled_from(sorted(TASKS)) | st.text(max_size=4),
            st.dictionaries(st.sampled_from(["train", "test"]), SIZES | JSON_VALUES, max_size=2) | JSON_VALUES,
            max_size=3,
        ),
        **{field: st.text(max_size=8) | JSON_VALUES for field in hub.STAGED_FIELDS - {"splits"}},
    }
)


@settings(max_examples=150, deadline=None)
@given(datasets=st.dictionaries(st.text(min_size=1, max_size=6), STAGED, min_size=1, max_size=2), data=st.data())
def test_a_staging_state_of_the_right_outline_is_used_whole_or_one_error(datasets, data):
    """Near misses of the state stage writes: what read_state accepts, the card is written from."""
    import tempfile

    from videolake import VideolakeError

    state = {"default": data.draw(st.sampled_from(sorted(datasets))), "datasets": datasets}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / hub.STATE
        path.write_text(json.dumps(state))
        try:
            hub.card_text(hub.read_state(path))
        except VideolakeError as err:
            assert str(path) in str(err)
