"""Arithmetic test suites: named, declarative lists of (op, digits of a, digits of b) buckets, and the
seeded problems for each bucket.

A bucket's problems depend only on (op, lengths, seed, index), so a suite's problems are fixed for a
given (suite, seed), two suites that share a bucket share its problems, and a larger ``--n`` extends a
bucket without changing its first problems.

>>> [b.label for b in SUITES.get("goat").buckets][:4]
['8D+8D', '16D+8D', '16D+16D', '8D-8D']
>>> grid_buckets("add,mul", "2-3")
(Bucket(op='add', la=2, lb=2), Bucket(op='add', la=3, lb=3), Bucket(op='mul', la=2, lb=2), Bucket(op='mul', la=3, lb=3))
>>> len(grid_buckets("add", "1-4x1-2"))
8
>>> [p.expr() for p in bucket_problems(Bucket("add", 3, 2), n=2, seed=0)] == [p.expr() for p in bucket_problems(Bucket("add", 3, 2), n=3, seed=0)][:2]
True
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mathwright.arith.problem import LABELS, Problem
from mathwright.arith.sampling import sample_with_digits
from mathwright.registry import Registry

EVAL_OPS = ("add", "sub", "mul", "div")
# Bounds checked arithmetically before any table is built (issue 22): a longer operand or a bigger grid
# is refused with a message instead of eating the machine. The model's context is checked separately
# (eval/arith.py) once the model is loaded.
MAX_DIGITS = 100_000  # per operand
MAX_BUCKETS = 10_000
MAX_PROBLEMS = 1_000_000  # buckets x --n
MAX_TOTAL_DIGITS = 50_000_000  # operand digits over all problems (~20 MB of ints, ~100 MB of prompts)


@dataclass(frozen=True)
class Bucket:
    """Problems ``a <op> b`` with ``a`` of exactly ``la`` digits and ``b`` of exactly ``lb`` digits."""

    op: str
    la: int
    lb: int

    @property
    def key(self) -> str:
        """Stable id prefix, e.g. ``add:16x8``."""
        return f"{self.op}:{self.la}x{self.lb}"

    @property
    def label(self) -> str:
        """Goat's column name, e.g. ``16D+8D``, ``6Dx6D``, ``12D/6D``."""
        return f"{self.la}D{LABELS[self.op]}{self.lb}D"


@dataclass(frozen=True)
class Suite:
    """A named list of buckets."""

    name: str
    buckets: tuple[Bucket, ...]
    description: str = ""


def _b(spec: str) -> tuple[Bucket, ...]:
    """``"add:8x8 mul:6x6"`` -> buckets (keeps suite entries one readable line each)."""
    out = []
    for item in spec.split():
        op, shape = item.split(":")
        la, lb = shape.split("x")
        out.append(Bucket(op, int(la), int(lb)))
    return tuple(out)


SUITES: Registry = Registry("arith suites")
SUITES.add("goat", Suite("goat", _b("add:8x8 add:16x8 add:16x16 sub:8x8 sub:16x16 mul:1x16 mul:4x8 mul:6x6 "
                                    "div:16x1 div:6x3 div:12x6"),
                         "Goat's own test shapes (arXiv 2305.14201, Table 3 extra columns)"))
SUITES.add("bigbench", Suite("bigbench", _b(" ".join(f"{op}:{n}x{n}" for op in EVAL_OPS for n in range(1, 6))),
                             "BIG-bench-style nD op nD columns, n = 1..5"))
SUITES.add("quickstart", Suite("quickstart", _b("add:3x3 add:6x6 add:6x3 add:2x5 add:1x6"),
                               "what the 15-minute CPU quickstart model is trained for"))
SUITES.add("quickstart-smoke", Suite("quickstart-smoke", _b("add:2x2 add:3x3"),
                                     "the CI smoke run of the quickstart"))
SUITES.add("scratch", Suite("scratch", _b("add:8x8 add:16x8 add:16x16 sub:8x8 sub:16x16 mul:3x3 mul:4x4 mul:6x6"),
                            "from-scratch benchmark shapes (bench/arith_scratch.py)"))


def _range(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", text.strip())
    if not m:
        raise ValueError(f"bad digit range {text!r}: expected N or LO-HI, e.g. '1-16'")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if not 1 <= lo <= hi:
        raise ValueError(f"bad digit range {text!r}: need 1 <= LO <= HI")
    if hi > MAX_DIGITS:
        raise ValueError(f"bad digit range {text!r}: operands of at most {MAX_DIGITS} digits")
    return lo, hi


def grid_buckets(ops: str, digits: str) -> tuple[Bucket, ...]:
    """``--ops add,sub --digits 1-16`` -> square shapes nD op nD; ``--digits 1-16x1-8`` -> every length pair."""
    names = [o.strip() for o in ops.split(",") if o.strip()]
    bad = [o for o in names if o not in EVAL_OPS]
    if bad or not names:
        raise ValueError(f"bad --ops {ops!r}: valid ops are {', '.join(EVAL_OPS)}")
    ranges = [_range(t) for t in digits.split("x", 1)]
    count = len(names)
    for lo, hi in ranges:
        count *= hi - lo + 1
    if count > MAX_BUCKETS:
        raise ValueError(f"--ops {ops!r} --digits {digits!r} make {count} buckets; at most {MAX_BUCKETS}")
    if "x" in digits:
        ra, rb = ranges
        pairs = [(i, j) for i in range(ra[0], ra[1] + 1) for j in range(rb[0], rb[1] + 1)]
    else:
        lo, hi = ranges[0]
        pairs = [(i, i) for i in range(lo, hi + 1)]
    return tuple(Bucket(op, i, j) for op in names for i, j in pairs)


def resolve_buckets(suite: str | None, ops: str | None, digits: str | None) -> tuple[str, tuple[Bucket, ...]]:
    """The suite name (``grid`` for --ops/--digits) and its buckets; ``goat`` when nothing is given."""
    if suite and (ops or digits):
        raise ValueError("give either --suite or --ops/--digits, not both")
    if ops or digits:
        return "grid", grid_buckets(ops or ",".join(EVAL_OPS), digits or "1-16")
    name = suite or "goat"
    return name, SUITES.get(name).buckets


def check_size(buckets: tuple[Bucket, ...], n: int) -> None:
    """Refuse an eval whose problem table (buckets x ``n``, and their digits) would not fit in memory."""
    if n < 1:
        raise ValueError(f"--n must be >= 1 (got {n})")
    if len(buckets) * n > MAX_PROBLEMS:
        raise ValueError(f"{len(buckets)} buckets x --n {n} = {len(buckets) * n} problems; at most {MAX_PROBLEMS}")
    total = n * sum(b.la + b.lb for b in buckets)
    if total > MAX_TOTAL_DIGITS:
        raise ValueError(f"--n {n} problems per bucket of these lengths hold {total} operand digits; at most "
                         f"{MAX_TOTAL_DIGITS} (lower --n or --digits)")


def bucket_problems(bucket: Bucket, n: int, seed: int) -> list[Problem]:
    """``n`` seeded problems for ``bucket`` (string seeds are stable across runs and Python versions)."""
    rng = random.Random(f"mathwright-arith|{seed}|{bucket.key}")
    return [Problem(bucket.op, sample_with_digits(rng, bucket.la), sample_with_digits(rng, bucket.lb)) for _ in range(n)]
