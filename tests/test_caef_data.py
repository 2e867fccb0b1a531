"""CAEF training data: the fast ADD path (closed-form rendering, integer-arithmetic check) is byte-identical
to the stepping oracle, its check never accepts what the oracle rejects, and output is pinned per seed."""
from __future__ import annotations

import hashlib
import json
import random

from hypothesis import given, settings, strategies as st

from mathwright.formats import caef as F
from mathwright.formats.caef_data import check_record, make_records
from mathwright.machines.executors import rev

num = st.one_of(st.integers(min_value=0, max_value=10**100 - 1),
                st.sampled_from([0, 1, 9, 10, 99, 10**99, 10**100 - 1, 5 * 10**40]))
zeros = st.integers(min_value=0, max_value=3)  # leading zeros (trailing in the reversed tape)


@settings(max_examples=40, deadline=None)
@given(num, num, zeros, zeros)
def test_add_pairs_and_add_check_match_the_stepping_oracle(a: int, b: int, za: int, zb: int) -> None:
    A, B = rev(a) + "0" * za, rev(b) + "0" * zb
    stepped = F.step_pairs("ADD", A, B)  # no select: every configuration stepped by delta/apply
    assert F.add_pairs(A, B, list(range(len(stepped)))) == stepped
    assert all(F.add_pair_ok(p, r) for p, r in stepped)
    assert not F.add_pair_ok(stepped[-1][1], stepped[-1][1])  # a halted machine has no next step


def _digest(ops: list[str], lo: int, hi: int, n_seq: int, seed: int) -> str:
    rng, h = random.Random(seed), hashlib.sha256()
    for _ in range(n_seq):
        op = rng.choice(ops)
        for r in make_records(op, rng.randint(lo, hi), rng.randint(lo, hi), rng):
            h.update(json.dumps(r, sort_keys=True).encode())
    return h.hexdigest()


def test_records_are_byte_identical_to_the_stepped_generator() -> None:
    # digests of the generator before the closed-form ADD path (commit b37c33b): same seed, same bytes
    assert _digest(["add"], 1, 100, 300, 0) == "5b02ba897122598373c8ff53cba3238e04e3514c1a8e6c215dc3037ffb684cc4"
    assert _digest(["sub", "eq", "gt", "lmul", "muld", "subx"], 1, 9, 60, 1) == \
        "431d2a11a66a323b4031efc1dbe7c7fcc4abb48f2e8db42826770bfb2916a57e"


def test_every_wrong_digit_is_rejected() -> None:
    rng = random.Random(0)
    recs = make_records("add", 12, 9, rng) + make_records("add", 1, 1, rng) + make_records("add", 30, 30, rng)
    assert all(check_record(r) is None for r in recs)
    for rec in recs:
        for field in ("instruction", "output"):
            s = rec[field]
            for i, ch in enumerate(s):
                if ch.isdigit():  # every digit: tapes, carry, output, command, state number
                    bad = dict(rec, **{field: s[:i] + str((int(ch) + 1 + rng.randrange(9)) % 10) + s[i + 1:]})
                    assert check_record(bad) is not None, (field, i)


def test_fast_check_is_never_looser_than_the_oracle() -> None:
    rng = random.Random(1)
    recs = [r for la, lb in [(3, 5), (40, 2), (100, 100), (7, 7)] for r in make_records("add", la, lb, rng)]
    alphabet = "0123456789|[]HEADCOUTPqRIGHT ,:\n\u0663"  # includes a non-ASCII digit
    fast_ok = 0
    for _ in range(3000):
        rec = rng.choice(recs)
        p, r = rec["instruction"], rec["output"]
        s = p if rng.random() < 0.5 else r
        i, c = rng.randrange(len(s)), rng.choice(alphabet)
        s2 = [s[:i] + c + s[i + 1:], s[:i] + s[i + 1:], s[:i] + c + s[i:]][rng.randrange(3)]
        p2, r2 = (s2, r) if s is p else (p, s2)
        if F.add_pair_ok(p2, r2):
            fast_ok += 1
            assert F.check(p2, r2) == [], (p2, r2)  # accepted only what the stepping oracle accepts
    assert fast_ok > 0  # some mutations are no-ops (a digit replaced by itself)


def test_unusual_add_inputs_fall_back_to_the_oracle() -> None:
    p, r = F.step_pairs("ADD", "5", "")[1]  # an empty tape: legal for the oracle, not for the fast check
    rec = {"instruction": p, "output": r, "machine": "ADD", "mode": "full"}
    assert not F.add_pair_ok(p, r) and check_record(rec) is None
    assert check_record(dict(rec, output=r.replace("[C]0", "[C]1"))) is not None
