"""Goat's six buckets: reference counts and weights, exact digit lengths, zero buckets, seeding, scaling."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from mathwright.arith.goat_mix import (GROUPS, REFERENCE_COUNTS, REFERENCE_TOTAL, GoatMix, GoatMixConfig, apportion,
                                       buckets)
from mathwright.data.shards import Shard
from mathwright.formats.goat import render_mix


def test_full_mix_reproduces_reference_op_totals() -> None:
    mix = GoatMix(GoatMixConfig(), n=REFERENCE_TOTAL)
    assert mix.group_counts() == REFERENCE_COUNTS
    assert sum(mix.counts) == REFERENCE_TOTAL == 1_746_300


def test_bucket_weights_match_the_reference_passes() -> None:
    # max_digits=16 and no zero bucket: mul and div groups are the reference's buckets exactly
    mix = GoatMix(GoatMixConfig(zero_weight=0), n=REFERENCE_TOTAL)
    got = {b.name: c for b, c in zip(mix.buckets, mix.counts)}
    assert got["mul_nm:5x5"] == got["mul_nm:6x6"] == 40_000 and got["mul_nm:4x4"] == 30_000
    assert got["mul_nm:3x3"] == 20_000 and got["mul_nm:2x10"] == 10_000 and "mul_nm:2x11" not in got
    assert sum(c for k, c in got.items() if k.startswith("mul_nm")) == 420_000
    assert len([k for k in got if k.startswith("mul_nm")]) == 25
    assert got["div_nm:8/2"] == 11_000 and got["div_nm:2/6"] == 1_000 and got["div_nm:12/6"] == 11_000
    assert sum(c for k, c in got.items() if k.startswith("div_nm")) == 345_000
    assert got["mul_n1:main:16"] == 16_000 and got["mul_n1:by0:15"] == 500 and "mul_n1:by0:16" not in got
    assert got["div_n1:main:1"] == 4_000 and got["div_n1:by0:17"] == 100 and got["div_n1:q0:16"] == 100
    # add/sub at the reference's 15 digits: 1,000 per pass per bucket
    ref = GoatMix(GoatMixConfig(max_digits=15, zero_weight=0, groups=("add",)), n=304_000)
    got = {b.name: c for b, c in zip(ref.buckets, ref.counts)}
    assert got["add:1x15"] == 1000 and got["add:3x4"] == 2000 and got["add:8x8"] == 3000
    assert got["add:11x15"] == 4000 and got["add:12x15"] == 5000 and len(got) == 120


def test_max_digits_is_inclusive_and_scaling_keeps_shares() -> None:
    mix = GoatMix(GoatMixConfig(max_digits=16), n=100_000)
    names = {b.name for b, c in zip(mix.buckets, mix.counts) if c}
    assert {"add:16x16", "sub:16x16", "add:1x16", "mul_n1:main:16", "div_n1:main:16"} <= names
    assert mix.meta()["trained_digits"]["add"]["long_operand_digits"] == [1, 16]
    shares = {g: c / 100_000 for g, c in mix.group_counts().items()}
    for g in GROUPS:
        assert abs(shares[g] - REFERENCE_COUNTS[g] / REFERENCE_TOTAL) < 1e-5
    assert apportion(7, [5, 1, 1]) == [5, 1, 1] and sum(apportion(1001, [3, 3, 7])) == 1001


def _sample(name_prefix: str, k: int = 300, cfg: GoatMixConfig = GoatMixConfig()) -> dict[str, list[tuple]]:
    rng = random.Random(7)
    return {b.name: [b.draw(rng) for _ in range(k)] for b in buckets(cfg) if b.name.startswith(name_prefix)}


def test_exact_digit_lengths_and_swaps() -> None:
    for name, draws in _sample("add:").items():
        if name == "add:zero":
            assert all(0 in (a, b) for _, a, b in draws)
            continue
        l1, l2 = map(int, name[4:].split("x"))
        assert all(sorted((len(str(a)), len(str(b)))) == [l1, l2] for _, a, b in draws)
        if l1 != l2:
            assert 0.3 < sum(len(str(a)) == l1 for _, a, b in draws) / len(draws) < 0.7  # swapped half the time
    for name, draws in _sample("mul_nm:").items():
        i, j = map(int, name[7:].split("x"))
        assert all(sorted((len(str(a)), len(str(b)))) == [i, j] for _, a, b in draws)
        assert all(a != 10 ** (len(str(a)) - 1) for _, a, b in draws)  # never a power of ten
        assert all(len(str(a * b)) <= 12 for _, a, b in draws)
    for name, draws in _sample("div_nm:").items():
        j, i = map(int, name[7:].split("/"))
        assert all(len(str(b)) == i and len(str(a)) <= j for _, a, b in draws)
        if j > i:  # half of the a > b draws are made exact
            assert 0.4 < sum(a % b == 0 for _, a, b in draws) / len(draws) < 0.6


def test_special_buckets_and_remainders() -> None:
    s = _sample("div_n1:", 400)
    assert all(b == 0 for draws in (v for k, v in s.items() if k.startswith("div_n1:by0")) for _, a, b in draws)
    q0 = [(a, b) for k, v in s.items() if k.startswith("div_n1:q0") for _, a, b in v]
    assert all(a < b for a, b in q0) and any(a == 0 for a, b in q0)
    main = [(a, b) for _, a, b in s["div_n1:main:8"]]
    assert all(2 <= b <= 9 and len(str(a // b)) == 8 for a, b in main)
    assert 0.4 < sum(a % b != 0 for a, b in main) / len(main) < 0.6
    m = _sample("mul_n1:", 400)
    zero = [x for k, v in m.items() if k.startswith("mul_n1:by0") for x in v]
    assert all(0 in (a, b) for _, a, b in zero)
    rounds = [1 for _, a, b in m["mul_n1:main:10"] if min(a, b) >= 20 and min(a, b) % 10 == 0]
    assert 0.05 < len(rounds) / 400 < 0.16  # small factor x 10^k with p = 0.1


def test_seeded_and_well_mixed() -> None:
    a = GoatMix(GoatMixConfig(), n=50_000, seed=3)
    b = GoatMix(GoatMixConfig(), n=50_000, seed=3)
    shard = Shard(2, 20_000, 500, 99)
    assert render_mix(a, shard) == render_mix(b, shard)
    assert render_mix(a, shard) != render_mix(GoatMix(GoatMixConfig(), n=50_000, seed=4), shard)
    ops = Counter(r["op"] for r in render_mix(a, Shard(0, 0, 2000, 1)))
    assert set(ops) == {"add", "sub", "mul", "div"} and min(ops.values()) > 200  # any slice mixes every op


def test_bad_config_lists_choices() -> None:
    with pytest.raises(ValueError, match="valid buckets: add, sub, mul_n1"):
        GoatMixConfig(groups=("add", "pow"))
    with pytest.raises(ValueError, match="max_digits"):
        GoatMixConfig(max_digits=1)
