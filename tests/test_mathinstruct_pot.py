"""The PoT format: GSM8K annotated solutions -> named-assignment programs, parsing, exact annotation checks."""
from __future__ import annotations

from fractions import Fraction

import pytest

from mathwright.arith.problem import Problem
from mathwright.formats import pot
from mathwright.formats.registry import FORMATS

NATALIA_Q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
             "How many clips did Natalia sell altogether in April and May?")
NATALIA_A = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
             "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72")


def test_each_annotation_becomes_a_named_assignment_and_results_are_reused() -> None:
    prog = pot.solution_to_program(NATALIA_Q, NATALIA_A)
    lines = prog.splitlines()
    assert lines == ["clips = 48 / 2", "clips_altogether = 48 + clips", "print(clips_altogether)"]


def test_unnamed_steps_fall_back_to_v_numbers_and_names_stay_distinct() -> None:
    sol = "<<3*4=12>>12\n<<12+5=17>>17\nSo 17 - 2 = <<17-2=15>>15.\n#### 15"
    prog = pot.solution_to_program("A has 3 boxes of 4 and 5 more, gives 2.", sol)
    assert prog.splitlines() == ["v1 = 3 * 4", "v2 = v1 + 5", "v3 = v2 - 2", "print(v3)"]
    sol2 = "He buys 2*3 = <<2*3=6>>6 apples.\nThen 6+4 = <<6+4=10>>10 apples.\n#### 10"
    names = [ln.split(" = ")[0] for ln in pot.solution_to_program("q", sol2).splitlines()[:-1]]
    assert len(set(names)) == len(names) == 2


def test_printed_variable_is_the_step_with_the_final_answer() -> None:
    # the last annotation is a side computation; the solution's answer (20) came from the first step
    sol = "Total 4*5 = <<4*5=20>>20 cakes.\nCheck: 20/4 = <<20/4=5>>5 each.\n#### 20"
    prog = pot.solution_to_program("q", sol)
    assert prog.splitlines()[-1] == "print(cakes)" and len(prog.splitlines()) == 2


def test_numbers_from_the_question_stay_literals() -> None:
    assert pot.translate("48+24", [(Fraction(24), "clips")], {Fraction(48)}) == "48 + clips"
    assert pot.translate("2*24", [(Fraction(24), "clips")], {Fraction(24)}) == "2 * 24"
    assert pot.translate(".5*08", [], set()) == "0.5 * 8"
    assert pot.translate("-3+(2*-1)", [], set()) == "-3 + (2 * -1)"


def test_wrong_annotation_is_rejected_with_the_step_named() -> None:
    with pytest.raises(pot.SolutionError, match=r"<<2\+2=5>>"):
        pot.solution_to_program("q", "So 2+2 = <<2+2=5>>5.\n#### 5")
    with pytest.raises(pot.SolutionError, match="no calculator annotations"):
        pot.solution_to_program("q", "It is 5.\n#### 5")
    with pytest.raises(pot.SolutionError, match="####"):
        pot.solution_to_program("q", "So 2+2 = <<2+2=4>>4.")


def test_exact_value_is_exact_and_refuses_code() -> None:
    assert pot.exact_value("2*20*.01") == Fraction(2, 5)
    assert pot.exact_value("0.1+0.2") == Fraction(3, 10)
    assert pot.exact_value("560//10") == 56
    assert pot.value_matches("10/3", "3.33") and pot.value_matches("10/3", "3.3")
    assert not pot.value_matches("10/3", "3.34") and not pot.value_matches("10/3", "3")
    for bad in ("__import__('os')", "2**10", "a+1"):
        with pytest.raises(pot.SolutionError):
            pot.exact_value(bad)


def test_render_record_and_trigger() -> None:
    rec = pot.render({"question": NATALIA_Q + "  ", "answer": NATALIA_A})
    assert rec["instruction"] == NATALIA_Q + " Let's write a program."
    assert rec["answer"] == "72" and rec["output"].endswith("print(clips_altogether)")
    rec = pot.render(Problem("sub", 7, 17))
    assert rec["answer"] == "-10" and "print(a - b)" in rec["output"]


@pytest.mark.parametrize("text,expected", [
    ("```python\nx = 1\nprint(x)\n```\nThe answer is 1.", "x = 1\nprint(x)"),
    ("x = 2\nprint(x)\n### Instruction:\nmore", "x = 2\nprint(x)"),
    ("The answer is 4.", None),
    ("```\nprint(3)", "print(3)"),
])
def test_parse(text: str, expected: str | None) -> None:
    assert pot.parse(text) == expected


def test_numbers_equal_and_printed_answer() -> None:
    assert pot.numbers_equal("72.0", "72") and pot.numbers_equal("1,600", "1600")
    assert not pot.numbers_equal("72.5", "72") and not pot.numbers_equal("3 R 1", "3 R 2")
    assert pot.printed_answer("Step 1: 5\n\n42\n") == "42" and pot.printed_answer("") is None


def test_registered_in_formats() -> None:
    fmt = FORMATS.get("pot")
    assert fmt.parse("print(1)") == "print(1)" and fmt.trigger == " Let's write a program."
