"""The check job (``mathwright check``): re-verify every record of a dataset against exact arithmetic with its
format's checker, and count the records per op.

    from mathwright.data.check import CheckConfig, run
    report = run(CheckConfig(Path("data/goat.train.jsonl"), workers=2), show=print)  # prints each invalid record
    report.invalid, report.summary()   # (0, 'data/goat.train.jsonl: 1710 records (add 400, ...); all valid')

Reads JSON Lines, one JSON array (Goat's own ``dataset.json``) or Parquet. Input that is not a dataset (a
line that is not a JSON object, no records, an unknown format) raises :class:`~mathwright.io.InputError`
naming the file and line; an invalid record is not an error of the input but a finding, in the report.
"""
from __future__ import annotations

import json
import multiprocessing as mp
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from mathwright.io import DataError, InputError, check_input_file, read_lines, read_records

_FMT: dict = {}  # the format's checkers, set before forking the pool (workers inherit them)
CHUNK = 20_000   # records per task


@dataclass(frozen=True)
class CheckConfig:
    """``mathwright check FILE [--format F --workers W --max-show K]``."""

    file: Path
    format: str = "goat"  # formats registry name
    workers: int = 1      # worker processes (a format that runs programs, pot, runs its own sandbox pool)
    max_show: int = 0     # report at most this many invalid records (0 = all)


@dataclass(frozen=True)
class CheckReport:
    file: Path
    counts: dict[str, int]  # records per op
    invalid: int

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return f"{self.file}: {self.records} records ({ops}); " + ("all valid" if not self.invalid else f"{self.invalid} INVALID")


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
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


def _chunks(items: Iterator[tuple[int, object]], size: int = CHUNK) -> Iterator[list[tuple[int, object]]]:
    chunk: list[tuple[int, object]] = []
    for it in items:
        chunk.append(it)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _items(file: Path) -> tuple[Iterator[tuple[int, object]], str]:
    """The file's ``(number, JSON text or record)`` items and what a number counts (line or record)."""
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return enumerate(pq.read_table(file).to_pylist(), 1), "record"
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise DataError(file, None, f"not a Parquet file ({e})") from None
    with open(file, encoding="utf-8", errors="replace") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        return read_records(file), "record"  # one JSON array: numbered by record
    return _iter_lines(file), "line"


def run(cfg: CheckConfig, show: Callable[[str], None] = print) -> CheckReport:
    """Check every record; pass each invalid one (up to ``max_show``) to ``show`` as it is found, as
    ``FILE:line N: problem`` and the record on an indented second line; return the counts."""
    from mathwright.formats.registry import FORMATS

    try:
        spec = FORMATS.get(cfg.format)
    except KeyError as e:
        raise InputError(str(e.args[0])) from None
    file = cfg.file
    check_input_file(file)
    # a record-level checker when the format has one (gsm, pot: their ``check`` takes a solution text)
    _FMT.update(check=getattr(spec, "check_record", None) or spec.check,
                check_records=getattr(spec, "check_records", None), workers=cfg.workers,
                op_of=getattr(spec, "op_of", None) or (lambda r: str(r.get("op", "?"))))
    items, unit = _items(file)
    total: Counter = Counter()
    shown = nbad = 0
    # (a batch checker runs its own sandbox workers; forked processes would only nest pools)
    pool = mp.get_context("fork").Pool(cfg.workers) if cfg.workers > 1 and not _FMT["check_records"] else None
    try:
        results = pool.imap(_check_chunk, _chunks(items)) if pool else map(_check_chunk, _chunks(items))
        for counts, bad, unreadable in results:
            if unreadable:  # input that is not a dataset: bad input naming the line
                raise DataError(file, unreadable[0], unreadable[1])
            total.update(counts)
            for line, problem, rec in bad:
                nbad += 1
                if not cfg.max_show or shown < cfg.max_show:
                    shown += 1
                    show(f"{file}:{unit} {line}: {problem}\n  {rec}")
    finally:
        if pool:
            pool.terminate()
    if sum(total.values()) == 0:
        raise DataError(file, None, "no records")
    return CheckReport(file, dict(total), nbad)
