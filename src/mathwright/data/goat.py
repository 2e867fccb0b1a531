"""The Goat data job (``mathwright generate goat``): the six-bucket arithmetic mix of Goat (Liu & Low 2023),
every record checked step by step before it is written (:mod:`mathwright.arith.goat_mix` draws the problems,
:mod:`mathwright.formats.goat` renders and checks them, :func:`~mathwright.data.generate.write_dataset` writes).

    from mathwright.data.goat import GoatDataConfig, run
    meta = run(GoatDataConfig(out=Path("data/goat.jsonl"), n=100_000, workers=2,
                              splits={"train": 0.98, "valid": 0.01, "test": 0.01}))
    meta["files"]["train"]["records"]

The same seed gives the same bytes for any ``workers``; a killed run rerun with the same config ends with the
identical file. Bad settings raise :class:`~mathwright.io.InputError` before anything is generated; a record
that fails its check raises :class:`~mathwright.data.generate.GenerationError` and nothing is written.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from mathwright.arith.goat_mix import GROUPS
from mathwright.io import InputError


@dataclass(frozen=True)
class GoatDataConfig:
    """``mathwright generate goat --out FILE [--n N --seed S --workers W ...]``."""

    out: Path                                   # .jsonl or .parquet (with splits: <stem>.<split><suffix>)
    n: int = 1_746_300                          # records (the reference's full mix)
    seed: int = 0                               # master seed; per-shard seeds derive from it
    workers: int = 1                            # worker processes; the output bytes do not depend on it
    max_digits: int = 16                        # longest add/sub operand, n x 1 factor and n / 1 quotient
    splits: Optional[dict[str, float]] = None   # e.g. {"train": 0.98, "valid": 0.01, "test": 0.01}
    groups: tuple[str, ...] = GROUPS            # subset of add, sub, mul_n1, mul_nm, div_n1, div_nm
    template: str = "goat"                      # goat (Goat's instruction templates) or bare (instruction = input)
    shard_size: int = 10_000                    # records per shard (part of the seed layout)
    progress: bool = True                       # a progress bar on stderr
    fresh: bool = False                         # discard an interrupted run's finished shards


def run(cfg: GoatDataConfig) -> dict:
    """Generate and write the dataset; return its metadata (also written to ``<out>.meta.json``)."""
    from mathwright.arith.goat_mix import GoatMix, GoatMixConfig
    from mathwright.data.generate import write_dataset
    from mathwright.data.shards import check_out_path, check_sizes
    from mathwright.formats import goat

    try:
        check_out_path(cfg.out)
        mix_cfg = GoatMixConfig(max_digits=cfg.max_digits, groups=tuple(cfg.groups), template=cfg.template)
        check_sizes(cfg.n, cfg.shard_size, cfg.workers)  # before the position plan is built
        mix = GoatMix(mix_cfg, n=cfg.n, seed=cfg.seed)
    except InputError:
        raise
    except ValueError as e:  # a bad size, bucket or template
        raise InputError(str(e)) from None
    mix.plan()  # computed once here; forked workers inherit it
    import numpy

    return write_dataset(
        functools.partial(goat.render_mix, mix), cfg.n, cfg.out, seed=cfg.seed, workers=cfg.workers,
        shard_size=cfg.shard_size, splits=cfg.splits, check=goat.check, encode=goat.encode, config=mix_cfg,
        shuffle=False, progress=cfg.progress, fresh=cfg.fresh,
        meta={"generator": "goat", "format": "goat", "templates_version": goat.TEMPLATES["version"],
              "numpy": numpy.__version__, **mix.meta()})
