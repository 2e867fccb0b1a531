"""Reference scorers kept for comparability: lm-evaluation-harness GSM8K (strict and flexible) and the
MAmmoTH-lenient MATH check (mammoth.md §4 and §7). The corrected scorer is :mod:`mathwright.eval.grading`.

>>> lm_eval_strict("Natalia sold 48/2 = 24 clips.\\n#### 72"), lm_eval_flexible("so 48 + 24 = 72 clips.")
('72', '72')
>>> lm_eval_match(lm_eval_strict("The answer is 1,080."), "... #### 1080")
True
>>> mammoth_math_equal("2.4", "2"), mammoth_math_equal("0.68", "\\\\frac{2}{3}"), mammoth_math_equal("0.7", "2/3")
(True, True, False)
"""
from __future__ import annotations

import re

from mathwright.eval.grading import norm_expr, parse_number

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


def mammoth_math_equal(pred: str, gold: str) -> bool:
    """MAmmoTH's lenient MATH check: equal normalised strings, else an integer gold matches ``round(pred)``
    and any other gold matches within 4% relative."""
    p, g = norm_expr(pred), norm_expr(gold)
    if p == g:
        return True
    pv, gv = parse_number(p.replace("\\frac{", "").replace("}{", "/").rstrip("}")), parse_number(
        g.replace("\\frac{", "").replace("}{", "/").rstrip("}"))
    if pv is None or gv is None:
        return False
    pf, gf = float(pv[0]), float(gv[0])
    if gv[0].denominator == 1:
        return round(pf) == gf
    return abs(pf - gf) <= 0.04 * abs(gf)


# ---------------------------------------------------------------- MAmmoTH v1, defects included (§4)
MAMMOTH_TRIGGER = re.compile(r"####|The answer is")


def _mammoth_number(tok: str) -> str:
    tok = tok.rstrip("./")
    if "/" in tok:
        return tok
    try:
        v = float(tok)
    except ValueError:
        return tok
    return str(int(v)) if v.is_integer() else str(v).rstrip("0")


def mammoth_extract(text: str, kind: str = "number") -> str:
    """MAmmoTH v1's answer cleaning, defects included (compat scorer): the first candidate after the
    trigger, the letter regex on upper-cased text, exact strings.

    >>> mammoth_extract("The answer is a total of 12", "choice"), mammoth_extract("The answer is 4 and 6")
    ('A', '4')
    >>> mammoth_extract("The answer is $1,234.50"), mammoth_extract("The answer is (B).", "choice")
    ('1234.5', 'B')
    """
    if len(MAMMOTH_TRIGGER.findall(text)) > 1:
        text = text.split("\n\n")[0]
    parts = MAMMOTH_TRIGGER.split(text)
    flag = len(parts) > 1
    seg = parts[1] if flag else parts[-1]
    if "=" in seg:
        seg = seg.split("=")[-1]
    if kind == "choice":
        cands = re.findall(r"\b(A|B|C|D|E)\b", seg.upper())
    else:
        cands = [_mammoth_number(t) for t in re.findall(r"-?\d+/?\.?\d*", seg.replace(",", ""))]
    if not cands:
        return ""
    return cands[0] if flag else cands[-1]


def mammoth_reachable(gold: str) -> bool:
    """Can any output make MAmmoTH's exact-string number scorer match ``gold``? (DeepMind: 861 of 1000.)"""
    return bool(re.fullmatch(r"-?\d+/?\.?\d*", gold)) and _mammoth_number(gold) == gold
