"""The Goat decompositions, defined once and used both to render and to check a chain of thought.

>>> place_values(985), place_values(4005), place_values(-120), place_values(0)
([900, 80, 5], [4000, 5], [-100, -20], [])
>>> division_steps(5697, 47)
[(5697, 100, 4700, 997), (997, 20, 940, 57), (57, 1, 47, 10)]
"""
from __future__ import annotations

from mathwright.arith.problem import euclid_divmod


def place_digits(n: int) -> list[tuple[int, int]]:
    """``(signed digit, exponent)`` of each non-zero digit of ``n``, most significant first:
    4005 -> [(4, 3), (5, 0)], -120 -> [(-1, 2), (-2, 1)]. The one definition of Goat's split."""
    s = str(n)
    sign = 1
    if s[0] == "-":
        s, sign = s[1:], -1
    k = len(s) - 1
    return [(sign * int(d), k - i) for i, d in enumerate(s) if d != "0"]


def place_values(n: int) -> list[int]:
    """The non-zero place values of ``n``, most significant first, each carrying the sign of ``n``."""
    return [d * 10**k for d, k in place_digits(n)]


def is_round(n: int) -> bool:
    """At most one non-zero digit (0, 7, 300, -9000): Goat answers products with such a factor directly."""
    s = str(abs(n)).rstrip("0")
    return len(s) <= 1


def division_steps(a: int, b: int) -> list[tuple[int, int, int, int]]:
    """Goat's modified slow division: one ``(left, term, b * term, new_left)`` per non-zero digit of the
    true (Euclidean) quotient, most significant first; the last ``new_left`` is the remainder."""
    q, _ = euclid_divmod(a, b)
    steps = []
    left = a
    for t in place_values(q):
        p = b * t
        steps.append((left, t, p, left - p))
        left -= p
    return steps


_ZEROS = ["0" * k for k in range(128)]
_POW10 = [10**k for k in range(128)]
_DIGIT = {str(d): d for d in range(10)}


def digit_places(n: int) -> list[tuple[int, str, str, int]]:
    """``(signed digit d, its text, k zeros, 10**k)`` for each non-zero digit of ``n``, most significant
    first: the split of :func:`place_digits` in the form the generator's hot path needs (``d * 10**k``
    is written as the digit's text followed by k zeros, products ``L * d * 10**k`` as ``str(L * d)``
    followed by k zeros).

    >>> digit_places(-405)
    [(-4, '-4', '00', 100), (-5, '-5', '', 1)]
    """
    s = str(n)
    neg = s[0] == "-"
    if neg:
        s = s[1:]
    top = len(s) - 1
    zeros, pows = (_ZEROS, _POW10) if top < 128 else (["0" * k for k in range(top + 1)], [10**k for k in range(top + 1)])
    if neg:
        return [(-_DIGIT[c], "-" + c, zeros[top - i], pows[top - i]) for i, c in enumerate(s) if c != "0"]
    return [(_DIGIT[c], c, zeros[top - i], pows[top - i]) for i, c in enumerate(s) if c != "0"]
