"""One safe evaluator and one calculator-annotation rule (issue 20), both in ``arith/exact.py``: the GSM8K
check, the PoT converter and calculator decoding use the same definitions."""
from __future__ import annotations

from fractions import Fraction

import pytest

from mathwright.arith import exact
from mathwright.formats import gsm, pot
from mathwright.solve import calculator


def test_one_definition() -> None:
    assert gsm.ANNOT_RE is pot.ANNOTATION is exact.ANNOTATION
    assert gsm.evaluate is pot.evaluate is calculator.evaluate is exact.evaluate
    assert calculator.CalcError is exact.CalcError and pot.to_fraction is exact.to_fraction


def test_annotation_expr_is_up_to_the_first_equals_sign() -> None:
    # grade_school_math/calculator.py: lhs = remaining.split("=")[0]
    assert exact.ANNOTATION.search("<<2+3=5>>5").groups() == ("2+3", "5")
    assert exact.ANNOTATION.search("<<2+3=5=5>>").groups() == ("2+3", "5=5")
    assert not gsm.check("a <<2+3=5=5>>5\n#### 5", strict=False).ok


@pytest.mark.parametrize("expr,written,ok", [
    ("10/3", "3.33", True), ("10/3", "3.3", True), ("10/3", "3.333", True),  # rounded to nearest
    ("2/3", "0.67", True), ("2/3", "0.66", False),                           # truncated: wrong
    ("10/3", "3.34", False), ("7/2", "4", False), ("7/2", "3", False),       # an integer must be exact
    ("7/2", "3.5", True), ("96/3", "32.0", True), ("1/8", "0.125", True),
    ("1/8", "0.13", True), ("1/8", "0.12", True),                            # a tie at half a unit counts
    ("1,600*2", "3,200", True), ("9*2", "$18", True), ("9*2", "eighteen", False),
])
def test_one_rounding_rule(expr: str, written: str, ok: bool) -> None:
    assert exact.result_matches(exact.evaluate(expr), written) is ok
    assert pot.value_matches(expr, written) is ok  # the PoT converter's rule ...
    assert gsm.check(f"a <<{expr}={written}>>{written}\n#### 1", strict=False).ok is ok  # ... is the check's


def test_floor_division_only_where_the_reference_evaluates_it() -> None:
    assert exact.evaluate("560//10", floordiv=True) == 56 and pot.exact_value("7//2") == 3
    assert gsm.check("a <<560//10=56>>56\n#### 56", strict=False).ok  # GSM8K train has two of these
    with pytest.raises(exact.CalcError):
        exact.evaluate("560//10")
    assert calculator.annotation_result("<<560//10=") is None  # decoding: unchanged, left to the model
    with pytest.raises(exact.CalcError):
        exact.evaluate("2**10", floordiv=True)
    with pytest.raises(pot.SolutionError):
        pot.exact_value("1//0")
    assert exact.evaluate("-7//2", floordiv=True) == Fraction(-4)
