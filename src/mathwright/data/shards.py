"""The layout of a generated dataset, fixed before any record is made (:func:`~mathwright.data.generate.write_dataset`
builds on it): the shard plan and each shard's seed, the split files and the rule that puts a record in one,
and the bounds on sizes and output paths that are checked before anything is generated.

>>> [(s.index, s.start, s.count) for s in plan_shards(25, seed=1, shard_size=10)]
[(0, 0, 10), (1, 10, 10), (2, 20, 5)]
>>> split_paths("goat.jsonl", ["train", "test"])
{'train': PosixPath('goat.train.jsonl'), 'test': PosixPath('goat.test.jsonl')}
"""
from __future__ import annotations

import hashlib
import os
import random
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

FORMATS = (".jsonl", ".parquet")
UNSPLIT = "all"
MAX_SHARDS = 1_000_000  # the shard plan is a list: n / shard_size bounded before it is built


def max_workers() -> int:
    """The most worker processes a generation may fork (4 per CPU: more only costs memory)."""
    return 4 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class Shard:
    """One fixed-size slice of the dataset; its seed depends only on (master seed, index)."""

    index: int
    start: int
    count: int
    seed: int

    def rng(self) -> random.Random:
        return random.Random(self.seed)


def shard_seed(seed: int, index: int) -> int:
    """64-bit seed of shard ``index`` derived from the master ``seed`` alone.

    >>> shard_seed(0, 0) == shard_seed(0, 0) != shard_seed(0, 1)
    True
    """
    digest = hashlib.sha256(f"mathwright-shard:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def plan_shards(n: int, seed: int, shard_size: int) -> list[Shard]:
    """The fixed shard layout of an ``n``-record dataset."""
    return [Shard(i, s, min(shard_size, n - s), shard_seed(seed, i)) for i, s in enumerate(range(0, n, shard_size))]


def parse_splits(text: str) -> dict[str, float]:
    """Parse ``'train=0.98,valid=0.01,test=0.01'``; fractions must be positive and sum to 1.

    >>> parse_splits("train=0.9,test=0.1")
    {'train': 0.9, 'test': 0.1}
    """
    out: dict[str, float] = {}
    for part in text.split(","):
        name, eq, frac = part.strip().partition("=")
        try:
            value = float(frac)
        except ValueError:
            value = -1.0
        if not eq or not name.isidentifier() or name == UNSPLIT or not 0 < value <= 1 or name in out:
            raise ValueError(f"bad split {part.strip()!r} in {text!r}: expected NAME=FRACTION pairs such as "
                             "'train=0.98,valid=0.01,test=0.01' (distinct names, fractions in (0, 1])")
        out[name] = value
    if abs(sum(out.values()) - 1) > 1e-6:
        raise ValueError(f"split fractions in {text!r} sum to {sum(out.values()):g}, not 1")
    return out


def split_paths(out: str | os.PathLike, splits: Iterable[str] | None) -> dict[str, Path]:
    """Output file of each split: ``goat.jsonl`` -> ``{'train': goat.train.jsonl, ...}``; ``{'all': out}`` unsplit."""
    out = Path(out)
    if not splits:
        return {UNSPLIT: out}
    return {name: out.with_name(f"{out.stem}.{name}{out.suffix}") for name in splits}


def check_out_path(out: str | os.PathLike) -> Path:
    """Validate the output file name before anything is generated."""
    out = Path(out)
    if out.suffix not in FORMATS:
        raise ValueError(f"output {str(out)!r}: unknown format {out.suffix or '(none)'!r}; valid: {', '.join(FORMATS)}")
    if out.exists() and out.is_dir():
        raise ValueError(f"output {str(out)!r} is a directory")
    from mathwright.io import check_output_path

    return check_output_path(out)  # a parent that is a file, or unwritable: fail before generating


def check_sizes(n: int, shard_size: int, workers: int) -> None:
    """Refuse (ValueError) sizes the writer cannot plan: negative, or a shard plan / pool past its bounds."""
    if n < 0 or shard_size < 1 or workers < 1:
        raise ValueError(f"need n >= 0, shard_size >= 1, workers >= 1 (got {n}, {shard_size}, {workers})")
    if -(-n // shard_size) > MAX_SHARDS:
        raise ValueError(f"--n {n} in shards of {shard_size} records makes {-(-n // shard_size)} shards; at most "
                         f"{MAX_SHARDS} (raise --shard-size or lower --n)")
    if workers > max_workers():
        raise ValueError(f"--workers {workers}: at most {max_workers()} (4 per CPU on this machine)")


def split_of(key: str, cum: list[tuple[float, str]]) -> str:
    """The split of a record whose split key is ``key``: CRC-32 of the key against the cumulative fractions
    ``cum`` (``[(0.98, "train"), (0.99, "valid"), (1.0, "test")]``)."""
    x = zlib.crc32(key.encode()) / 4294967296.0
    for edge, name in cum:
        if x < edge:
            return name
    return cum[-1][1]
