"""Goat format: golden records from docs/goat.md byte for byte, noise rules, check naming the wrong
step, parse, and hypothesis properties (operands up to 100 digits, negative operands)."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathwright.arith.decompose import division_steps, place_values
from mathwright.arith.problem import Problem, parse_expr
from mathwright.data.io import dumps
from mathwright.formats import goat
from mathwright.formats.goat import _diagnose, check, encode, goat_output, parse, render

# Verbatim records of docs/goat.md §3 (the instruction is omitted where the spec omits it).
GOLDEN = [
    {"instruction": "What is 6551044618104+783362994862867?", "input": "6551044618104 + 783362994862867", "output": "6551044618104 + 783362994862867 = 789914039480971", "answer": "789914039480971"},
    {"instruction": "34132621823114-404449468764", "input": "34132621823114 - 404449468764", "output": "34132621823114 - 404449468764 = 33728172354350", "answer": "33728172354350"},
    {"instruction": "69302270974576-330308524591755", "input": "69302270974576 - 330308524591755", "output": "69302270974576 - 330308524591755 = -261006253617179", "answer": "-261006253617179"},
    {"instruction": "What is 8x3680553905971056?", "input": "8 * 3680553905971056", "output": "8 * 3680553905971056 = 29444431247768448", "answer": "29444431247768448"},
    {"instruction": "9782828222 x 9=", "input": "9782828222 * 9", "output": "9782828222 * 9 = 88045453998", "answer": "88045453998"},
    {"input": "48 * 2507191234", "output": "48 * 2507191234 = 2507191234 * (40 + 8) = 2507191234 * 40 + 2507191234 * 8 = 100287649360 + 20057529872 = 120345179232", "answer": "120345179232"},
    {"input": "985 * 922827928", "output": "985 * 922827928 = 922827928 * (900 + 80 + 5) = 922827928 * 900 + 922827928 * 80 + 922827928 * 5 = 830545135200 + 73826234240 + 4614139640 = 904371369440 + 4614139640 = 908985509080", "answer": "908985509080"},
    {"instruction": "What is the value of 57281347 * 93", "input": "57281347 * 93", "output": "57281347 * 93 = 57281347 * (90 + 3) = 57281347 * 90 + 57281347 * 3 = 5155321230 + 171844041 = 5327165271", "answer": "5327165271"},
    {"input": "321 * 70", "output": "321 * 70 = 22470", "answer": "22470"},
    {"input": "76612773292 / 5", "output": "76612773292 / 5 = 15322554658 R 2", "answer": "15322554658 R 2"},
    {"input": "27093026388 / 9", "output": "27093026388 / 9 = 3010336265 R 3", "answer": "3010336265 R 3"},
    {"instruction": "19/0=", "input": "19 / 0", "output": "19 / 0 is undefined", "answer": "undefined"},
    {"input": "0 / 4331781361717964", "output": "0 / 4331781361717964 = 0", "answer": "0"},
    {"input": "42954 / 79900", "output": "42954 / 79900 = 0 R 42954", "answer": "0 R 42954"},
    {"instruction": "what is 10259410559/72451", "input": "10259410559 / 72451", "output": "10259410559 - 72451 * 100000 = 10259410559 - 7245100000 = 3014310559\n3014310559 - 72451 * 40000 = 3014310559 - 2898040000 = 116270559\n116270559 - 72451 * 1000 = 116270559 - 72451000 = 43819559\n43819559 - 72451 * 600 = 43819559 - 43470600 = 348959\n348959 - 72451 * 4 = 348959 - 289804 = 59155\nTherefore, 10259410559 / 72451 = 141604 R 59155", "answer": "141604 R 59155"},
    {"input": "4320888293 / 2935", "output": "4320888293 - 2935 * 1000000 = 4320888293 - 2935000000 = 1385888293\n1385888293 - 2935 * 400000 = 1385888293 - 1174000000 = 211888293\n211888293 - 2935 * 70000 = 211888293 - 205450000 = 6438293\n6438293 - 2935 * 2000 = 6438293 - 5870000 = 568293\n568293 - 2935 * 100 = 568293 - 293500 = 274793\n274793 - 2935 * 90 = 274793 - 264150 = 10643\n10643 - 2935 * 3 = 10643 - 8805 = 1838\nTherefore, 4320888293 / 2935 = 1472193 R 1838", "answer": "1472193 R 1838"},
    {"input": "970 / 97", "output": "970 - 97 * 10 = 970 - 970 = 0\nTherefore, 970 / 97 = 10", "answer": "10"},
    {"input": "90236 / 84171", "output": "90236 - 84171 * 1 = 90236 - 84171 = 6065\nTherefore, 90236 / 84171 = 1 R 6065", "answer": "1 R 6065"},
    {"instruction": "Find 4934/67606.", "input": "4934 / 67606", "output": "4934 / 67606 = 0 R 4934", "answer": "0 R 4934"},
    {"input": "5697 / 47", "output": "5697 - 47 * 100 = 5697 - 4700 = 997\n997 - 47 * 20 = 997 - 940 = 57\n57 - 47 * 1 = 57 - 47 = 10\nTherefore, 5697 / 47 = 121 R 10", "answer": "121 R 10"},
    {"input": "12 / 12", "output": "12 / 12 = 1", "answer": "1"},
]


@pytest.mark.parametrize("rec", GOLDEN, ids=[r["input"] for r in GOLDEN])
def test_golden_output_answer_input_byte_for_byte(rec: dict) -> None:
    p = parse_expr(rec["input"])
    assert p.expr() == rec["input"]
    assert goat_output(p) == rec["output"]
    assert p.answer_text() == rec["answer"]
    full = {"instruction": rec.get("instruction", rec["input"]), **rec}
    assert check(full) is None
    assert parse(rec["output"]) == rec["answer"]
    assert parse(f"{full['instruction']}\nAnswer: {rec['output']}") == rec["answer"]


class Scripted(random.Random):
    """An rng whose random() returns scripted values (then the template slot value)."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:  # type: ignore[override]
        return self.values.pop(0)


def slot(text: str) -> float:
    pre, _, suf = text.partition("{input}")
    return (goat.TEMPLATE_SLOTS.index((pre, suf)) + 0.5) / len(goat.TEMPLATE_SLOTS)


NOISE = [  # (expression, scripted draws of steps 1-4, template, verbatim instruction from docs/goat.md §4)
    ("10 + 6857165280", [0.01], "{input}", "the sum of 10 and 6857165280"),
    ("36346 - 368879", [0.01], "{input}=", "the difference of 36346 and 368879="),
    ("17511 * 9300591", [0.01], "{input} is", "the product of 17511 and 9300591 is"),
    ("28829802842 / 82032", [0.01], "{input}", "the quotient and remainder of 28829802842 and 82032"),
    ("58045610 + 5934", [0.9, 0.05], "{input}=?", "58045610 plus 5934=?"),
    ("405821943475 - 682126208789172", [0.9, 0.05], "{input}", "405821943475 minus 682126208789172"),
    ("1607 * 45691", [0.9, 0.1, 0.05], "{input}", "1607 times 45691"),
    ("81069 * 12243", [0.9, 0.9, 0.05], "{input} =", "81069 multiplied by 12243 ="),
    ("16570124 / 24", [0.9, 0.05], "{input}", "16570124 divided by 24"),
    ("533644553308939 * 9", [0.9, 0.1, 0.9, 0.1], "What is {input}?", "What is 533644553308939x9?"),
    ("6551044618104 + 783362994862867", [0.9, 0.9, 0.1], "What is {input}?", "What is 6551044618104+783362994862867?"),
    ("9782828222 * 9", [0.9, 0.1, 0.9, 0.9], "{input}=", "9782828222 x 9="),
    ("19 / 0", [0.9, 0.9, 0.1], "{input}=", "19/0="),
    ("10259410559 / 72451", [0.9, 0.9, 0.1], "what is {input}", "what is 10259410559/72451"),
    ("4934 / 67606", [0.9, 0.9, 0.1], "Find {input}.", "Find 4934/67606."),
]


@pytest.mark.parametrize("expr,draws,template,want", NOISE, ids=[w for *_, w in NOISE])
def test_noise_rules_reproduce_verbatim_instructions(expr: str, draws: list[float], template: str, want: str) -> None:
    rec = render(parse_expr(expr), Scripted(draws + [slot(template)]))
    assert rec["instruction"] == want
    assert rec["input"] == expr and check(rec) is None


def test_noise_and_template_frequencies() -> None:
    rng = random.Random(0)
    recs = [render(Problem("mul", 123, 45), rng) for _ in range(20000)]
    phrase = sum("the product of" in r["instruction"] for r in recs) / len(recs)
    words = sum(" times " in r["instruction"] or "multiplied by" in r["instruction"] for r in recs) / len(recs)
    bare = sum(r["instruction"] in {"123 * 45", "123*45", "123 x 45", "123x45"} for r in recs) / len(recs)
    assert 0.04 < phrase < 0.06 and 0.08 < words < 0.11 and 0.15 < bare < 0.20  # 20% bare x 0.855 symbol forms
    slots = goat.TEMPLATE_SLOTS
    assert len(slots) == 500 and slots.count(("", "")) == 100
    assert sum(t["weight"] for t in goat.TEMPLATES["templates"]) == 500


@pytest.mark.parametrize("rec,needle", [
    ({"instruction": "1+1", "input": "1 + 1", "output": "1 + 1 = 3", "answer": "2"}, "'1 + 1 = 3' is false"),
    ({"instruction": "1+1", "input": "1 + 1", "output": "1 + 1 = 3", "answer": "3"}, "'1 + 1 = 3' is false"),
    ({"instruction": "1+1", "input": "1 + 1", "output": "1 + 1 = 2", "answer": "3"}, "answer '3' is wrong"),
    ({"instruction": "7/2", "input": "7 / 2", "output": "7 / 2 = 3 R 2", "answer": "3 R 2"}, "exact: 3 R 1"),
    ({"instruction": "7/2", "input": "7 / 2", "output": "7 / 2 = 3 R 1", "answer": "3"}, "answer '3' is wrong"),
    ({"instruction": "7/2", "input": "7 / 2", "output": "7 / 2 = 3 R 1", "answer": "R 1"}, "answer 'R 1' is wrong"),
    ({"instruction": "9-12", "input": "9 - 12", "output": "9 - 12 = 3", "answer": "-3"}, "exact: -3"),
    ({"instruction": "5/0", "input": "5 / 0", "output": "5 / 0 = 0", "answer": "undefined"}, "is undefined"),
    ({"instruction": "5+5", "input": "5 + 5", "output": "5 + 6 = 11", "answer": "10"}, "restates '5 + 6'"),
    ({"instruction": "5+5", "input": "5+5", "output": "5+5 = 10", "answer": "10"}, "not a canonical"),
    ({"instruction": "2+2", "input": "5 + 5", "output": "5 + 5 = 10", "answer": "10"}, "does not mention"),
    ({"instruction": "5+5", "input": "5 + 5", "output": "5 + 5 = 10", "answer": "10", "op": "mul"}, "op 'mul'"),
    ({"instruction": "5+5", "input": "5 + 5", "output": "5 + 5 = 10"}, "'answer' is missing"),
])
def test_wrong_records_fail_naming_the_problem(rec: dict, needle: str) -> None:
    problem = check(rec)
    assert problem is not None and needle in problem, problem


def _corrupt(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("idx,old,new,needle", [
    (5, "= 100287649360 +", "= 100287649361 +", "'2507191234 * 40 = 100287649361' is false"),
    (6, "= 904371369440 +", "= 904371369441 +", "step 4"),
    (6, "(900 + 80 + 5)", "(900 + 85)", "step 1"),
    (6, "922827928 * 80 +", "922827928 * 70 +", "step 2"),
    (6, "= 908985509080", "= 908985509081", "step 5"),
    (14, "= 116270559\n", "= 116270558\n", "line 2"),
    (14, "72451 * 1000 = 116270559 - 72451000", "72451 * 1000 = 116270559 - 72451001", "'72451 * 1000 = 72451001' is false"),
    (14, "= 141604 R 59155", "= 141604 R 59154", "exact: 141604 R 59155"),
    (14, "72451 * 600 =", "72451 * 500 =", "line 4"),
    (14, "Therefore, 10259410559 / 72451", "Therefore, 10259410559 / 72452", "restates"),
])
def test_wrong_cot_step_fails_naming_the_step(idx: int, old: str, new: str, needle: str) -> None:
    rec = {"instruction": GOLDEN[idx]["input"], **GOLDEN[idx]}
    bad = {**rec, "output": _corrupt(rec["output"], old, new)}
    problem = check(bad)
    assert problem is not None and needle in problem, problem


def test_decompositions() -> None:
    assert place_values(4005) == [4000, 5] and place_values(985) == [900, 80, 5]
    assert sum(place_values(-90817)) == -90817
    assert [t for _, t, _, _ in division_steps(10259410559, 72451)] == [100000, 40000, 1000, 600, 4]


big = st.integers(min_value=-(10**100), max_value=10**100)
pos = st.integers(min_value=0, max_value=10**100)
ops = st.sampled_from(["add", "sub", "mul", "div"])


def _props(p: Problem, seed: int) -> None:
    rec = render(p, random.Random(seed))
    assert check(rec) is None, (rec, check(rec))
    # the step-by-step reader accepts the canonical output too (both check paths agree)
    assert _diagnose(rec["output"], p.op, p.a, p.b, rec["input"], rec["answer"], rec["answer"]) is None
    assert rec["answer"] == p.answer_text()
    assert parse(rec["output"]) == p.answer_text()
    assert parse(rec["instruction"] + "\nAnswer: " + rec["output"]) == p.answer_text()
    assert encode(rec) == dumps(rec) + "\n" and json.loads(encode(rec)) == rec


@settings(max_examples=300, deadline=None)
@given(ops, big, big, st.integers(0, 2**32))
def test_every_rendering_checks_and_parses_signed_100_digits(op: str, a: int, b: int, seed: int) -> None:
    _props(Problem(op, a, b), seed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["mul", "div"]), pos, st.integers(11, 10**12), st.integers(0, 2**32))
def test_every_cot_checks_and_parses(op: str, a: int, b: int, seed: int) -> None:
    p = Problem(op, a, b)
    out = goat_output(p)
    _props(p, seed)
    if op == "div" and a > b and a != b:
        assert out.count("\n") == len(place_values(a // b))  # one line per non-zero quotient digit


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["mul", "div"]), st.integers(10**5, 10**30), st.integers(11, 10**8), st.data())
def test_any_single_digit_change_in_a_cot_is_caught(op: str, a: int, b: int, data: st.DataObject) -> None:
    rec = render(Problem(op, a, b), random.Random(0))
    out = rec["output"]
    digits = [i for i, c in enumerate(out) if c.isdigit()]
    i = data.draw(st.sampled_from(digits))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != out[i]]))
    bad = {**rec, "output": out[:i] + new + out[i + 1:]}
    assert check(bad) is not None
