"""Property tests: every oracle machine computes exactly, for operands up to 100 digits (x, / up to 30)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from mathwright.machines.composers import compute
from mathwright.machines.executors import add_config, rev, run, val

big = st.integers(min_value=0, max_value=10**100 - 1)
mid = st.integers(min_value=0, max_value=10**30 - 1)
small = st.integers(min_value=0, max_value=10**6)
edge = st.sampled_from([0, 1, 9, 10, 99, 100, 999, 10**99, 10**100 - 1, 10**30 - 1, 10**29])
num = st.one_of(big, edge, st.integers(min_value=0, max_value=999))
SET = settings(max_examples=60, deadline=None)


def exact(m: str, a: int, b: int) -> str:
    return compute(m, rev(a), rev(b))


@SET
@given(num, num)
def test_add_and_comparisons(a: int, b: int) -> None:
    assert exact("ADD", a, b) == rev(a + b)
    assert exact("EQUAL", a, b) == str(a == b) and exact("EQUAL", a, a) == "True"
    assert exact("GREATER_THAN", a, b) == str(a > b)
    assert exact("LESS_THAN", a, b) == str(a < b)


@SET
@given(num, num)
def test_sub_by_tens_complement_and_by_borrowing(a: int, b: int) -> None:
    a, b = max(a, b), min(a, b)
    assert exact("SUB", a, b) == rev(a - b)
    assert exact("SUBX", a, b) == rev(a - b)
    assert exact("SUB", a, a) == "0"


@SET
@given(mid, mid)
def test_long_multiplication_and_division(a: int, b: int) -> None:
    assert exact("LMUL", a, b) == rev(a * b)
    if b:
        assert exact("LDIV", a, b) == rev(a // b)


@settings(max_examples=30, deadline=None)
@given(small, st.integers(min_value=1, max_value=15), st.integers(min_value=1, max_value=10**4))
def test_caef_mul_and_div_by_repeated_addition(a: int, b: int, d: int) -> None:
    assert exact("MUL", a, b) == rev(a * b)
    q = a % 40  # DIV takes 3q + 2 transitions: keep quotients small
    assert exact("DIV", q * d + a % d, d) == rev(q)


def test_carries_through_every_digit() -> None:
    for n in (1, 5, 100):
        nines = 10**n - 1
        assert exact("ADD", nines, 1) == rev(10**n)
        assert exact("SUB", 10**n, 1) == rev(nines)
        assert exact("LMUL", nines, nines) == rev(nines * nines)
    assert exact("REFLECTION", 999, 995) == rev(4) and exact("REFLECTION", 99, 99) == "0"
    assert compute("LEFT_MASK", rev(1005)) == "5" and compute("LEFT_MASK", rev(100)) == "0"


def test_step_counts_of_section_5() -> None:
    assert len(run("ADD", rev(10**4), rev(10**4))) == 5 + 3
    assert len(run("ADD", "1" * 100, "1" * 100)) == 103
    assert len(run("GREATER_THAN", "123", "45")) == 2 + 3
    assert len(run("EQUAL", "123", "153")) == 1 + 3  # first mismatch at position 1
    # n + 4 + z: 99-37 gives 6 states as in the verbatim trace (section 5's "-> 7" contradicts both)
    assert len(run("REFLECTION", "99", "73")) == 6 and len(run("LEFT_MASK", "511")) == 7
    assert len(run("REFLECTION", "999", "599")) == 3 + 4 + 2 and len(run("LEFT_MASK", "5001")) == 10


@settings(max_examples=30, deadline=None)
@given(num, num)
def test_add_closed_form_matches_stepping(a: int, b: int) -> None:
    seq = run("ADD", rev(a), rev(b))
    assert [add_config(rev(a), rev(b), k) for k in range(len(seq))] == seq
    assert val(seq[-1].out) == a + b
