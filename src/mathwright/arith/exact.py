"""One exact, safe evaluator for calculator expressions, and the one rule for GSM8K calculator annotations
``<<expr=result>>``. Everything that evaluates an annotation or an expression a model wrote uses this module:
the GSM8K format check (``formats/gsm.py``), the PoT converter (``formats/pot.py``) and calculator decoding
(``solve/calculator.py``).

Safety: expressions are parsed by a tiny recursive-descent parser over ``Fraction`` -- never Python
``eval``. Only digits, ``. + - * / ( )`` and spaces are accepted (commas are stripped first, as upstream).
There is no power operator: ``**`` (and so ``9**9**9``) is a syntax error, which bounds the work done.
Size caps: expression length, digits per number, parenthesis depth and the size of every intermediate
result; a violation raises :class:`CalcError`.

>>> evaluate("16-3-4")
Fraction(9, 1)
>>> calc("96/3"), calc("12/60"), calc("1,600*2"), calc("10/4")
('32', '0.2', '3200', '2.5')
>>> calc("9**9**9")
Traceback (most recent call last):
...
mathwright.arith.exact.CalcError: unexpected '*' at position 2 in '9**9**9' (expected a number)

Annotations (Cobbe et al. 2021, ``grade_school_math/calculator.py``): the expression is the text after
``<<`` up to the first ``=`` (upstream's ``lhs = remaining.split("=")[0]``), the result everything after it
up to ``>>``. A written result is right when it equals the exact value, or is the exact value **rounded to
nearest** at the decimals it shows (upstream inserts Python's ``str(eval(lhs))``, a round-to-nearest float);
a truncated decimal (``<<2/3=0.66>>``) and a rounded integer (``<<7/2=4>>``) are wrong.

>>> [m.groups() for m in ANNOTATION.finditer("48/2 = <<48/2=24>>24, 10/3 = <<10/3=3.33>>3.33")]
[('48/2', '24'), ('10/3', '3.33')]
>>> result_matches(Fraction(10, 3), "3.33"), result_matches(Fraction(2, 3), "0.66"), result_matches(Fraction(7, 2), "4")
(True, False, False)
"""
from __future__ import annotations

import re
from fractions import Fraction

ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")  # <<expr=result>>: expr up to the first '='

MAX_EXPR_CHARS = 200     # longer left-hand sides are rejected outright
MAX_NUMBER_DIGITS = 30   # digits in one literal
MAX_DEPTH = 30           # nested parentheses / unary signs
MAX_RESULT_DIGITS = 60   # digits of numerator or denominator of any intermediate value
ALLOWED = set("0123456789.+-*/() ")


class CalcError(ValueError):
    """The expression is not allowed, malformed, too big, or divides by zero."""


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|'//') unary)* ;
    unary := ('+'|'-') unary | number | '(' expr ')'   ('//' only with ``floordiv``)"""

    def __init__(self, text: str, floordiv: bool = False) -> None:
        self.s = text
        self.i = 0
        self.depth = 0
        self.floordiv = floordiv

    def peek(self) -> str:
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        return self.s[self.i] if self.i < len(self.s) else ""

    def fail(self, what: str) -> CalcError:
        ch = self.peek()
        where = f"unexpected {ch!r} at position {self.i}" if ch else "unexpected end"
        return CalcError(f"{where} in {self.s!r}" + (f" ({what})" if what else ""))

    def parse(self) -> Fraction:
        v = self.expr()
        if self.peek():
            raise self.fail("")
        return v

    def expr(self) -> Fraction:
        v = self.term()
        while (op := self.peek()) in ("+", "-"):
            self.i += 1
            w = self.term()
            v = _check(v + w if op == "+" else v - w)
        return v

    def term(self) -> Fraction:
        v = self.unary()
        while (op := self.peek()) in ("*", "/"):
            self.i += 1
            if op == "/" and self.floordiv and self.s.startswith("/", self.i):
                self.i += 1
                op = "//"
            w = self.unary()
            if op == "*":
                v = _check(v * w)
            else:
                if w == 0:
                    raise CalcError(f"division by zero in {self.s!r}")
                v = _check(Fraction(v // w) if op == "//" else v / w)
        return v

    def unary(self) -> Fraction:
        ch = self.peek()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CalcError(f"nesting deeper than {MAX_DEPTH} in {self.s[:40]!r}...")
        try:
            if ch in ("+", "-"):
                self.i += 1
                v = self.unary()
                return -v if ch == "-" else v
            if ch == "(":
                self.i += 1
                v = self.expr()
                if self.peek() != ")":
                    raise self.fail("missing ')'")
                self.i += 1
                return v
            return self.number()
        finally:
            self.depth -= 1

    def number(self) -> Fraction:
        m = re.compile(r"\d+(?:\.\d*)?|\.\d+").match(self.s, self.i)
        if not m:
            raise self.fail("expected a number")
        lit = m.group()
        if sum(c.isdigit() for c in lit) > MAX_NUMBER_DIGITS:
            raise CalcError(f"number with more than {MAX_NUMBER_DIGITS} digits in {self.s[:40]!r}...")
        self.i = m.end()
        return Fraction(lit.rstrip(".") or "0")


def _check(v: Fraction) -> Fraction:
    # Bit length is a cheap bound on digit count (log10(2) ~ 0.301).
    if max(v.numerator.bit_length(), v.denominator.bit_length()) * 0.30103 > MAX_RESULT_DIGITS:
        raise CalcError(f"intermediate result larger than {MAX_RESULT_DIGITS} digits")
    return v


def evaluate(expr: str, *, floordiv: bool = False) -> Fraction:
    """Evaluate an arithmetic expression exactly (commas stripped); raise :class:`CalcError` if not allowed.

    ``floordiv``: also accept Python's ``//`` (floor division), as the reference calculator's ``eval`` does
    (two GSM8K train annotations use it); decoding leaves it off, so a model's ``//`` is not evaluated.

    >>> evaluate("560//10", floordiv=True), evaluate("-7//2", floordiv=True)
    (Fraction(56, 1), Fraction(-4, 1))
    """
    if len(expr) > MAX_EXPR_CHARS:
        raise CalcError(f"expression longer than {MAX_EXPR_CHARS} characters")
    text = expr.replace(",", "").strip()
    bad = set(text) - ALLOWED
    if bad:
        raise CalcError(f"characters not allowed: {''.join(sorted(bad))!r} in {text[:40]!r}")
    if not text:
        raise CalcError("empty expression")
    return _Parser(text, floordiv).parse()


def format_number(v: Fraction) -> str:
    """Exact text of a value: integers without ``.0``, terminating decimals in full, else ``p/q``.

    >>> format_number(Fraction(32)), format_number(Fraction(-1, 8)), format_number(Fraction(10, 3))
    ('32', '-0.125', '10/3')
    """
    if v.denominator == 1:
        return str(v.numerator)
    d, twos, fives = v.denominator, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:  # repeating decimal: keep it exact rather than rounding
        return f"{v.numerator}/{v.denominator}"
    places = max(twos, fives)
    scaled = abs(v.numerator) * 10**places // v.denominator
    s = str(scaled).rjust(places + 1, "0")
    out = (s[:-places] + "." + s[-places:]).rstrip("0").rstrip(".")
    return ("-" if v < 0 else "") + out


def calc(expr: str) -> str:
    """Evaluate and format: the text the calculator inserts before ``>>``."""
    return format_number(evaluate(expr))


def to_fraction(text: str) -> Fraction | None:
    """A number written as text (``'1,600'``, ``'$18.00'``, ``'-3'``, ``'3/4'``; a trailing ``%`` is dropped) or None."""
    t = text.strip().replace(",", "").replace("$", "").rstrip(".").rstrip("%").strip()
    try:
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None


def result_matches(exact: Fraction, written: str) -> bool:
    """The annotation rule (module docstring): ``written`` equals ``exact``, or is ``exact`` rounded to
    nearest at the decimals ``written`` shows (at least one: an integer must be exact)."""
    shown = to_fraction(written)
    if shown is None:
        return False
    if exact == shown:
        return True
    decimals = len(written.split(".")[1]) if "." in written else 0
    return decimals > 0 and abs(exact - shown) <= Fraction(1, 2 * 10**decimals)
