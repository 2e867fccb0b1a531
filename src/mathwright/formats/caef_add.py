"""ADD's CAEF step pairs in closed form: after j columns the output tape holds the low j digits of a + b, so
any step is rendered (and checked) from integer arithmetic alone, without stepping the machine.

- :func:`add_pairs` renders chosen step pairs, byte-identical to the stepped ``caef.step_pairs("ADD", ...)``
  at O(n) per step instead of O(n^2);
- :func:`add_pair_ok` verifies one (prompt, response) pair against configurations recomputed from the
  prompt's operands, an oracle independent of the machine's stepping and of :func:`add_pairs`.
"""
from __future__ import annotations

from functools import lru_cache

from mathwright.formats.caef_lines import HALT_LINE, dg
from mathwright.machines.executors import val

_ADD_Q0_CMD = "CMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n"


def add_pairs(a: str, b: str, idx: "list[int]") -> list[tuple[str, str]]:
    """ADD's step pairs ``idx`` (pair k: configuration k -> k + 1) on non-empty reversed digit strings,
    rendered straight from the closed form: after j columns the output holds the low j digits of a + b.

    Byte-identical to the stepped :func:`step_pairs`, but each step costs O(n) instead of the O(n^2) of
    stepping (and rendering) every configuration before it.

    >>> from mathwright.formats.caef import step_pairs  # the stepped machine
    >>> add_pairs("54", "76", [3]) == step_pairs("ADD", "54", "76")[3:4]
    True
    """
    la, lb = len(a), len(b)
    n = la if la > lb else lb
    s = str(val(a) + val(b)).zfill(n)[::-1]  # every digit ADD writes; a final carry makes it n + 1 long
    A, B, S = dg(a), dg(b), dg(s)
    last = 1 if len(s) > n else 0
    text: dict[int, str] = {}
    for i in {j for k in idx for j in (k, k + 1)}:
        j = i - 1  # columns done
        if i == 0:
            text[0] = _add_q0(A, B)
        elif j > n:
            text[i] = _add_halt(A, B, last, S)
        elif j == n:
            text[i] = _add_q1(j, last, None, A, B, la, lb, S)
        else:
            # the digit written at column j is s[j], so the carry into j is what makes the column sum match
            t = (int(a[j]) if j < la else 0) + (int(b[j]) if j < lb else 0)
            c = (int(s[j]) - t) % 10
            text[i] = _add_q1(j, c, t + c, A, B, la, lb, S)
    return [(text[k], text[k + 1]) for k in idx]


def _add_q0(A: str, B: str) -> str:
    return f"ADD, q0, [HEAD1] {A}[HEAD2] {B} [C] [OUTPUT]\n{_ADD_Q0_CMD}"


def _add_halt(A: str, B: str, c: int, S: str) -> str:
    return f"ADD, qH,  {A}[HEAD1] {B}[HEAD2] [C]{c} {S}\n{HALT_LINE}\n"


@lru_cache(maxsize=64)
def _add_truth(A: str, B: str) -> "tuple[str, str, int, int, int, int, int, str] | None":
    """(A, B, len a, len b, n, x, y, S) for the operand tapes A, B as rendered (``'|5|4'``), where x, y are the
    operands' values and S renders the digits of x + y; None unless A and B are exactly '|d' renderings
    of ASCII digits (no empty tape). Cached: the 7 records of one sequence share their operands."""
    a, b = A[1::2], B[1::2]
    # with ASCII digits at every odd position, as many bars as digits means a bar at every even position
    if not (a.isascii() and a.isdigit() and b.isascii() and b.isdigit()
            and 2 * A.count("|") == 2 * len(a) == len(A) and 2 * B.count("|") == 2 * len(b) == len(B)):
        return None
    x, y = int(a[::-1]), int(b[::-1])
    n = max(len(a), len(b))
    return A, B, len(a), len(b), n, x, y, dg(str(x + y).zfill(n)[::-1])


def _add_q1(j: int, c: int, col: int | None, A: str, B: str, la: int, lb: int, S: str) -> str:
    """Both lines of ADD's q1 configuration after j columns: carry ``c`` into column j, ``col`` = 10 x carry
    out + digit written at column j (None at j = n, where the machine halts next)."""
    h1, h2 = 2 * (j if j < la else la), 2 * (j if j < lb else lb)
    if col is None:
        cmd = f"CMD: [OUTPUT] {c}, [OUTPUT], [C], qH\n"
    else:
        cmd = (f"CMD: [C] {col // 10}, [OUTPUT] {col % 10}, [OUTPUT] RIGHT, "
               f"{'[HEAD1] RIGHT, ' if j < la else ''}{'[HEAD2] RIGHT, ' if j < lb else ''}q1\n")
    return f"ADD, q1,  {A[:h1]}[HEAD1]{A[h1:]} {B[:h2]}[HEAD2]{B[h2:]} [C]{c} {S[:2 * j]}[OUTPUT]\n{cmd}"


def _add_pair_text(k: int, A: str, B: str, la: int, lb: int, n: int, x: int, y: int,
                   S: str) -> tuple[str, str] | None:
    """ADD configurations k and k + 1, both lines each, from integer arithmetic alone: with
    ``L(j) = x mod 10^j + y mod 10^j`` (the low j columns of the operands), the carry into column j is
    ``L(j) // 10^j`` and ``L(j + 1) // 10^j`` is 10 x carry out + the digit written there; the output
    tape is the digits of x + y (rendered in ``S``). No digit loop, no stepping. None if k + 1 is past
    the halt."""
    if k == 0:
        return _add_q0(A, B), _add_q1(0, 0, x % 10 + y % 10, A, B, la, lb, S)
    j = k - 1
    if j < 0 or j > n:
        return None
    p = 10 ** j
    p1 = p * 10
    c, low1 = (x % p + y % p) // p, x % p1 + y % p1
    if j == n:
        return _add_q1(j, c, None, A, B, la, lb, S), _add_halt(A, B, c, S)
    first = _add_q1(j, c, low1 // p, A, B, la, lb, S)
    if j + 1 == n:
        return first, _add_q1(n, low1 // p1, None, A, B, la, lb, S)
    p2 = p1 * 10
    return first, _add_q1(j + 1, low1 // p1, (x % p2 + y % p2) // p1, A, B, la, lb, S)


def add_pair_ok(prompt: str, response: str) -> bool:
    """True only if (prompt, response) is exactly one ADD step: both are compared byte for byte with the
    configurations recomputed from the prompt's operands by integer arithmetic (:func:`_add_pair_text`), an
    oracle independent of the machine's stepping and of :func:`add_pairs`. False means "not shown here"
    (malformed, or a legal but unusual input such as an empty tape); :func:`mathwright.formats.caef.check` then decides.

    >>> [(p, r)] = add_pairs("54", "76", [2])
    >>> add_pair_ok(p, r), add_pair_ok(p, r.replace("[C]1", "[C]0"))
    (True, False)
    """
    line = prompt[:prompt.find("\n")]
    parts = line.split(" ")
    if len(parts) != 7:
        return False
    if line.startswith("ADD, q1,  "):  # the output tape is '|d' * j + '[OUTPUT]': k = j + 1
        truth = _add_truth(parts[3].replace("[HEAD1]", "", 1), parts[4].replace("[HEAD2]", "", 1))
        k = len(parts[6]) // 2 - 3
    elif line.startswith("ADD, q0, [HEAD1] "):
        truth, k = _add_truth(parts[3][:-7], parts[4]), 0
    else:
        return False  # a halted machine has no next step
    want = None if truth is None else _add_pair_text(k, *truth)
    return want is not None and prompt == want[0] and response == want[1]
