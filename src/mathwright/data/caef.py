"""The CAEF data job (``mathwright generate caef``): step pairs of the CAEF machines (executors, aligners and
composers) for balanced operand-length classes, every record checked against the oracle before it is written
(:mod:`mathwright.formats.caef_data` renders and checks one sequence's pairs).

    from mathwright.data.caef import CaefDataConfig, run
    meta = run(CaefDataConfig(out=Path("caef.jsonl"), ops=("add", "sub"), digits="1-100", n=100_000))

Balanced: each shard cycles through a seeded shuffle of the (op, len a, len b) classes, so every class gets
about the same number of sequences. Bad settings raise :class:`~mathwright.io.InputError` before anything is
generated; a record that fails its check raises :class:`~mathwright.data.generate.GenerationError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mathwright.io import InputError

_EAGER_CLASSES = 200_000  # up to here the class list is built and shuffled (the bytes of earlier releases)
SHARD_SIZE = 10_000


@dataclass(frozen=True)
class CaefDataConfig:
    """``mathwright generate caef --out FILE [--ops add,sub --digits 1-100 --n N ...]``."""

    out: Path                       # .jsonl or .parquet
    ops: tuple[str, ...] = ("add",)  # of formats.caef_data.OP_MACHINE: add, sub, mul, div, eq, gt, lt, lmul, ...
    digits: str = "1-100"           # operand length range, e.g. 1-100 or 5 (recorded as given)
    n: int = 10_000                 # step pairs (records)
    seed: int = 42
    mode: str = "full"              # full (CAEF text) or local (local-view steps)
    variant: str = "caef"           # caef: the reference's composer prompts; fixed: real callee halt lines
    keep: int = 7                   # step pairs kept per sequence
    workers: int = 1
    progress: bool = True
    fresh: bool = False             # discard an interrupted run's finished shards


def digit_range(digits: str) -> tuple[int, int]:
    """``"1-100"`` -> ``(1, 100)``, ``"5"`` -> ``(5, 5)``; InputError unless 1 <= lo <= hi <= MAX_DIGITS."""
    from mathwright.formats.caef_data import MAX_DIGITS

    lo, _, hi = digits.partition("-")
    try:
        lo_i, hi_i = int(lo), int(hi or lo)
    except ValueError:
        raise InputError(f"bad --digits {digits!r}; expected e.g. 1-100") from None
    if not 1 <= lo_i <= hi_i:
        raise InputError(f"bad --digits {digits!r}; need 1 <= lo <= hi")
    if hi_i > MAX_DIGITS:
        raise InputError(f"bad --digits {digits!r}: CAEF operands of at most {MAX_DIGITS} digits (a record holds both "
                         f"operands: ~10-30 characters per digit)")
    return lo_i, hi_i


def _class_at(c: int, ops: list[str], lo: int, span: int) -> tuple[str, int, int]:
    """The ``c``-th (op, len a, len b) class in the order of the eager list."""
    o, rest = divmod(c, span * span)
    i, j = divmod(rest, span)
    return ops[o], lo + i, lo + j


def make_shard_fn(cfg: CaefDataConfig):  # -> Callable[[Shard], list[dict]]
    """The ``write_dataset`` shard function of ``cfg`` (checked settings)."""
    from mathwright.formats.caef_data import make_records

    op_list = list(cfg.ops)
    lo_i, hi_i = digit_range(cfg.digits)
    span = hi_i - lo_i + 1
    n_classes = len(op_list) * span * span  # never materialised when large (issue 22)
    classes = ([(o, i, j) for o in op_list for i in range(lo_i, hi_i + 1) for j in range(lo_i, hi_i + 1)]
               if n_classes <= _EAGER_CLASSES else None)

    def make_shard(shard):  # balanced: cycle through a shuffled order of the (op, len a, len b) classes
        rng = shard.rng()
        recs: list[dict] = []
        order: list = []
        while len(recs) < shard.count:
            if not order:
                if classes is not None:  # the shuffled list of every class (the bytes of earlier releases)
                    order = classes[:]
                    rng.shuffle(order)
                else:  # distinct random classes, as many as the shard can use, drawn without the table
                    k = min(n_classes, shard.count - len(recs))
                    order = [_class_at(c, op_list, lo_i, span) for c in rng.sample(range(n_classes), k)]
            o, la, lb = order.pop()
            recs += make_records(o, la, lb, rng, mode=cfg.mode, compat=cfg.variant == "caef", keep=cfg.keep)
        return recs[:shard.count]

    return make_shard


def check_config(cfg: CaefDataConfig) -> None:
    """InputError for an unknown op, a bad digit range, mode or variant, or sizes the writer cannot plan."""
    from mathwright.data.shards import check_sizes
    from mathwright.formats.caef_data import OP_MACHINE

    for o in cfg.ops:
        if o not in OP_MACHINE:
            raise InputError(f"unknown op {o!r}; valid: {', '.join(OP_MACHINE)}")
    digit_range(cfg.digits)
    if cfg.mode not in ("full", "local") or cfg.variant not in ("caef", "fixed"):
        raise InputError("--mode must be full|local and --variant caef|fixed")
    try:
        check_sizes(cfg.n, SHARD_SIZE, cfg.workers)
    except ValueError as e:
        raise InputError(str(e)) from None


def run(cfg: CaefDataConfig) -> dict:
    """Generate and write the dataset; return its metadata (also written to ``<out>.meta.json``)."""
    from mathwright.data.generate import write_dataset
    from mathwright.formats.caef_data import check_record

    check_config(cfg)
    return write_dataset(make_shard_fn(cfg), cfg.n, cfg.out, seed=cfg.seed, workers=cfg.workers, check=check_record,
                         split_key="instruction", count_by="op", progress=cfg.progress, fresh=cfg.fresh,
                         config={"ops": list(cfg.ops), "digits": cfg.digits, "mode": cfg.mode,
                                 "variant": cfg.variant, "keep": cfg.keep})
