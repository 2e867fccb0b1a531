"""``mathwright generate goat`` and ``mathwright check``.

    mathwright generate goat --n 1746300 --seed 0 --out data/goat.jsonl --workers 2
    mathwright generate goat --n 100000 --out goat.parquet --split train=0.98,valid=0.01,test=0.01
    mathwright generate goat --n 20000 --template bare --out data/goat-bare.jsonl   # instruction = input: "a + b"
    mathwright check data/goat.jsonl          # ours, or Goat's own dataset.json array
"""
from __future__ import annotations

import functools
import json
import multiprocessing as mp
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator, Optional

import typer

from mathwright.cli.apps import app, err, fail, generate_app, sandbox_app  # noqa: F401

_FMT: dict = {}


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
    from mathwright.arith.goat_mix import GROUPS, GoatMix, GoatMixConfig
    from mathwright.data.generate import (GenerationError, check_out_path, check_sizes, parse_splits, split_paths,
                                          write_dataset)
    from mathwright.formats import goat

    md = _int_option("--max-digits", max_digits, 2, 300, "16")
    groups = tuple(b.strip() for b in buckets.split(",")) if buckets else GROUPS
    try:
        check_out_path(out)
        splits = parse_splits(split) if split else None
        cfg = GoatMixConfig(max_digits=md, groups=groups, template=template)
        check_sizes(n, shard_size, workers)  # before the position plan is built
        mix = GoatMix(cfg, n=n, seed=seed)
    except ValueError as e:
        fail(str(e))
    mix.plan()  # computed once here; forked workers inherit it
    import numpy

    try:
        meta = write_dataset(
            functools.partial(goat.render_mix, mix), n, out, seed=seed, workers=workers, shard_size=shard_size, splits=splits, check=goat.check,
            encode=goat.encode, config=cfg, shuffle=False, progress=progress, fresh=fresh,
            meta={"generator": "goat", "format": "goat", "templates_version": goat.TEMPLATES["version"],
                  "numpy": numpy.__version__, **mix.meta()})
    except GenerationError as e:
        fail(f"generation aborted, nothing written: {e}")
    for name, info in meta["files"].items():
        ops = ", ".join(f"{k} {v}" for k, v in info["by_op"].items())
        typer.echo(f"wrote {info['records']} records to {split_paths(out, splits)[name]} ({ops})")
    typer.echo(f"metadata: {out}.meta.json")


# -------------------------------------------------------------------------------------------- check


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    from mathwright.io import read_lines

    for i, line in read_lines(path):
        if line.strip():
            yield i, line


def _check_chunk(chunk: list[tuple[int, object]]) -> tuple[Counter, list[tuple[int, str, str]], tuple[int, str] | None]:
    """Check (line, JSON text or record) pairs; return counts per op, (line, problem, record) failures and
    the first unreadable line (not JSON, not an object) as ``(line, problem)``: the file is then bad input."""
    check, op_of, batch = _FMT["check"], _FMT["op_of"], _FMT.get("check_records")
    counts: Counter = Counter()
    bad: list[tuple[int, str, str]] = []
    recs: list[tuple[int, dict]] = []
    for i, item in chunk:
        if isinstance(item, str):
            try:
                rec = json.loads(item)
            except json.JSONDecodeError as e:
                return counts, bad, (i, f"not JSON ({e.msg} at column {e.colno})")
        else:
            rec = item
        if not isinstance(rec, dict):
            return counts, bad, (i, f"expected a JSON object, got {type(rec).__name__}")
        recs.append((i, rec))
    # a format that runs programs (pot) checks the whole chunk at once, in one sandbox pool
    problems = batch([r for _, r in recs], workers=_FMT.get("workers", 1)) if batch else [check(r) for _, r in recs]
    for (i, rec), problem in zip(recs, problems):
        counts[op_of(rec)] += 1
        if problem:
            bad.append((i, problem, json.dumps(rec, ensure_ascii=False)))
    return counts, bad, None


def _chunks(items: Iterator[tuple[int, object]], size: int = 20_000) -> Iterator[list[tuple[int, object]]]:
    chunk: list[tuple[int, object]] = []
    for it in items:
        chunk.append(it)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    from mathwright.io import DataError, check_input_file, read_records
    from mathwright.formats.registry import FORMATS

    try:
        spec = FORMATS.get(fmt)
    except KeyError as e:
        fail(str(e.args[0]))
    check_input_file(file)
    # a record-level checker when the format has one (gsm, pot: their ``check`` takes a solution text)
    _FMT.update(check=getattr(spec, "check_record", None) or spec.check,
                check_records=getattr(spec, "check_records", None), workers=workers,
                op_of=getattr(spec, "op_of", None) or (lambda r: str(r.get("op", "?"))))
    unit = "line"
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            items: Iterator = enumerate(pq.read_table(file).to_pylist(), 1)
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise DataError(file, None, f"not a Parquet file ({e})") from None
        unit = "record"
    else:
        with open(file, encoding="utf-8", errors="replace") as f:
            head = f.read(4096).lstrip()
        if head.startswith("["):
            items, unit = read_records(file), "record"  # one JSON array: numbered by record
        else:
            items = _iter_lines(file)
    total: Counter = Counter()
    shown = nbad = 0
    # (a batch checker runs its own sandbox workers; forked processes would only nest pools)
    pool = mp.get_context("fork").Pool(workers) if workers > 1 and not _FMT["check_records"] else None
    try:
        results = pool.imap(_check_chunk, _chunks(items)) if pool else map(_check_chunk, _chunks(items))
        for counts, bad, unreadable in results:
            if unreadable:  # input that is not a dataset: exit 2 naming the line, like any other bad input
                raise DataError(file, unreadable[0], unreadable[1])
            total.update(counts)
            for line, problem, rec in bad:
                nbad += 1
                if not max_show or shown < max_show:
                    shown += 1
                    typer.echo(f"{file}:{unit} {line}: {problem}\n  {rec}")
    finally:
        if pool:
            pool.terminate()
    n = sum(total.values())
    if n == 0:
        raise DataError(file, None, "no records")
    ops = ", ".join(f"{k} {v}" for k, v in sorted(total.items()))
    typer.echo(f"{file}: {n} records ({ops}); " + ("all valid" if not nbad else f"{nbad} INVALID"))
    if nbad:
        raise typer.Exit(1)
