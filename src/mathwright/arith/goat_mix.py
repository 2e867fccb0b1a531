"""Goat's six operand buckets (docs/goat.md §2) with the §8 fixes: exact digit lengths, add/sub up to
``max_digits`` inclusive, 0 in explicit special buckets, every draw seeded.

Each op group keeps the reference's share of the mix (add 304,000, sub 304,000, mul n x 1 185,500,
mul n x m 420,000, div n / 1 187,800, div n / m 345,000 of 1,746,300); inside a group the reference's
per-bucket weights (passes, special buckets) split it. ``n`` scales everything by largest remainders.
Positions are assigned to buckets by one seeded permutation, so any slice of the mix is well mixed.

>>> mix = GoatMix(GoatMixConfig(max_digits=15), n=1_746_300 - 1_000, seed=0)
>>> mix.group_counts()["mul_nm"], sum(mix.group_counts().values())
(419760, 1745300)
>>> import random
>>> [p.expr() for p in mix.problems(random.Random(1), [0, 1])]  # buckets 0 and 1: add 1x1, add 1x2
['2 + 3', '67 + 8']
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from mathwright.arith.problem import Problem

REFERENCE_COUNTS: dict[str, int] = {
    "add": 304_000, "sub": 304_000, "mul_n1": 185_500, "mul_nm": 420_000, "div_n1": 187_800, "div_nm": 345_000,
}
GROUPS: tuple[str, ...] = tuple(REFERENCE_COUNTS)
# Instruction styles: Goat's (§4) or bare, where the instruction is the canonical ``input`` (``a + b``), the
# shortest prompt and exactly the one ``mathwright eval arith --format goat`` asks.
TEMPLATES: tuple[str, ...] = ("goat", "bare")
REFERENCE_TOTAL = sum(REFERENCE_COUNTS.values())  # 1,746,300


MAX_N = 250_000_000  # the position plan is one int32 array (plus its permutation): ~2 GB at this size


@dataclass(frozen=True)
class GoatMixConfig:
    """What to generate. ``max_digits`` is the longest add/sub operand, n x 1 long factor and n / 1
    quotient (the reference: 15 for add/sub, 16 for the others); n x m and n / m keep the reference's
    shapes (product <= 12 digits, divisor 2-6 digits)."""

    max_digits: int = 16
    groups: tuple[str, ...] = GROUPS
    zero_weight: int = 500  # add/sub special bucket with a 0 operand (the reference has none)
    template: str = "goat"  # goat: noised expression in a weighted template; bare: the instruction is the input

    def __post_init__(self) -> None:
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown goat template {self.template!r}; valid: {', '.join(TEMPLATES)}")
        if not isinstance(self.max_digits, int) or self.max_digits < 2:
            raise ValueError(f"max_digits must be an integer >= 2, got {self.max_digits!r}")
        bad = [g for g in self.groups if g not in GROUPS]
        if bad or not self.groups:
            raise ValueError(f"unknown goat bucket {bad[0] if bad else '(none)'!r}; valid buckets: {', '.join(GROUPS)}")


@dataclass(frozen=True)
class Bucket:
    """One weighted sampler; ``digits`` = the (min, max) length of its long operand, for metadata."""

    name: str
    group: str
    weight: int
    draw: Callable[[random.Random], tuple[str, int, int]] = field(compare=False, repr=False)
    digits: tuple[int, int] = (0, 0)


_LO = [0] + [10 ** (n - 1) for n in range(1, 40)]


def exact(rng: random.Random, n: int) -> int:
    """Uniform with exactly ``n`` digits (the reference's D(n) could return 10**n)."""
    lo = _LO[n] if n < 40 else 10 ** (n - 1)
    return lo + rng._randbelow(9 * lo)  # randrange without its argument checks (hot path)


def exact_nonround(rng: random.Random, n: int) -> int:
    """Exactly ``n`` digits, never 10**(n-1) (the reference's D'(n) and D''(n) with exact lengths)."""
    lo = _LO[n] if n < 40 else 10 ** (n - 1)
    return lo + 1 + rng._randbelow(9 * lo - 1) if n > 1 else 2 + rng._randbelow(8)


def uniform(rng: random.Random, lo: int, hi: int) -> int:
    """Uniform on [lo, hi] for a small range (a float draw: 3x faster than randint, bias < 2**-40)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _tiered(j: int) -> int:
    """The n x 1 and n / 1 main-bucket weights: 4k up to 4 digits, 8k for 5-7, 12k for 8-11, 16k beyond."""
    return 4000 if j <= 4 else 8000 if j <= 7 else 12000 if j <= 11 else 16000


# ------------------------------------------------------------------------------------- the buckets


def _addsub(op: str, cfg: GoatMixConfig) -> list[Bucket]:
    m = cfg.max_digits
    out = []
    for l1 in range(1, m + 1):
        passes = sum(l1 >= s for s in (1, 3, 6, 9, 12))  # five passes of 1,000 per bucket
        for l2 in range(l1, m + 1):
            def draw(rng: random.Random, l1: int = l1, l2: int = l2) -> tuple[str, int, int]:
                a, b = exact(rng, l1), exact(rng, l2)
                return (op, b, a) if rng.random() < 0.5 else (op, a, b)
            out.append(Bucket(f"{op}:{l1}x{l2}", op, 1000 * passes, draw, (l2, l2)))

    def zero(rng: random.Random) -> tuple[str, int, int]:
        x = exact(rng, uniform(rng, 1, m))
        return (op, 0, x) if rng.random() < 0.5 else (op, x, 0)
    if cfg.zero_weight:
        out.append(Bucket(f"{op}:zero", op, cfg.zero_weight, zero, (1, m)))
    return out


def _mul_n1(cfg: GoatMixConfig) -> list[Bucket]:
    m = cfg.max_digits

    def post(rng: random.Random, small: int, large: int) -> tuple[str, int, int]:
        if rng.random() < 0.1:  # round small factors such as 7000
            small *= 10 ** uniform(rng, 1, 6)
        return ("mul", large, small) if rng.random() < 0.5 else ("mul", small, large)

    out = []
    for j in range(2, m + 1):
        def main(rng: random.Random, j: int = j) -> tuple[str, int, int]:
            return post(rng, uniform(rng, 2, 9), exact_nonround(rng, j))
        out.append(Bucket(f"mul_n1:main:{j}", "mul_n1", _tiered(j), main, (j, j)))
    for small in (0, 1, 10):
        for j in range(2, m):
            def special(rng: random.Random, j: int = j, small: int = small) -> tuple[str, int, int]:
                return post(rng, small, exact_nonround(rng, j))
            out.append(Bucket(f"mul_n1:by{small}:{j}", "mul_n1", 500, special, (j, j)))
    out.append(Bucket("mul_n1:tiny", "mul_n1", 500, lambda rng: post(rng, uniform(rng, 1, 9), uniform(rng, 1, 9)), (1, 1)))
    return out


def _mul_nm(cfg: GoatMixConfig) -> list[Bucket]:
    out = []
    for i in range(2, 7):
        for j in range(i, 13 - i):
            w = 10000 * (1 + (i >= 4) + (i >= 5) + (i == j and i >= 3))  # passes 1-3 plus the squares pass

            def draw(rng: random.Random, i: int = i, j: int = j) -> tuple[str, int, int]:
                a, b = exact_nonround(rng, i), exact_nonround(rng, j)
                return ("mul", b, a) if rng.random() < 0.5 else ("mul", a, b)
            out.append(Bucket(f"mul_nm:{i}x{j}", "mul_nm", w, draw, (j, j)))
    return out


def _div_n1(cfg: GoatMixConfig) -> list[Bucket]:
    m = cfg.max_digits

    def make(rng: random.Random, d: int, q: int) -> tuple[str, int, int]:
        r = uniform(rng, 1, d - 1) if d > 1 and rng.random() < 0.5 else 0
        return ("div", d * q + r, d)

    out = []
    for j in range(1, m + 1):
        out.append(Bucket(f"div_n1:main:{j}", "div_n1", _tiered(j),
                          lambda rng, j=j: make(rng, uniform(rng, 2, 9), exact_nonround(rng, j)), (j, j)))
    for d in (1, 10):
        for j in range(1, m + 1):
            out.append(Bucket(f"div_n1:by{d}:{j}", "div_n1", 500,
                              lambda rng, j=j, d=d: make(rng, d, exact_nonround(rng, j)), (j, j)))
    for j in range(1, m + 1):  # quotient 0: the dividend is the remainder (or 0)
        out.append(Bucket(f"div_n1:q0:{j}", "div_n1", 100, lambda rng, j=j: make(rng, exact_nonround(rng, j), 0), (j, j)))
    out.append(Bucket("div_n1:tiny", "div_n1", 500, lambda rng: make(rng, uniform(rng, 1, 10), uniform(rng, 1, 10)), (1, 2)))
    for j in range(1, m + 2):
        out.append(Bucket(f"div_n1:by0:{j}", "div_n1", 100, lambda rng, j=j: ("div", exact_nonround(rng, j), 0), (j, j)))
    return out


def _div_nm(cfg: GoatMixConfig) -> list[Bucket]:
    weights: dict[tuple[int, int], int] = {}
    for i in range(2, 7):
        for j in range(i + 1, i + 7):
            weights[i, j] = weights.get((i, j), 0) + 10000
        for j in range(2, i + 7):
            weights[i, j] = weights.get((i, j), 0) + 1000
    out = []
    for (i, j), w in sorted(weights.items()):
        def draw(rng: random.Random, i: int = i, j: int = j) -> tuple[str, int, int]:
            a, b = exact_nonround(rng, j), exact_nonround(rng, i)
            if a > b and rng.random() < 0.5:  # make it exact (a == b when the quotient is 1)
                a -= a % b
            return ("div", a, b)
        out.append(Bucket(f"div_nm:{j}/{i}", "div_nm", w, draw, (j, j)))
    return out


def buckets(cfg: GoatMixConfig) -> list[Bucket]:
    """All buckets of the selected groups, in a fixed order."""
    makers = {"add": lambda: _addsub("add", cfg), "sub": lambda: _addsub("sub", cfg), "mul_n1": lambda: _mul_n1(cfg),
              "mul_nm": lambda: _mul_nm(cfg), "div_n1": lambda: _div_n1(cfg), "div_nm": lambda: _div_nm(cfg)}
    return [b for g in GROUPS if g in cfg.groups for b in makers[g]()]


def apportion(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder split of ``total`` in proportion to ``weights`` (ties: earlier first).

    >>> apportion(10, [1, 1, 1])
    [4, 3, 3]
    """
    s = sum(weights)
    base = [total * w // s for w in weights]
    rest = total - sum(base)
    order = sorted(range(len(weights)), key=lambda k: (-(total * weights[k] % s), k))
    for k in order[:rest]:
        base[k] += 1
    return base


class GoatMix:
    """The Goat mix of ``n`` problems for ``seed``; a callable ``make_shard`` for ``data.generate``."""

    def __init__(self, config: GoatMixConfig = GoatMixConfig(), n: int = REFERENCE_TOTAL, seed: int = 0) -> None:
        if not 0 <= n <= MAX_N:
            raise ValueError(f"--n {n}: the Goat mix plans every position in memory (4-8 bytes each); "
                             f"at most {MAX_N} records")
        self.config, self.n, self.seed = config, n, seed
        self.buckets = buckets(config)
        gtot = apportion(n, [REFERENCE_COUNTS[g] for g in config.groups])
        self.counts: list[int] = []
        for g, t in zip(config.groups, gtot):
            self.counts += apportion(t, [b.weight for b in self.buckets if b.group == g])
        self._plan = None

    def group_counts(self) -> dict[str, int]:
        out = {g: 0 for g in self.config.groups}
        for b, c in zip(self.buckets, self.counts):
            out[b.group] += c
        return out

    def plan(self):  # numpy array of bucket indices, one per position
        """Bucket index of every position: one seeded permutation (numpy PCG64) of the bucket labels."""
        if self._plan is None:
            import numpy as np

            labels = np.repeat(np.arange(len(self.buckets), dtype=np.int32), self.counts)
            self._plan = np.random.Generator(np.random.PCG64(self.seed)).permutation(labels)
        return self._plan

    def problems(self, rng: random.Random, labels: Iterable[int]) -> Iterator[Problem]:
        draws = [b.draw for b in self.buckets]
        for k in labels:
            yield Problem(*draws[k](rng))

    def shard_draws(self, shard, rng: random.Random) -> Iterator[tuple[str, int, int]]:
        """``(op, a, b)`` at positions ``shard.start .. shard.start + shard.count``, each drawn from ``rng`` only
        when asked for: a renderer that draws from the same ``rng`` between problems
        (:func:`mathwright.formats.goat.render_mix`) keeps the seed layout."""
        draws = [b.draw for b in self.buckets]
        for k in self.plan()[shard.start:shard.start + shard.count].tolist():
            yield draws[k](rng)

    def meta(self) -> dict:
        """Counts per group and bucket, and the digit ranges really present (buckets with count > 0)."""
        ranges: dict[str, list[int]] = {}
        for b, c in zip(self.buckets, self.counts):
            if c:
                lo, hi = ranges.get(b.group, [99, 0])
                ranges[b.group] = [min(lo, b.digits[0]), max(hi, b.digits[1])]
        return {
            "groups": self.group_counts(),
            "buckets": {b.name: c for b, c in zip(self.buckets, self.counts)},
            "trained_digits": {
                g: {"long_operand_digits": r} for g, r in ranges.items()
            },
            "trained_digits_note": ("long_operand_digits: add/sub the longer operand; mul_n1 the long factor; "
                                    "mul_nm the longer factor; div_n1 the quotient (dividend up to one digit more; "
                                    "the divide-by-zero bucket has dividends up to max_digits+1 digits); div_nm the dividend"),
        }


def sample_goat(n: int, seed: int = 0, config: GoatMixConfig = GoatMixConfig()) -> list[Problem]:
    """``n`` problems of the Goat mix (shuffled), e.g. for an evaluation set in Goat's distribution.

    >>> [p.expr() for p in sample_goat(3, seed=1)]
    ['723347347957 + 984107995871', '25456 * 43433', '561 / 71']
    """
    mix = GoatMix(config, n=n, seed=seed)
    return list(mix.problems(random.Random(seed), mix.plan().tolist()))
