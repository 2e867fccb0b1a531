"""``mathwright generate goat`` and ``mathwright check``.

    mathwright generate goat --n 1746300 --seed 0 --out data/goat.jsonl --workers 2
    mathwright generate goat --n 100000 --out goat.parquet --split train=0.98,valid=0.01,test=0.01
    mathwright generate goat --n 20000 --template bare --out data/goat-bare.jsonl   # instruction = input: "a + b"
    mathwright check data/goat.jsonl          # ours, or Goat's own dataset.json array
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail, generate_app


def _int_option(name: str, text: str, lo: int, hi: int, default: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = lo - 1
    if not lo <= v <= hi:
        fail(f"invalid value for {name}: {text!r}; expected an integer from {lo} to {hi} (default {default})")
    return v


@generate_app.command("goat")
def generate_goat(
    out: Path = typer.Option(..., "--out", help="Output file: .jsonl or .parquet (with --split: <stem>.<split><suffix>)."),
    n: int = typer.Option(1_746_300, "--n", min=1, help="Number of records (default: the reference's 1,746,300)."),
    seed: int = typer.Option(0, "--seed", help="Master seed; per-shard seeds derive from it (recorded in the .meta.json)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes; the output bytes do not depend on it."),
    max_digits: str = typer.Option("16", "--max-digits", help="Longest add/sub operand, n x 1 factor and n / 1 quotient."),
    split: Optional[str] = typer.Option(None, "--split", help="e.g. train=0.98,valid=0.01,test=0.01 (splits never share a problem)."),
    buckets: Optional[str] = typer.Option(None, "--buckets", help="Comma-separated subset of add,sub,mul_n1,mul_nm,div_n1,div_nm."),
    template: str = typer.Option("goat", "--template", help="Instructions: goat (noised expression in Goat's templates) or bare (the instruction is the input 'a + b')."),
    shard_size: int = typer.Option(10_000, "--shard-size", min=1, help="Records per shard (part of the seed layout)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    fresh: bool = typer.Option(False, "--fresh", help="Discard an interrupted run's finished shards instead of reusing them."),
) -> None:
    """Generate the Goat arithmetic dataset (six buckets, every record checked step by step before it is written)."""
    from mathwright.arith.goat_mix import GROUPS
    from mathwright.data.generate import GenerationError
    from mathwright.data.goat import GoatDataConfig, run
    from mathwright.data.shards import parse_splits, split_paths

    md = _int_option("--max-digits", max_digits, 2, 300, "16")
    groups = tuple(b.strip() for b in buckets.split(",")) if buckets else GROUPS
    try:
        splits = parse_splits(split) if split else None
    except ValueError as e:
        fail(str(e))
    cfg = GoatDataConfig(out=out, n=n, seed=seed, workers=workers, max_digits=md, splits=splits, groups=groups,
                         template=template, shard_size=shard_size, progress=progress, fresh=fresh)
    try:
        meta = run(cfg)
    except GenerationError as e:
        fail(f"generation aborted, nothing written: {e}")
    for name, info in meta["files"].items():
        ops = ", ".join(f"{k} {v}" for k, v in info["by_op"].items())
        typer.echo(f"wrote {info['records']} records to {split_paths(out, splits)[name]} ({ops})")
    typer.echo(f"metadata: {out}.meta.json")


# -------------------------------------------------------------------------------------------- check


@app.command("check")
def check_file(
    file: Path = typer.Argument(..., help="A dataset: JSON Lines, a JSON array (Goat's dataset.json) or Parquet."),
    fmt: str = typer.Option("goat", "--format", help="Record format to verify."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    max_show: int = typer.Option(0, "--max-show", min=0, help="Print at most this many invalid records (0 = all)."),
) -> None:
    """Re-verify every record of a dataset; print counts per op and each invalid record with its line.
    Exit 0 only when all records are valid (1 when some are not, 2 on unreadable input: a line that is not
    JSON, no records)."""
    from mathwright.data.check import CheckConfig, run

    report = run(CheckConfig(file=file, format=fmt, workers=workers, max_show=max_show), show=typer.echo)
    typer.echo(report.summary())
    if report.invalid:
        raise typer.Exit(1)
