"""Reference scorers kept for comparability: lm-evaluation-harness GSM8K (strict and flexible), MAmmoTH v1's
own answer cleaning and comparison (``compat``), and mathwright's ``lenient`` MATH score (mammoth.md §4, §7).
The corrected scorer is :mod:`mathwright.eval.grading`; ``docs/mammoth-protocol.md`` lists where it departs.

>>> lm_eval_strict("Natalia sold 48/2 = 24 clips.\\n#### 72"), lm_eval_flexible("so 48 + 24 = 72 clips.")
('72', '72')
>>> lm_eval_match(lm_eval_strict("The answer is 1,080."), "... #### 1080")
True
>>> mammoth_score("math", "The answer is 2.4", "2"), mammoth_score("math", "The answer is $\\\\frac{1}{2}$.", "0.5")
(('2.4', True), ('$\\\\frac{1}{2}$', False))
>>> lenient_math_equal("2.4", "2"), lenient_math_equal("0.68", "\\\\frac{2}{3}"), lenient_math_equal("0.7", "2/3")
(True, True, False)
"""
from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections import Counter
from typing import Any

from mathwright.eval.grading import norm_expr

INVALID = "[invalid]"
STRICT_HASH = re.compile(r"#### (\-?[0-9\.\,]+)")
STRICT_COT = re.compile(r"The answer is (\-?[0-9\.\,]+).")
FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def lm_eval_strict(text: str) -> str:
    """lm-eval ``strict-match``: the first ``#### N`` (gsm8k task), else the first ``The answer is N.``
    (gsm8k_cot task); ``[invalid]`` when neither occurs."""
    for pat in (STRICT_HASH, STRICT_COT):
        m = pat.search(text)
        if m:
            return m.group(1)
    return INVALID


def lm_eval_flexible(text: str) -> str:
    """lm-eval ``flexible-extract``: the last match of ``(-?[$0-9.,]{2,})|(-?[0-9]+)`` (group_select -1)."""
    ms = FLEXIBLE.findall(text)
    if not ms:
        return INVALID
    a, b = ms[-1]
    return a or b


def _lm_norm(s: str) -> str:
    # regexes_to_ignore: ",", "\$", "(?s).*#### ", "\.$"; then ignore_case
    s = s.replace(",", "").replace("$", "")
    s = re.sub(r"(?s).*#### ", "", s)
    s = re.sub(r"\.$", "", s)
    return s.strip().lower()


def lm_eval_match(pred: str, target: str) -> bool:
    """lm-eval ``exact_match`` (ignore_case, ignoring ``,`` ``$`` ``.*#### `` and a trailing ``.``).
    ``target`` is the full GSM8K answer or the bare number."""
    return pred != INVALID and _lm_norm(pred) == _lm_norm(target)


# ================================================================ MAmmoTH v1 (math_eval/utils.py), defects kept
# Each function below reproduces one function of MAmmoTH's utils.py, step for step, so that the verdicts are
# MAmmoTH's; tests/test_mammoth_protocol.py pins them on a case table worked out from that code.
MAMMOTH_TRIGGERS = ("####", "The answer is")
MAMMOTH_CHOICE_SETS = ("aqua", "sat", "mmlu_mathematics")
MAMMOTH_NUMBER_SETS = ("gsm8k", "gsm8k_train", "svamp", "deepmind", "simuleq")
MAMMOTH_SETS = MAMMOTH_CHOICE_SETS + MAMMOTH_NUMBER_SETS + ("numglue", "math")


def delete_extra_zero(n: str) -> str:
    """``18.00`` -> ``18``, ``3/4`` stays (not a float), ``1e16``-sized values keep Python's float text."""
    try:
        v = float(n)
    except ValueError:
        return n
    s = str(v).rstrip("0")
    return str(int(s.rstrip("."))) if s.endswith(".") else str(float(s))


def _fix_fracs(string: str) -> str:
    substrs = string.split("\\frac")
    new_str = substrs[0]
    for substr in substrs[1:]:
        new_str += "\\frac"
        if not substr:
            continue
        if substr[0] == "{":
            new_str += substr
            continue
        if len(substr) < 2:
            return string  # MAmmoTH gives up and returns its input
        a, b, post = substr[0], substr[1], substr[2:]
        new_str += ("{" + a + "}{" + b + "}" + post) if b != "{" else ("{" + a + "}" + b + post)
    return new_str


def _fix_a_slash_b(string: str) -> str:
    parts = string.split("/")
    if len(parts) != 2:
        return string
    try:
        a, b = int(parts[0]), int(parts[1])
    except ValueError:
        return string
    return "\\frac{" + str(a) + "}{" + str(b) + "}" if string == f"{a}/{b}" else string


def _fix_sqrt(string: str) -> str:
    if "\\sqrt" not in string:
        return string
    splits = string.split("\\sqrt")
    out = splits[0]
    for split in splits[1:]:
        out += "\\sqrt{" + split[0] + "}" + split[1:] if split and split[0] != "{" else "\\sqrt" + split
    return out


def mammoth_strip_string(string: str) -> str:
    """MAmmoTH's ``_strip_string`` (Hendrycks' MATH normalisation): note it keeps a bare ``$`` and ``%``."""
    string = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "")
    if "\\text{ " in string:  # units on the right
        string = string.split("\\text{ ")[0]
    string = string.replace("\\%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    halves = string.split("=")
    if len(halves) == 2 and len(halves[0]) <= 2:  # "k = 5" -> " 5"
        string = halves[1]
    string = _fix_sqrt(string).replace(" ", "")
    return _fix_a_slash_b(_fix_fracs(string))


def _after_boxed(s: str) -> str:
    """What follows the last ``boxed``: its balanced ``{...}`` content (to the end if unclosed), else the
    text up to a ``$``; then :func:`mammoth_strip_string`."""
    ans = s.split("boxed")[-1]
    if not ans:
        return ""
    if ans[0] == "{":
        depth, a = 1, ""
        for c in ans[1:]:
            depth += (c == "{") - (c == "}")
            if depth == 0:
                break
            a += c
    else:
        a = ans.split("$")[0].strip()
    return mammoth_strip_string(a)


def mammoth_math_answer(text: str) -> str:
    """MAmmoTH's ``extract_math_answer``: everything after the last ``The answer is `` (else ``the answer
    is ``), else the last ``boxed``, else the last number; a trailing ``.`` and ``/`` cut; normalised."""
    if "The answer is " in text:
        pred = text.split("The answer is ")[-1].strip()
    elif "the answer is " in text:
        pred = text.split("the answer is ")[-1].strip()
    elif "boxed" in text:
        pred = _after_boxed(text)
    else:
        nums = re.findall(r"-?\d*\.?\d+", text)
        pred = nums[-1] if nums else ""
    if pred.endswith("."):
        pred = pred[:-1]
    if pred.endswith("/"):
        pred = pred[:-1]
    pred = mammoth_strip_string(pred)
    return _after_boxed(pred) if "boxed" in pred else pred


def mammoth_answer_clean(dataset: str, text: str) -> str:
    """MAmmoTH's ``answer_clean`` with the triggers ``####`` / ``The answer is``: the segment after the last
    trigger (the text before the first blank line when a trigger repeats), what follows its last ``=``,
    then the **first** candidate when a trigger was found, else the last; letters come from the upper-cased
    text with bare word boundaries, so the article "a" is choice A."""
    if dataset == "math":
        return mammoth_math_answer(text) if text else text
    if any(text.count(t) > 1 for t in MAMMOTH_TRIGGERS):
        text = text.split("\n\n")[0]
    parts = re.split("|".join(MAMMOTH_TRIGGERS), text)
    found, pred = len(parts) > 1, parts[-1]
    if "=" in pred:
        pred = pred.split("=")[-1].strip()
    letters = re.findall(r"\b(A|B|C|D|E)\b", pred.upper())
    if dataset in MAMMOTH_CHOICE_SETS:
        cands = letters or [pred.strip().strip(".")]
    elif dataset in MAMMOTH_NUMBER_SETS or dataset == "numglue":
        cands = (letters if dataset == "numglue" else []) or \
            [delete_extra_zero(s) for s in re.findall(r"-?\d+/?\.?\d*", pred.replace(",", ""))]
    else:
        raise ValueError(f"MAmmoTH has no scorer for {dataset!r} (its sets: {', '.join(MAMMOTH_SETS)})")
    pred = (cands[0] if found else cands[-1]) if cands else ""
    if pred.endswith("."):
        pred = pred[:-1]
    if pred.endswith("/"):
        pred = pred[:-1]
    return pred


# ---------------------------------------------------------------- MAmmoTH's number_it, without eval()
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitXor: operator.xor, ast.BitOr: operator.or_, ast.BitAnd: operator.and_,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.MatMult: operator.matmul}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert, ast.Not: operator.not_}
_CMPS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
         ast.Eq: operator.eq, ast.NotEq: operator.ne}
_BUILTINS = {"abs": abs, "min": min, "max": max, "round": round, "int": int, "float": float, "pow": pow}
MAX_BITS = 4096  # a power / shift past this is refused (MAmmoTH's float() of it would overflow to None too)


class _Refused(Exception):
    """An expression MAmmoTH's ``eval`` would run but this evaluator does not (names, calls, huge powers)."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, complex))


def _check_power(a: Any, b: Any) -> None:
    if isinstance(b, (int, float)) and b > 0 and isinstance(a, (int, float)) and abs(a) > 1 \
            and b * max(1.0, math.log2(abs(a))) > MAX_BITS:
        raise _Refused("too large")


def _ev(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _ev(node.body)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return (tuple if isinstance(node, ast.Tuple) else list)(_ev(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_ev(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _ev(node.left), _ev(node.right)
        if not (_is_number(a) and _is_number(b)):
            raise _Refused("arithmetic on a non-number")  # "'5' * 10**9" would fill the memory
        if isinstance(node.op, (ast.Pow, ast.LShift)):
            _check_power(a, b)
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.Compare) and all(type(o) in _CMPS for o in node.ops):
        left, ok = _ev(node.left), True
        for op, c in zip(node.ops, node.comparators):
            right = _ev(c)
            ok, left = ok and _CMPS[type(op)](left, right), right
        return ok
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
        return getattr(math, node.attr)  # utils.py imports math, so eval sees math.pi, math.sqrt, ...
    if isinstance(node, ast.Name) and node.id in _BUILTINS:
        return _BUILTINS[node.id]
    if isinstance(node, ast.Call) and not node.keywords:
        f, args = _ev(node.func), [_ev(a) for a in node.args]
        if f in (math.factorial, math.comb, math.perm):
            raise _Refused("unbounded")
        if f is pow and len(args) == 2:
            _check_power(*args)
        return f(*args)
    raise _Refused(type(node).__name__)


def py_eval(expr: str) -> Any:
    """Python's ``eval`` of a model's answer, as MAmmoTH calls it, for literals, arithmetic (``^`` is XOR,
    as in Python), tuples, lists, comparisons, ``math.*`` and a few builtins. Anything else (other names,
    attribute access, huge powers) raises, where MAmmoTH would run it: the one place compat departs."""
    with warnings.catch_warnings():  # "1.2.3" and the like warn while they fail to parse
        warnings.simplefilter("ignore")
        tree = ast.parse(expr.lstrip(" \t"), mode="eval")
    return _ev(tree)


def floatify(x: Any) -> int | float | None:
    """MAmmoTH's ``floatify``: ``float(x)``, as an int when whole; None when ``float`` fails."""
    try:
        v = float(x)
    except Exception:  # noqa: BLE001 - float() of anything; MAmmoTH catches all
        return None
    return round(v) if v.is_integer() else v


def number_it(num: str) -> int | float | None:
    """MAmmoTH's ``number_it``: ``\\frac{a}{b}`` -> ``a/b`` evaluated, commas dropped (only without a
    ``frac``), then ``float``, else ``eval`` (first element of a tuple or list), else None."""
    if "frac" in num:
        num = re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", r"\1/\2", num)
        try:
            num = str(py_eval(num))
        except Exception:  # noqa: BLE001 - MAmmoTH keeps the text when eval fails
            pass
    elif "," in num:
        num = num.replace(",", "")
    v = floatify(num)
    if v is not None:
        return v
    try:
        val = py_eval(num)
        if isinstance(val, (list, tuple)):
            val = val[0]
        return floatify(val)
    except Exception:  # noqa: BLE001
        return None


def compare_two_numbers(p: Any, gt: Any) -> bool:
    """MAmmoTH: an integer gold matches ``round(p)`` (banker's rounding: 2.5 -> 2); any other gold matches
    within 4% of itself."""
    try:
        if math.isnan(p):
            return False
        if isinstance(gt, int):
            return round(p) == gt
        eps = abs(gt) * 0.04
        return gt - eps <= p <= gt + eps
    except Exception:  # noqa: BLE001
        return False


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()  # "no numeric gold given": use number_it(gold) (None means the gold has no number)


def mammoth_math_equal(answer: str, gt_str: str, gt_num: Any = UNKNOWN) -> bool:
    """MAmmoTH's ``compare_both_string_and_number_format``: the same string, else the numeric check against
    ``gt_num`` (the data's ``answer_num``; when not given, ``number_it(gt_str)``, which agrees with the
    local file's ``answer_num`` on 4912 of 5000 golds)."""
    if answer == gt_str:
        return True
    if gt_num is UNKNOWN:
        gt_num = number_it(gt_str)
    p = number_it(answer)
    return gt_num is not None and p is not None and compare_two_numbers(p, gt_num)


def mammoth_gold(dataset: str, gold: str) -> str:
    """The gold text as MAmmoTH's data loader builds it from mathwright's gold (GSM8K and SVAMP go through
    ``delete_extra_zero``; the other sets use ``str(answer)``, which mathwright's gold already is)."""
    return delete_extra_zero(gold) if dataset in ("gsm8k", "gsm8k_train", "svamp") else gold


def mammoth_correct(dataset: str, answer: str, gold: str, gold_num: Any = UNKNOWN) -> bool:
    """MAmmoTH's comparison of a cleaned answer with the gold: ``==`` on strings (``run_open.py``,
    ``run_choice.py``); for MATH ``compare_both_string_and_number_format`` with ``gold_num``."""
    if dataset == "math":
        return mammoth_math_equal(answer, gold, gold_num)
    return answer == mammoth_gold(dataset, gold)


def mammoth_score(dataset: str, text: str, gold: str, gold_num: Any = UNKNOWN) -> tuple[str, bool]:
    """``(MAmmoTH's answer, MAmmoTH's verdict)`` for one output: ``answer_clean``, then
    :func:`mammoth_correct`. A multiple-choice answer that is not a letter is wrong here; MAmmoTH would ask
    the model for "the closest option" (not reproducible without the model)."""
    ans = mammoth_answer_clean(dataset, text)
    return ans, mammoth_correct(dataset, ans, gold, gold_num)


def mammoth_vote(answers: list[str]) -> str:
    """``run_open_sc.py``'s self-consistency pick: the most common cleaned answer, the empty answer
    included (it can win the vote); ties go to the answer seen first (``Counter.most_common``)."""
    return Counter(answers).most_common(1)[0][0]


def mammoth_program_text(stdout: str, ok: bool) -> str:
    """What MAmmoTH scores for a program: ``"The answer is " + stdout`` (newlines at the ends stripped);
    a failed or timed-out run contributes an empty stdout."""
    return "The answer is " + (stdout.strip("\n") if ok else "")


def mammoth_reachable(gold: str) -> bool:
    """Can any output make MAmmoTH's exact-string number scorer match ``gold``? (DeepMind: 861 of 1000.)"""
    return bool(re.fullmatch(r"-?\d+/?\.?\d*", gold)) and delete_extra_zero(gold) == gold


# ---------------------------------------------------------------- mathwright's lenient MATH score
def lenient_math_equal(pred: str, gold: str) -> bool:
    """MAmmoTH's numeric leniency applied to *mathwright's* extracted answer: an integer gold matches
    ``round(pred)``, any other numeric gold matches within 4%. ``lenient`` = strict correct or this; it is
    more lenient than MAmmoTH (mathwright's extraction and equivalence come first), so it is not MAmmoTH's
    score (that is ``mammoth``)."""
    p, g = norm_expr(pred), norm_expr(gold)
    if p == g:
        return True
    gv, pv = number_it(mammoth_strip_string(g)), number_it(mammoth_strip_string(p))
    return gv is not None and pv is not None and compare_two_numbers(pv, gv)
