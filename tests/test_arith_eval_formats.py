"""reversed / scratchpad formats: render -> parse round trip, check accepts renders, a wrong step fails."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mathwright.arith.problem import Problem
from mathwright.formats import reversed as rev
from mathwright.formats import scratchpad as sp
from mathwright.formats.padded import ALIGNED_SCRATCH as ascr16, ALIGNED_SCRATCH6 as ascr, FORMAT as pad, FORMAT8 as pad8

OPS = ("add", "sub", "mul", "div")
ints = st.integers(min_value=0, max_value=10**40)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(OPS), ints, ints)
@pytest.mark.parametrize("fmt", [rev, sp, pad, ascr16], ids=["reversed", "scratchpad", "padded", "aligned-scratch"])
def test_round_trip_and_check(fmt, op, a, b) -> None:
    p = Problem(op, a, b)
    rec = fmt.render(p)
    assert fmt.parse(rec["output"]) == p.answer_text()
    assert fmt.check(rec) is None
    assert rec["input"] == p.expr() and rec["answer"] == p.answer_text()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(("add", "sub", "mul")), st.integers(-10**12, 10**12), st.integers(-10**12, 10**12))
def test_negative_operands(op, a, b) -> None:
    for fmt in (rev, sp, pad8, ascr):
        rec = fmt.render(Problem(op, a, b))
        assert fmt.parse(rec["output"]) == str(Problem(op, a, b).answer())
        assert fmt.check(rec) is None


def test_reversed_layout_by_hand() -> None:
    assert rev.render(Problem("add", 999, 1))["output"] == "0001"
    assert rev.render(Problem("sub", 100, 999))["output"] == "-998"  # -899, sign first
    assert rev.render(Problem("mul", 25, 4))["output"] == "001"
    assert rev.render(Problem("div", 17, 5))["output"] == "3 R 2"
    assert rev.render(Problem("div", 15, 5))["output"] == "3 R 0"
    assert rev.parse("3 R 0") == "3" and rev.parse("") is None


def test_padded_layout_by_hand() -> None:
    rec = pad8.render(Problem("add", 95, 7))
    assert rec["instruction"] == "00000095 + 00000007" and rec["output"] == "201000000"  # 102, 9 digits reversed
    assert pad8.render(Problem("sub", 7, 95))["output"] == "-880000000"                     # -88
    wide = pad8.render(Problem("add", 123456789012, 1))                                      # wider than 8: not cut
    assert wide["instruction"] == "123456789012 + 000000000001" and pad8.parse(wide["output"]) == "123456789013"
    assert pad8.check({**rec, "output": "301000000"}).startswith("answer:")
    assert pad8.check({**rec, "instruction": "95 + 7"}).startswith("instruction:")


def test_scratchpad_layout_by_hand() -> None:
    # 56 * 1234: multiplier is the shorter operand (56): 1234*6 = 7404, 1234*50 = 61700, sum 69104
    assert sp.render(Problem("mul", 56, 1234))["output"] == "4047;00716>40196"
    assert sp.render(Problem("mul", 7, 8))["output"] == "65"
    assert sp.render(Problem("mul", -12, 3))["output"] == "-63"
    # 5697 / 47: 56 = 47*1 + 9; 99 = 47*2 + 5; 57 = 47*1 + 10
    assert sp.render(Problem("div", 5697, 47))["output"] == "1:9;2:5;1:10=121 R 10"
    assert sp.render(Problem("div", 12, 47))["output"] == "0 R 12"
    assert sp.render(Problem("div", 3, 0))["output"] == "undefined"


@pytest.mark.parametrize("rec, where", [
    ({"input": "1234 * 56", "output": "4047;00716>40197"}, "step 2: running sum"),
    ({"input": "1234 * 56", "output": "4048;00716>40196"}, "step 1: partial product"),
    ({"input": "1234 * 56", "output": "4047"}, "expected 2 steps"),
    ({"input": "5697 / 47", "output": "1:9;2:6;1:10=121 R 10"}, "step 2: 99 = 47 * 2 + 6 is false"),
    ({"input": "5697 / 47", "output": "1:9;2:5;1:10=121 R 11"}, "answer"),
    ({"input": "12 + 30", "output": "33"}, "reads as 33, expected 42"),
])
def test_scratchpad_wrong_step_fails(rec, where) -> None:
    err = sp.check(rec)
    assert err is not None and where in err


def test_reversed_wrong_answer_fails() -> None:
    assert "expected 2" in rev.check({"input": "1 + 1", "output": "3"})
    assert rev.check({"input": "1 + 1", "output": "2"}) is None
    assert rev.check({"input": "banana", "output": "2"}).startswith("input:")


def test_formats_are_registered() -> None:
    from mathwright.formats.contract import ArithFormat
    from mathwright.formats.registry import ARITH_FORMATS, arith_format

    assert arith_format("reversed").render is rev.render
    assert arith_format("scratchpad").parse is sp.parse
    assert arith_format("padded") is pad and arith_format("padded8") is pad8
    assert all(isinstance(ARITH_FORMATS.get(name), ArithFormat) for name in ARITH_FORMATS)
    with pytest.raises(ValueError, match="unknown format 'revresed'; did you mean 'reversed'"):
        arith_format("revresed")
    with pytest.raises(ValueError, match="'gsm' is a solution format"):
        arith_format("gsm")


def test_aligned_scratch_layout_by_hand() -> None:
    rec = ascr.render(Problem("mul", 123456, 654321))
    assert rec["instruction"] == "654321 * 123456"
    steps = rec["output"].split(";")
    assert len(steps) == 6 and steps[0] == "6543210"                     # 123456 * 1 = 0123456, reversed
    assert steps[1] == "2196420>675295200000"                             # 123456 * 2; 123456 + 2469120 = 2592576
    assert ascr.parse(rec["output"]) == str(123456 * 654321)
    assert ascr.output(Problem("mul", -12, 3), width=2) == "-630;000>6300"  # 12 * 3 = 036; 12 * 0; sum 0036
    assert ascr.parse("-630;000>6300") == "-36"
    assert ascr.render(Problem("add", 95, 7))["output"] == "2010000"    # add: the aligned answer at width 6


def test_aligned_scratch_sub_by_hand() -> None:
    rec = ascr16.render(Problem("sub", 95, 107))                          # -12: r = 10**17 - 12, then 12
    assert rec["output"] == "88" + "9" * 15 + ">-" + "21" + "0" * 15
    assert ascr16.parse(rec["output"]) == "-12" and ascr16.check(rec) is None
    assert ascr16.render(Problem("sub", 107, 95))["output"] == "21" + "0" * 15
    assert ascr16.check({**rec, "output": "88" + "9" * 15}).startswith("step 2: missing")


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(("mul", "sub")), st.integers(0, 10**6 - 1), st.integers(0, 10**6 - 1), st.data())
def test_aligned_scratch_every_digit_corruption_is_caught(op, a, b, data) -> None:
    rec = ascr.render(Problem(op, a, b))
    out = rec["output"]
    i = data.draw(st.sampled_from([k for k, c in enumerate(out) if c.isdigit()]))
    bad = out[:i] + str((int(out[i]) + data.draw(st.integers(1, 9))) % 10) + out[i + 1:]
    err = ascr.check({**rec, "output": bad})
    assert err is not None and err.startswith("step "), err
